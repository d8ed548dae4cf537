"""Run folders of the unsupervised zoo: the engine behind ``gradlab train --model ae|dae|sae|vae|gan`` and
``gradlab sample RUN`` for VAE and GAN runs.

:func:`train_generative` trains a model by name on an image dataset (pixels scaled to [0, 1], not standardised)
and writes into its run folder:

* ``config.json`` (``"task": "generative"``, the model name and its ``config()``: enough to rebuild it),
  ``weights.safetensors``, ``history.json``, ``results.json`` (test-set terms: ``test_loss``, ``test_recon``,
  ``test_kl``...), ``curves.png`` (every logged term, train vs test);
* autoencoders and the VAE: ``reconstructions.png`` (test inputs above their reconstructions);
* the VAE: ``samples.png`` (64 prior samples), ``interpolation.png`` (decoded straight lines between the codes of
  test images), ``elbo.png`` (reconstruction and KL per epoch) and, with ``latent_dim=2``, ``latent_scatter.png``
  and ``manifold.png``;
* the GAN: ``samples/epoch_NNN.png`` (the same fixed noise after every epoch), ``samples.png`` (the last one) and
  ``losses.png`` (both losses on one plot).

:func:`sample_generative` draws new images from a finished VAE or GAN run folder.

>>> sorted(GENERATIVE_MODELS)
['ae', 'dae', 'gan', 'sae', 'vae']
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

import gradlab
from gradlab.train.jsonfile import write_json

__all__ = ["GENERATIVE_MODELS", "load_images", "train_generative", "load_generative_run", "sample_generative"]

GENERATIVE_MODELS = {"ae": 1e-3, "dae": 1e-3, "sae": 1e-3, "vae": 1e-3, "gan": 2e-4}  # name -> default lr
_DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def load_images(dataset: str = "mnist", train: bool = True, root: str | None = None,
                limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: float32 images (N, 1, 28, 28) in [0, 1] and int64 labels of an MNIST-like dataset split.

    >>> load_images("cifar10")
    Traceback (most recent call last):
        ...
    ValueError: unknown image dataset 'cifar10'; available: mnist, fashion-mnist
    """
    if dataset not in _DATASETS:
        raise ValueError(f"unknown image dataset {dataset!r}; available: {', '.join(_DATASETS)}")
    from gradlab.data import datasets

    ds = getattr(datasets, _DATASETS[dataset])(root=root, train=train)
    data, targets = ds.data, ds.targets
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        data, targets = data[:limit], targets[:limit]
    x = np.divide(data, np.float32(255), dtype=np.float32).reshape(len(data), 1, *data.shape[1:])
    return x, np.asarray(targets, dtype=np.int64)


def _decoder(model: Any) -> Any:
    def decode(z: np.ndarray) -> Any:
        with gradlab.no_grad():
            return model.images(model.decode(gradlab.tensor(z.astype(model.fc_mu.weight.dtype))))

    return decode


def _vae_pictures(model: Any, out: Path, xt: np.ndarray, yt: np.ndarray, seed: int) -> list[str]:
    from gradlab.train import pictures as P

    files = [P.save_image_grid(model.sample(64, seed=seed), out / "samples.png", ncols=8,
                               title=f"64 samples from the prior (seed {seed})")]
    was = model.training
    model.eval()
    try:
        with gradlab.no_grad():
            mu = np.asarray(model.encode(gradlab.tensor(xt[:2000]))[0]._data)
        pairs = min(8, len(xt) // 2)
        if pairs:
            files.append(P.save_interpolation(_decoder(model), mu[:pairs], mu[pairs:2 * pairs],
                                              out / "interpolation.png"))
        if model.latent_dim == 2:
            files.append(P.save_latent_scatter(mu, yt[:len(mu)], out / "latent_scatter.png"))
            files.append(P.save_manifold(_decoder(model), out / "manifold.png"))
    finally:
        model.train(was)
    return files


def train_generative(model_name: str, out_dir: str | os.PathLike, dataset: str = "mnist", epochs: int = 10,
                     batch_size: int | None = None, lr: float | None = None, seed: int = 0,
                     limit: int | None = None, data_dir: str | None = None,
                     model_kwargs: dict[str, Any] | None = None, log: Any = print) -> dict[str, Any]:
    """Train ``model_name`` (one of :data:`GENERATIVE_MODELS`) on ``dataset`` and write the run folder
    ``out_dir`` (see the module docstring). Returns the results: ``test_*`` terms (autoencoders, VAE), the last
    epoch's losses (GAN), ``train_time_s``, ``epochs``, ``files`` (the pictures written) and ``history``.

    ``batch_size`` defaults to 128 (64 for the GAN), ``lr`` to 1e-3 (2e-4 with Adam betas (0.5, 0.999) for the
    GAN). ``model_kwargs`` go to the model's constructor (e.g. ``latent_dim=2``, ``kind='conv'``, ``noise='mask'``).
    Raises ``ValueError`` when the model is built for images of another size than the dataset's.

    >>> train_generative("mlp", "no-such-run")  # checked before anything is read or written
    Traceback (most recent call last):
        ...
    ValueError: train_generative: unknown model 'mlp'; available: ae, dae, sae, vae, gan
    """
    from gradlab.models import build_model
    from gradlab.train import pictures as P
    from gradlab.train.checkpoint import save_weights
    from gradlab.train.generative import evaluate_autoencoder, train_autoencoder, train_gan
    from gradlab.train.history import plot_history

    name = model_name.strip().lower()
    if name not in GENERATIVE_MODELS:
        raise ValueError(f"train_generative: unknown model {model_name!r}; available: {', '.join(GENERATIVE_MODELS)}")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    say = log or (lambda s: None)
    kwargs = dict(model_kwargs or {})
    x, _ = load_images(dataset, train=True, root=data_dir, limit=limit)
    xt, yt = load_images(dataset, train=False, root=data_dir, limit=None if limit is None else max(limit // 5, 100))
    shape = list(x.shape[1:])
    if "input_shape" in kwargs and [int(v) for v in kwargs["input_shape"]] != shape:
        raise ValueError(f"--model {name} was asked for images of shape {list(kwargs['input_shape'])} but "
                         f"--dataset {dataset} has images of shape {shape}")
    kwargs["input_shape"] = shape
    if name == "gan":
        kwargs.setdefault("latent_dim", 64)
    gradlab.manual_seed(seed)
    model = build_model(name, **kwargs)
    bs = int(batch_size or (64 if name == "gan" else 128))
    rate = float(lr if lr is not None else GENERATIVE_MODELS[name])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config = {"task": "generative", "model": name, "model_kwargs": model.config(), "dataset": dataset,
              "epochs": int(epochs), "batch_size": bs, "lr": rate, "seed": int(seed), "limit": limit,
              "gradlab_version": gradlab.__version__}
    write_json(out / "config.json", config)
    say(f"training {name} on {dataset}: {len(x)} images, {epochs} epochs, batch {bs}, lr {rate:g}")
    files: list[str] = []
    t0 = time.perf_counter()
    if name == "gan":
        fixed = model.noise(64, seed=seed + 12345)

        def grid(epoch: int, logs: dict[str, float]) -> None:
            files.append(P.save_image_grid(model.sample(64, z=fixed), out / "samples" / f"epoch_{epoch + 1:03d}.png",
                                           ncols=8, title=f"fixed noise, epoch {epoch + 1}"))

        history = train_gan(model, x, epochs, bs, rate, seed=seed, on_epoch_end=grid, log=say)
        train_time = time.perf_counter() - t0
        files.append(P.save_image_grid(model.sample(64, z=fixed), out / "samples.png", ncols=8,
                                       title=f"GAN samples after {epochs} epochs (fixed noise)"))
        files.append(P.save_loss_curves(history.history, ["d_loss", "g_loss"], out / "losses.png",
                                        title="GAN losses (non-saturating)"))
        results: dict[str, Any] = {k: history.history[k][-1] for k in ("d_loss", "g_loss", "d_real", "d_fake")}
    else:
        history = train_autoencoder(model, x, epochs, bs, rate, seed=seed, x_val=xt, log=say)
        train_time = time.perf_counter() - t0
        results = {f"test_{k}": v for k, v in evaluate_autoencoder(model, xt).items()}
        model.eval()
        with gradlab.no_grad():
            recon = model.reconstruct(gradlab.tensor(xt[:20]))
        model.train()
        files.append(P.save_reconstructions(xt[:20], recon, out / "reconstructions.png",
                                            title=f"{name}: test inputs (odd rows) and reconstructions (even rows)"))
        if name == "vae":
            files += _vae_pictures(model, out, xt, yt, seed)
            files.append(P.save_loss_curves(history.history, ["recon", "kl", "val_recon", "val_kl"],
                                            out / "elbo.png", title="-ELBO = reconstruction + KL (nats per image)"))
    save_weights(model, out / "weights.safetensors")
    history.to_json(out / "history.json")
    files.append(str(plot_history(history, out / "curves.png", title=f"{name} on {dataset}")))
    results.update(model=name, dataset=dataset, epochs=len(history), train_time_s=train_time,
                   files=[os.path.relpath(f, out) for f in files])
    write_json(out / "results.json", results)
    return dict(results, history=history)


def load_generative_run(run_dir: str | os.PathLike) -> tuple[Any, dict[str, Any]]:
    """``(model, config)`` rebuilt from a generative run folder's ``config.json`` and ``weights.safetensors``.

    >>> load_generative_run("no-such-run")
    Traceback (most recent call last):
        ...
    FileNotFoundError: no-such-run: no config.json (is this a finished 'gradlab train' run folder?)
    """
    from gradlab.models import build_model
    from gradlab.train.checkpoint import load_weights
    from gradlab.train.runfolder import read_run_config

    run, config = read_run_config(run_dir)
    if config.get("task") != "generative" or config.get("model") not in GENERATIVE_MODELS:
        raise ValueError(f"{run} is not a run of one of {', '.join(GENERATIVE_MODELS)} (model "
                         f"{config.get('model')!r})")
    model = build_model(config["model"], **config.get("model_kwargs", {}))
    load_weights(model, run / "weights.safetensors")
    model.eval()
    return model, config


def sample_generative(run_dir: str | os.PathLike, n: int = 64, seed: int = 0,
                      out: str | os.PathLike | None = None, ncols: int | None = None) -> str:
    """Draw ``n`` images from the VAE or GAN of ``run_dir`` (``seed`` makes them reproducible) and save them as a
    grid; ``out`` defaults to ``RUN_DIR/samples_seed<seed>.png``. Returns the path written.

    >>> sample_generative("no-such-run", n=0)
    Traceback (most recent call last):
        ...
    ValueError: n must be >= 1, got 0
    """
    from gradlab.train.pictures import save_image_grid

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    model, config = load_generative_run(run_dir)
    if config["model"] not in ("vae", "gan"):
        raise ValueError(f"{run_dir}: 'sample' draws from VAE and GAN runs; this is a {config['model']} run "
                         "(an autoencoder has no prior to sample from)")
    images = model.sample(int(n), seed=int(seed))
    path = Path(out) if out is not None else Path(run_dir) / f"samples_seed{seed}.png"
    return save_image_grid(images, path, ncols=ncols, title=f"{config['model']}: {n} samples, seed {seed}")
