"""``gradlab train --model transformer --text FILE``: a tiny run, ``gradlab sample`` and ``gradlab export`` of it,
``--resume`` giving the same weights as an uninterrupted run, and bad flags exiting 2 with one line naming them."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

import gradlab
from gradlab.cli import main
from gradlab.models import CharTransformer
from gradlab.train.charlm import load_charlm, sample_run, train_charlm

TEXT = "In the beginning God created the heaven and the earth. And the earth was without form, and void.\n" * 12
TINY = ["--model", "transformer", "--d-model", "16", "--heads", "2", "--layers", "1", "--ff-dim", "24",
        "--context", "16", "--batch-size", "16", "--no-progress"]


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "t.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(text_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("tf") / "run"
    assert main(["train", *TINY, "--text", str(text_file), "--epochs", "2", "--out", str(out)]) == 0
    return out


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_tiny_run_writes_a_transformer_run_folder(run):
    for name in ("config.json", "vocab.json", "weights.safetensors", "history.json", "curves.png", "results.json"):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "transformer" and config["seq_len"] == 16 and config["clip_grad_norm"] == 5.0
    kw = config["model_kwargs"]
    assert kw == {"vocab_size": kw["vocab_size"], "d_model": 16, "nhead": 2, "num_layers": 1, "dim_feedforward": 24,
                  "context": 16, "dropout": 0.0, "positional": "learned", "norm_first": True, "tie_weights": False}
    model, vocab, _ = load_charlm(run)
    assert isinstance(model, CharTransformer) and len(vocab) == kw["vocab_size"]
    val = json.loads((run / "history.json").read_text())["history"]["val_loss"]
    assert len(val) == 2 and val[1] < val[0]


def test_the_cli_prints_the_validation_loss_and_a_sample(text_file, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", *TINY, "--text", str(text_file), "--epochs", "1", "--positional", "sinusoidal",
                 "--tie-weights", "--no-norm-first", "--seq-len", "12", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "validation loss:" in printed and "nats/char" in printed and "sample: " in printed
    config = json.loads((out / "config.json").read_text())
    kw = config["model_kwargs"]
    assert config["seq_len"] == 12 and kw["context"] == 16
    assert (kw["positional"], kw["tie_weights"], kw["norm_first"]) == ("sinusoidal", True, False)
    model, _, _ = load_charlm(out)
    assert model.head.weight is model.tok.weight and model.positional == "sinusoidal"


def test_sample_a_transformer_run(run, capsys):
    long_prompt = "In the beginning God created the heaven"  # longer than the context (16): its tail is read
    assert main(["sample", str(run), "--prompt", long_prompt, "--length", "40", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert text == sample_run(run, long_prompt, 40, 0.8, seed=3) + "\n"
    assert text.startswith(long_prompt) and len(text.rstrip("\n")) == len(long_prompt) + 40
    assert main(["sample", str(run), "--length", "5", "--top-k", "1", "--seed", "0"]) == 0
    assert len(capsys.readouterr().out.rstrip("\n")) == 5


def test_resume_gives_the_weights_of_an_uninterrupted_run(text_file, tmp_path, capsys):
    argv = ["train", *TINY, "--text", str(text_file)]
    assert main([*argv, "--epochs", "3", "--out", str(tmp_path / "ref")]) == 0
    assert main([*argv, "--epochs", "1", "--out", str(tmp_path / "two")]) == 0
    assert main([*argv, "--epochs", "3", "--out", str(tmp_path / "two"), "--resume"]) == 0
    assert _sha(tmp_path / "two" / "weights.safetensors") == _sha(tmp_path / "ref" / "weights.safetensors")


@pytest.mark.parametrize(("extra", "fragment"), [
    (["--d-model", "30", "--heads", "4"], "--d-model 30 must be divisible by --heads 4"),
    (["--heads", "0"], "--heads must be >= 1, got 0"),
    (["--layers", "x"], "--layers must be an integer, got 'x'"),
    (["--ff-dim", "0"], "--ff-dim must be >= 1"),
    (["--context", "-3"], "--context must be >= 1"),
    (["--context", "8", "--seq-len", "20"], "--seq-len 20 is longer than --context 8"),
    (["--positional", "rotary"], "--positional: invalid choice: 'rotary'"),
    (["--hidden", "16"], "--hidden is not an option of --model transformer"),
    (["--embedding-dim", "8"], "--embedding-dim is not an option of --model transformer"),
])
def test_bad_flags_exit_2_naming_the_flag(text_file, tmp_path, capsys, extra, fragment):
    out = tmp_path / "never"
    assert main(["train", "--model", "transformer", "--text", str(text_file), *extra, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and lines[0].startswith("gradlab train: error:"), captured.err
    assert not out.exists()


def test_transformer_flags_are_refused_for_other_models(text_file, tmp_path, capsys):
    assert main(["train", "--model", "charlstm", "--text", str(text_file), "--d-model", "16",
                 "--out", str(tmp_path / "x")]) == 2
    assert "--d-model is not an option of --model charlstm" in capsys.readouterr().err
    assert main(["train", "--model", "transformer", "--out", str(tmp_path / "x")]) == 2
    assert "--model transformer needs --text FILE" in capsys.readouterr().err
    assert main(["train", "--model", "mlp", "--text", str(text_file), "--out", str(tmp_path / "x")]) == 2
    assert "use it with --model charlstm or transformer" in capsys.readouterr().err


def test_train_charlm_checks_the_model_before_touching_the_folder(text_file, tmp_path):
    out = tmp_path / "x"
    with pytest.raises(ValueError, match="must be divisible by nhead"):
        train_charlm(text_file, out, model="transformer", model_kwargs={"d_model": 10, "nhead": 4}, log=None)
    with pytest.raises(ValueError, match="context .8. is shorter than seq_len .16."):
        train_charlm(text_file, out, seq_len=16, model="transformer", model_kwargs={"context": 8}, log=None)
    with pytest.raises(ValueError, match="model must be one of"):
        train_charlm(text_file, out, model="mlp", log=None)
    assert not out.exists()


def test_export_a_transformer_run_to_onnx(run, tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install gradlab[onnx])")
    path = tmp_path / "tf.onnx"
    assert main(["export", str(run), "--onnx", str(path)]) == 0
    assert "wrote" in capsys.readouterr().out
    model, _, _ = load_charlm(run)
    ids = np.random.default_rng(0).integers(0, model.vocab_size, (3, 16)).astype(np.int64)
    got = ort.InferenceSession(str(path)).run(None, {"input": ids})[0]
    with gradlab.no_grad():
        want = model(gradlab.from_numpy(ids)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_the_cli_and_the_engine_agree_on_the_text_models():
    from gradlab.cli._charlm import TEXT_MODELS as CLI_TEXT_MODELS
    from gradlab.train.charlm import TEXT_MODELS

    assert CLI_TEXT_MODELS == TEXT_MODELS  # the CLI keeps its own copy so that it imports no training code
