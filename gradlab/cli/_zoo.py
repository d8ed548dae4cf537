"""The network zoo on ``gradlab train``: the options of the unsupervised models (``--model ae|dae|sae|vae|gan``,
trained by :func:`gradlab.train.generative_runs.train_generative`), adversarial training of the classifiers
(``--adversarial fgsm|pgd --epsilon E``) and the RBF network's data-dependent initialisation.

>>> sorted(ZOO_OPTIONS)[:3]
['code_size', 'kind', 'latent_dim']
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from gradlab.cli._parser import UsageError, check_out, explicit_options, number

__all__ = ["GENERATIVE", "ZOO_OPTIONS", "add_zoo_arguments", "run_generative", "zoo_callbacks", "pixel_scale"]

#: The models ``gradlab train`` hands to :func:`~gradlab.train.generative_runs.train_generative`.
GENERATIVE = ("ae", "dae", "sae", "vae", "gan")

#: option destination -> the generative models whose constructor takes it (under the same name).
ZOO_OPTIONS: dict[str, tuple[str, ...]] = {
    "latent_dim": ("vae", "gan"), "kind": ("ae", "dae", "sae", "gan"), "code_size": ("ae", "dae", "sae"),
    "noise": ("dae",), "noise_level": ("dae",), "penalty": ("sae",), "sparsity_weight": ("sae",),
    "target": ("sae",),
}
_KINDS = {"ae": ("mlp", "conv"), "dae": ("mlp", "conv"), "sae": ("mlp", "conv"), "gan": ("mlp", "dcgan")}
# the options of `gradlab train` a generative run reads (besides ZOO_OPTIONS and --hidden/--activation)
_GENERATIVE_COMMON = {"dataset", "data_dir", "limit", "batch_size", "model", "hidden", "lr", "epochs", "seed", "out",
                      "overwrite", "no_progress"}
_IMAGE_DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
# the pictures train_generative writes (replaced by --overwrite, like the run files)
_PICTURES = ("reconstructions.png", "samples.png", "interpolation.png", "elbo.png", "latent_scatter.png",
             "manifold.png", "losses.png")


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def add_zoo_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the zoo's options of ``gradlab train`` on ``p``.

    >>> from gradlab.cli._parser import Parser
    >>> p = Parser(prog="t"); add_zoo_arguments(p); p.parse_args(["--latent-dim", "2"]).latent_dim
    2
    """
    z = p.add_argument_group("zoo (--model ae|dae|sae|vae|gan; --adversarial for the classifiers)")
    z.add_argument("--latent-dim", type=number(int, "--latent-dim", 1), metavar="N",
                   help="vae, gan: size of the latent code (defaults: vae 20, gan 64)")
    z.add_argument("--kind", choices=("mlp", "conv", "dcgan"),
                   help="ae, dae, sae: mlp or conv; gan: mlp or dcgan (default mlp)")
    z.add_argument("--code-size", type=number(int, "--code-size", 1), metavar="N",
                   help="ae, dae, sae: size of the code (defaults: 32, sae 64)")
    z.add_argument("--noise", choices=("gaussian", "mask"), help="dae: the corruption (default gaussian)")
    z.add_argument("--noise-level", type=number(float, "--noise-level", 0.0, None), metavar="X",
                   help="dae: noise std, or the masked fraction (< 1) for --noise mask (default 0.5)")
    z.add_argument("--penalty", choices=("l1", "kl"), help="sae: the sparsity penalty (default kl)")
    z.add_argument("--sparsity-weight", type=number(float, "--sparsity-weight", 0.0, None), metavar="X",
                   help="sae: weight of the sparsity penalty (default 1)")
    z.add_argument("--target", type=number(float, "--target", 0.0, 1.0, low_open=True, high_open=True),
                   metavar="RHO", help="sae: target mean activation of the code for --penalty kl (default 0.05)")
    z.add_argument("--adversarial", choices=("fgsm", "pgd"),
                   help="classifiers: replace half of each training batch by FGSM or PGD examples")
    z.add_argument("--epsilon", type=number(float, "--epsilon", 0.0, None), default=None, metavar="E",
                   help="with --adversarial: the L-infinity budget in pixel units, pixels in [0, 1] (default 0.1)")


def _explicit(args: argparse.Namespace) -> list[str]:
    return explicit_options("train", getattr(args, "_argv", []))


def _model_kwargs(args: argparse.Namespace, given: list[str]) -> dict[str, Any]:
    name = args.model
    allowed = set(_GENERATIVE_COMMON) | {d for d, models in ZOO_OPTIONS.items() if name in models}
    if name == "vae":
        allowed.add("activation")
    for dest in given:
        if dest not in allowed:
            raise UsageError(f"{_flag(dest)} does not apply to --model {name}")
    kwargs: dict[str, Any] = {d: getattr(args, d) for d in ZOO_OPTIONS if d in given}
    if "kind" in kwargs and kwargs["kind"] not in _KINDS[name]:
        raise UsageError(f"--kind {kwargs['kind']}: --model {name} takes --kind {' or '.join(_KINDS[name])}")
    if "noise_level" in kwargs and kwargs.get("noise") == "mask" and kwargs["noise_level"] >= 1:
        raise UsageError(f"--noise-level must be < 1 for --noise mask (the masked fraction), got "
                         f"{kwargs['noise_level']}")
    if "hidden" in given:
        kwargs["hidden"] = list(args.hidden)
    if "activation" in given:
        kwargs["activation"] = args.activation
    return kwargs


def _clear_pictures(out: Path) -> None:
    """``--overwrite`` on a generative run: drop the earlier run's pictures (``samples/`` only if it holds nothing
    but the per-epoch grids)."""
    from gradlab.train.runfolder import start_run_folder

    start_run_folder(out, "overwrite")
    for name in _PICTURES:
        if (out / name).is_file():
            (out / name).unlink()
    grids = out / "samples"
    if grids.is_dir() and all(p.is_file() and p.name.startswith("epoch_") and p.suffix == ".png"
                              for p in grids.iterdir()):
        shutil.rmtree(grids)


def run_generative(args: argparse.Namespace) -> int:
    """``gradlab train --model ae|dae|sae|vae|gan``: train with
    :func:`~gradlab.train.generative_runs.train_generative`, print the test terms and the files written.
    Options that do not apply to the model are refused before anything is read or written.

    >>> run_generative(argparse.Namespace(model="vae", _argv=["train", "--model", "vae", "--kind", "mlp"]))
    Traceback (most recent call last):
    gradlab.cli._parser.UsageError: --kind does not apply to --model vae
    """
    from gradlab.train.generative_runs import train_generative

    given = _explicit(args)
    kwargs = _model_kwargs(args, given)
    if args.dataset not in _IMAGE_DATASETS:
        raise UsageError(f"--dataset {args.dataset}: --model {args.model} trains on {' or '.join(_IMAGE_DATASETS)}")
    out = Path(args.out)
    if check_out(out, args) == "overwrite":
        _clear_pictures(out)
    results = train_generative(args.model, out, dataset=args.dataset, epochs=args.epochs,
                               batch_size=args.batch_size if "batch_size" in given else None,
                               lr=args.lr if "lr" in given else None, seed=args.seed, limit=args.limit,
                               data_dir=args.data_dir, model_kwargs=kwargs)
    terms = {k: v for k, v in results.items() if k.startswith("test_") or k in ("d_loss", "g_loss")}
    print(", ".join(f"{k} {v:.4f}" for k, v in terms.items())
          + f" ({results['epochs']} epochs, {results['train_time_s']:.1f}s)")
    print(f"wrote {out}/: weights.safetensors, history.json, curves.png, config.json, results.json, "
          + ", ".join(f for f in results["files"] if f != "curves.png"))
    return 0


def pixel_scale(dataset: str, normalize: str | None) -> tuple[float, float]:
    """``(mean, std)`` with which the run's inputs are ``(pixel - mean) / std``, for epsilon in pixel units
    (UsageError when the normalisation is not one scalar pair known before training).

    >>> pixel_scale("mnist", "dataset")
    (0.1307, 0.3081)
    >>> pixel_scale("toy", "0.5,0.25")
    (0.5, 0.25)
    """
    mode = (normalize or "dataset").strip().lower()
    if mode == "none":
        return 0.0, 1.0
    if mode == "dataset":
        if dataset not in _IMAGE_DATASETS:
            raise UsageError(f"--adversarial: the pixel scale of --dataset {dataset} is not known; give "
                             "--normalize none or MEAN,STD")
        from gradlab.data import datasets

        cls = getattr(datasets, _IMAGE_DATASETS[dataset])
        return float(cls.mean), float(cls.std)
    parts = mode.split(",")
    if len(parts) == 2:
        try:
            return float(parts[0]), float(parts[1])
        except ValueError:
            pass
    raise UsageError(f"--adversarial needs one pixel mean and std: --normalize {normalize} is measured per run; "
                     "use --normalize dataset, none or MEAN,STD")


def zoo_callbacks(args: argparse.Namespace) -> list:
    """The zoo's callbacks of a classifier run: ``AdversarialTraining`` for ``--adversarial``, ``DataInit`` for
    ``--model rbf``; UsageError for a generative-model option (or ``--epsilon`` without ``--adversarial``).

    >>> zoo_callbacks(argparse.Namespace(model="mlp", adversarial=None, epsilon=None, _argv=[]))
    []
    """
    given = _explicit(args)
    for dest in ZOO_OPTIONS:
        if dest in given:
            raise UsageError(f"{_flag(dest)} does not apply to --model {args.model} (it is for --model "
                             f"{', '.join(ZOO_OPTIONS[dest])})")
    cbs: list = []
    if args.adversarial:
        from gradlab.train.adversarial import AdversarialTraining

        mean, std = pixel_scale(args.dataset, args.normalize)
        eps = 0.1 if args.epsilon is None else args.epsilon
        try:
            cbs.append(AdversarialTraining(args.adversarial, epsilon=eps, mean=mean, std=std, seed=args.seed))
        except ValueError as e:
            raise UsageError(f"--adversarial: {e}") from None
    elif args.epsilon is not None:
        raise UsageError("--epsilon is the budget of --adversarial fgsm|pgd: add --adversarial")
    if args.model == "rbf":
        from gradlab.train.adversarial import DataInit

        cbs.append(DataInit(seed=args.seed))
    return cbs
