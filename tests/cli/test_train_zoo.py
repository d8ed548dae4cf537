"""The network zoo on the command line: ``gradlab train --model ae|vae|gan`` writes its run folder and pictures,
``gradlab sample`` draws images from VAE and GAN runs (and refuses an autoencoder's), ``--adversarial`` and the RBF
network's data initialisation reach the training loop, and bad zoo flags exit 2 naming the flag."""

from __future__ import annotations

import json

import pytest

from gradlab.cli import main

from .test_cli import _mnist_available, needs_mnist

TINY = ["--limit", "300", "--epochs", "1", "--no-progress"]


def _train(out, *argv):
    return main(["train", *TINY, *argv, "--out", str(out)])


@pytest.fixture(scope="module")
def zoo_runs(tmp_path_factory):
    """Tiny VAE, GAN and AE runs, trained once for the module."""
    if not _mnist_available():
        pytest.skip("MNIST files not available")
    root = tmp_path_factory.mktemp("zoo")
    runs = {"vae": root / "vae", "gan": root / "gan", "ae": root / "ae"}
    assert _train(runs["vae"], "--model", "vae", "--hidden", "32", "--latent-dim", "2") == 0
    assert _train(runs["gan"], "--model", "gan", "--hidden", "32,32", "--latent-dim", "8", "--lr", "1e-3") == 0
    assert _train(runs["ae"], "--model", "ae", "--hidden", "32", "--code-size", "4") == 0
    return runs


@needs_mnist
def test_train_vae_writes_the_run_folder_and_pictures(zoo_runs):
    out = zoo_runs["vae"]
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "generative" and config["model"] == "vae"
    assert config["model_kwargs"]["latent_dim"] == 2 and config["model_kwargs"]["hidden"] == [32]
    assert config["lr"] == 1e-3 and config["batch_size"] == 128  # the engine's defaults, not the classifier's
    for name in ("weights.safetensors", "history.json", "results.json", "curves.png", "reconstructions.png",
                 "samples.png", "interpolation.png", "elbo.png", "latent_scatter.png", "manifold.png"):
        assert (out / name).is_file(), name
    assert "test_kl" in json.loads((out / "results.json").read_text())


@needs_mnist
def test_train_gan_and_ae_write_their_pictures(zoo_runs):
    gan = json.loads((zoo_runs["gan"] / "config.json").read_text())
    assert gan["model_kwargs"]["latent_dim"] == 8 and gan["lr"] == 1e-3 and gan["batch_size"] == 64
    assert (zoo_runs["gan"] / "samples" / "epoch_001.png").is_file()
    assert (zoo_runs["gan"] / "losses.png").is_file() and (zoo_runs["gan"] / "samples.png").is_file()
    ae = json.loads((zoo_runs["ae"] / "config.json").read_text())
    assert ae["model"] == "ae" and ae["model_kwargs"]["code_size"] == 4
    assert (zoo_runs["ae"] / "reconstructions.png").is_file()


@needs_mnist
def test_gan_lr_defaults_to_the_engine_s(tmp_path):
    assert _train(tmp_path / "g", "--model", "gan", "--hidden", "16", "--limit", "100") == 0
    config = json.loads((tmp_path / "g" / "config.json").read_text())
    assert config["lr"] == 2e-4 and config["model_kwargs"]["latent_dim"] == 64


@needs_mnist
@pytest.mark.parametrize("model", ["vae", "gan"])
def test_sample_writes_a_png_and_prints_its_path(zoo_runs, tmp_path, capsys, model):
    png = tmp_path / f"{model}.png"
    assert main(["sample", str(zoo_runs[model]), "--n", "9", "--seed", "1", "--out", str(png)]) == 0
    assert capsys.readouterr().out.strip() == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["sample", str(zoo_runs[model]), "--n", "4"]) == 0  # default: RUN_DIR/samples_seed0.png
    assert (zoo_runs[model] / "samples_seed0.png").is_file()


@needs_mnist
def test_sample_refuses_an_autoencoder_run_and_text_flags(zoo_runs, capsys):
    assert main(["sample", str(zoo_runs["ae"])]) == 2
    err = capsys.readouterr().err
    assert "--model ae" in err and "VAE and GAN" in err and len(err.strip().splitlines()) == 1
    assert main(["sample", str(zoo_runs["vae"]), "--length", "5"]) == 2
    assert "--length" in capsys.readouterr().err
    assert main(["sample", str(zoo_runs["vae"]), "--n", "0"]) == 2
    assert "--n" in capsys.readouterr().err


@needs_mnist
def test_overwrite_replaces_a_gan_run_s_pictures(zoo_runs, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, "--model", "gan", "--hidden", "16", "--latent-dim", "4", "--limit", "100") == 0
    assert _train(out, "--model", "ae", "--hidden", "16", "--limit", "100") == 2  # not empty
    assert "--overwrite" in capsys.readouterr().err
    assert _train(out, "--model", "ae", "--hidden", "16", "--limit", "100", "--overwrite") == 0
    assert not (out / "samples").exists() and not (out / "losses.png").exists()
    assert (out / "reconstructions.png").is_file()


@needs_mnist
def test_adversarial_fgsm_attacks_every_training_batch(tmp_path, monkeypatch):
    from gradlab import attacks

    calls = []
    fgsm = attacks.ATTACKS["fgsm"]

    def counting(model, x, y, eps, **kw):
        calls.append((eps, kw["clip"]))
        return fgsm(model, x, y, eps, **kw)

    monkeypatch.setitem(attacks.ATTACKS, "fgsm", counting)
    out = tmp_path / "adv"
    assert _train(out, "--hidden", "16", "--batch-size", "64", "--adversarial", "fgsm", "--epsilon", "0.2") == 0
    assert len(calls) == 5  # 270 training images in batches of 64
    eps, clip = calls[0]
    assert eps == pytest.approx(0.2 / 0.3081) and clip[0] == pytest.approx(-0.1307 / 0.3081)
    assert json.loads((out / "config.json").read_text())["adversarial"] == {"attack": "fgsm", "epsilon": 0.2}
    assert (out / "weights.safetensors").is_file()


@needs_mnist
def test_rbf_centres_start_from_the_data(tmp_path, monkeypatch):
    from gradlab.models.rbf import RBFNetwork

    seen = []
    original = RBFNetwork.init_from_data

    def record(self, X, seed=0):
        seen.append(X.shape)
        return original(self, X, seed=seed)

    monkeypatch.setattr(RBFNetwork, "init_from_data", record)
    assert _train(tmp_path / "rbf", "--model", "rbf", "--limit", "200") == 0
    assert seen == [(180, 1, 28, 28)]


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--model", "mlp", "--epsilon", "-1"], "--epsilon must be >= 0"),
    (["--model", "mlp", "--epsilon", "0.1"], "add --adversarial"),
    (["--model", "mlp", "--adversarial", "pgd", "--normalize", "auto"], "--normalize auto"),
    (["--model", "mlp", "--latent-dim", "4"], "--latent-dim does not apply to --model mlp"),
    (["--model", "gan", "--latent-dim", "0"], "--latent-dim must be >= 1"),
    (["--model", "gan", "--kind", "conv"], "--kind conv: --model gan takes --kind mlp or dcgan"),
    (["--model", "vae", "--kind", "mlp"], "--kind does not apply to --model vae"),
    (["--model", "ae", "--noise", "mask"], "--noise does not apply to --model ae"),
    (["--model", "dae", "--noise", "mask", "--noise-level", "1"], "--noise-level must be < 1"),
    (["--model", "sae", "--target", "1.5"], "--target must be > 0 and < 1"),
    (["--model", "sae", "--latent-dim", "3"], "--latent-dim does not apply to --model sae"),
    (["--model", "vae", "--optimizer", "sgd"], "--optimizer does not apply to --model vae"),
    (["--model", "vae", "--resume"], "--resume does not apply to --model vae"),
    (["--model", "vae", "--adversarial", "fgsm"], "--adversarial does not apply to --model vae"),
])
def test_bad_zoo_flags_exit_2_naming_the_flag(tmp_path, capsys, argv, fragment):
    assert main(["train", *argv, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert fragment in err, err
    assert not (tmp_path / "run").exists()
