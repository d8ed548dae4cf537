"""Recurrent models (sequence classifier, CharLSTM), the character dataset and vocabulary, sampling, and the
``gradlab train --model charlstm`` / ``gradlab sample`` commands."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradlab
from gradlab import nn, optim
from gradlab.cli import main
from gradlab.data.text import CharDataset, Vocab, char_datasets, load_text, split_text
from gradlab.models import CharLSTM, SequenceClassifier, build_model, list_models, sample
from gradlab.train.charlm import load_charlm, sample_run, train_charlm
from tests.helpers import assert_close

TEXT = ("In the beginning God created the heaven and the earth. And the earth was without form, and void; "
        "and darkness was upon the face of the deep.\n") * 12


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


# ---- registry and the sequence classifier ------------------------------------------------------------------------
def test_registered_models():
    assert {"lstm", "gru", "charlstm"} <= set(list_models())
    m = build_model("lstm", num_classes=10)
    assert isinstance(m, SequenceClassifier) and isinstance(m.rnn, nn.LSTM) and m.rnn.hidden_size == 128
    assert m(gradlab.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert isinstance(build_model("gru", hidden_size=8).rnn, nn.GRU)
    lm = build_model("charlstm", vocab_size=30)
    assert lm.lstm.num_layers == 2 and lm.lstm.hidden_size == 256 and lm.head.out_features == 30


@pytest.mark.parametrize("bidirectional", [False, True])
def test_sequence_classifier_matches_torch(torch, bidirectional):
    g = SequenceClassifier(num_classes=3, input_size=5, hidden_size=4, num_layers=2, bidirectional=bidirectional)
    t_rnn = torch.nn.LSTM(5, 4, num_layers=2, batch_first=True, bidirectional=bidirectional)
    t_fc = torch.nn.Linear(8 if bidirectional else 4, 3)
    state = {**{f"rnn.{k}": v for k, v in t_rnn.state_dict().items()}, **{f"fc.{k}": v for k, v in
                                                                          t_fc.state_dict().items()}}
    g.load_state_dict({k: v.numpy() for k, v in state.items()})
    x = np.random.default_rng(0).standard_normal((3, 6, 5)).astype(np.float32)
    _, (h_n, _) = t_rnn(torch.from_numpy(x))
    last = torch.cat([h_n[-2], h_n[-1]], 1) if bidirectional else h_n[-1]
    assert_close(g(gradlab.from_numpy(x)), t_fc(last), rtol=1e-5, atol=1e-6)


def test_sequence_classifier_reads_images_row_by_row():
    m = SequenceClassifier(input_size=12, hidden_size=4)  # 3 channels x 4 columns per row
    img = gradlab.randn(2, 3, 5, 4)
    seq = img.permute(0, 2, 1, 3).reshape(2, 5, 12)
    assert_close(m(img), m(seq))
    with pytest.raises(ValueError, match="expects"):
        m(gradlab.zeros(2, 12))


def test_sequence_classifier_learns_to_remember():
    """Label = sign of the first element of a 12-step sequence: the answer must be carried to the last step."""
    gradlab.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 12, 1)).astype(np.float32)
    y = (x[:, 0, 0] > 0).astype(np.int64)
    model = SequenceClassifier(num_classes=2, input_size=1, hidden_size=16)
    opt = optim.Adam(model.parameters(), lr=0.02)
    xt, yt = gradlab.from_numpy(x), gradlab.from_numpy(y)
    for _ in range(60):
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(xt), yt).backward()
        opt.step()
    acc = float((model(xt).detach().numpy().argmax(1) == y).mean())
    assert acc > 0.9


# ---- vocabulary and dataset ---------------------------------------------------------------------------------
def test_vocab_round_trip(tmp_path):
    v = Vocab.from_text("naïve café\n")
    assert v.chars == sorted(set("naïve café\n")) and len(v) == 10
    ids = v.encode("café naïve")
    assert ids.dtype == np.int64 and v.decode(ids) == "café naïve"
    v.save(tmp_path / "vocab.json")
    assert Vocab.load(tmp_path / "vocab.json") == v
    assert json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))["chars"] == v.chars
    assert Vocab.from_json(v.to_json()) == v
    with pytest.raises(ValueError, match="'xz'"):
        v.encode("zax")
    with pytest.raises(ValueError):
        Vocab(["a", "a"])


def test_char_dataset_windows():
    ids = np.arange(10)
    ds = CharDataset(ids, seq_len=3)
    assert len(ds) == 3
    x, y = ds[2]
    assert x.tolist() == [6, 7, 8] and y.tolist() == [7, 8, 9]
    assert ds[-1][0].tolist() == [6, 7, 8]
    overlapping = CharDataset(ids, seq_len=3, stride=1)
    assert len(overlapping) == 7 and overlapping[6][1].tolist() == [7, 8, 9]
    with pytest.raises(IndexError):
        ds[3]
    with pytest.raises(ValueError, match="too short"):
        CharDataset(ids, seq_len=10)


def test_split_and_char_datasets(text_file):
    train, val = split_text("abcdefghij", 0.2)
    assert (train, val) == ("abcdefgh", "ij")
    assert load_text(text_file) == TEXT
    tr, va, vocab = char_datasets(text_file, seq_len=20, val_fraction=0.1)
    assert vocab == Vocab.from_text(TEXT)
    n_val = round(len(TEXT) * 0.1)
    assert len(tr) == (len(TEXT) - n_val - 21) // 20 + 1 and va is not None
    assert vocab.decode(tr[0][0]) == TEXT[:20] and vocab.decode(tr[0][1]) == TEXT[1:21]
    _, _, small = char_datasets(text_file, seq_len=20, limit=50)
    assert small == Vocab.from_text(TEXT[:50])


# ---- CharLSTM and sampling -------------------------------------------------------------------------------
def test_charlstm_state_carries_across_calls():
    """One call over a sequence equals step-by-step calls that carry (h, c)."""
    gradlab.manual_seed(0)
    m = CharLSTM(vocab_size=11, embedding_dim=5, hidden_size=7, num_layers=2)
    m.eval()
    ids = np.random.default_rng(0).integers(0, 11, (2, 9))
    full = m(gradlab.from_numpy(ids)).detach().numpy()
    state, steps = None, []
    for t in range(9):
        logits, state = m.forward_with_state(gradlab.from_numpy(ids[:, t:t + 1]), state)
        steps.append(logits.detach().numpy())
    assert_close(np.concatenate(steps, axis=1), full, rtol=1e-5, atol=1e-6)


def test_sample_is_reproducible():
    gradlab.manual_seed(0)
    vocab = Vocab.from_text(TEXT)
    m = CharLSTM(len(vocab), embedding_dim=8, hidden_size=16, num_layers=1)
    a = sample(m, vocab, "In the", 40, 1.0, generator=gradlab.Generator(7))
    b = sample(m, vocab, "In the", 40, 1.0, generator=gradlab.Generator(7))
    c = sample(m, vocab, "In the", 40, 1.0, generator=gradlab.Generator(8))
    assert a == b and a != c and a.startswith("In the") and len(a) == 46 and set(a) <= set(vocab.chars)
    greedy = {sample(m, vocab, "In", 20, 0.0, generator=gradlab.Generator(s)) for s in range(3)}
    assert len(greedy) == 1  # temperature 0: the most likely character, whatever the generator
    assert len(sample(m, vocab, "", 15, 0.8, generator=gradlab.Generator(0))) == 15
    assert sample(m, vocab, "", 0) == "" and sample(m, vocab, "abc", 0) == "abc"
    top1 = sample(m, vocab, "In", 20, 1.0, generator=gradlab.Generator(1), top_k=1)
    assert top1 == sample(m, vocab, "In", 20, 0.0)
    assert m.training  # restored after sampling
    with pytest.raises(ValueError):
        sample(m, vocab, "In", 5, -1.0)


# ---- training end to end and the command line ----------------------------------------------------------------
def test_train_charlm_writes_a_run_and_learns(text_file, tmp_path):
    out = tmp_path / "run"
    res = train_charlm(text_file, out, seq_len=20, batch_size=16, embedding_dim=8, hidden_size=32, num_layers=1,
                       lr=1e-2, epochs=3, progress=False, log=None)
    for name in ("config.json", "vocab.json", "weights.safetensors", "history.json", "curves.png", "results.json"):
        assert (out / name).is_file(), name
    val = res["history"].history["val_loss"]
    assert val[-1] < val[0] < np.log(len(res["vocab"])) + 0.5
    model, vocab, config = load_charlm(out)
    assert vocab == res["vocab"] and config["model_kwargs"]["hidden_size"] == 32
    for (k, a), b in zip(model.state_dict().items(), res["model"].state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    s1 = sample_run(out, "And the", 30, 0.8, seed=3)
    assert s1 == sample_run(out, "And the", 30, 0.8, seed=3) and s1.startswith("And the") and len(s1) == 37


def test_cli_train_and_sample(text_file, tmp_path, capsys):
    out = tmp_path / "cli-run"
    rc = main(["train", "--model", "charlstm", "--text", str(text_file), "--hidden", "16", "--epochs", "1",
               "--seq-len", "20", "--embedding-dim", "8", "--out", str(out), "--no-progress"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "validation loss" in printed and "bits/char" in printed
    config = json.loads((out / "config.json").read_text())
    assert config["model_kwargs"]["num_layers"] == 1 and config["clip_grad_norm"] == 5.0  # the recurrent default
    assert main(["sample", str(out), "--prompt", "And", "--length", "25", "--seed", "5"]) == 0
    first = capsys.readouterr().out
    assert main(["sample", str(out), "--prompt", "And", "--length", "25", "--seed", "5"]) == 0
    assert capsys.readouterr().out == first and first.startswith("And") and len(first.rstrip("\n")) == 28


def test_cli_errors(text_file, tmp_path, capsys):
    assert main(["train", "--model", "charlstm", "--out", str(tmp_path / "x")]) == 2
    assert "--text" in capsys.readouterr().err
    assert main(["train", "--model", "mlp", "--text", str(text_file)]) == 2
    assert main(["train", "--model", "charlstm", "--text", str(tmp_path / "missing.txt")]) == 2
    assert main(["train", "--model", "charlstm", "--text", str(text_file), "--hidden", "8,16"]) == 2
    assert main(["sample", str(tmp_path / "nothing-here")]) == 2
    out = tmp_path / "tiny"
    assert main(["train", "--model", "charlstm", "--text", str(text_file), "--hidden", "8", "--epochs", "1",
                 "--seq-len", "20", "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["sample", str(out), "--prompt", "Ω"]) == 2
    assert "never saw" in capsys.readouterr().err


def test_cli_trains_sequential_mnist_lstm_with_clipping(tmp_path, capsys):
    """``gradlab train --dataset mnist --model lstm``: rows of the image as time steps; clipping on by default."""
    from gradlab.data.datasets import MNIST

    try:
        MNIST(train=False, download=False)
    except FileNotFoundError as e:  # pragma: no cover - the shared data is missing on this machine
        pytest.skip(f"MNIST not available: {e}")
    out = tmp_path / "lstm"
    rc = main(["train", "--dataset", "mnist", "--model", "lstm", "--limit", "1000", "--epochs", "2",
               "--batch-size", "50", "--lr", "5e-3", "--val-split", "0", "--out", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert rc == 0
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "lstm" and config["clip_grad_norm"] == 5.0
    assert float(printed.split("test accuracy:")[1].split()[0]) > 0.3  # chance is 0.1
    assert main(["train", "--dataset", "mnist", "--model", "lstm", "--limit", "100", "--epochs", "1",
                 "--clip-grad-norm", "0", "--val-split", "0", "--out", str(tmp_path / "noclip"),
                 "--no-progress"]) == 0
    assert json.loads((tmp_path / "noclip" / "config.json").read_text())["clip_grad_norm"] is None
