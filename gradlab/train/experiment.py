"""Training runs from a plain config dict: the engine behind ``gradlab train`` / ``gradlab evaluate``, the demo and
the accuracy benchmark. Datasets and optimizers are looked up by name in registries that later work extends.

A run folder holds ``config.json`` (enough to rebuild the model), ``weights.safetensors`` (final weights),
``checkpoint/`` (full training state after the last epoch, for ``resume``), ``history.json``, ``curves.png`` and
``results.json`` (test loss/accuracy).

>>> cfg = make_config(dataset="mnist", hidden=(64,), epochs=1)
>>> cfg["model"], cfg["model_kwargs"]["hidden"], cfg["optimizer"]
('mlp', [64], 'adam')
"""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import gradlab
from gradlab import nn, optim
from gradlab.data import DataLoader, TensorDataset, random_split
from gradlab.models import build_model
from gradlab.train.checkpoint import CHECKPOINT_DIRNAME, has_checkpoint, load_weights, save_weights
from gradlab.train.jsonfile import write_json
from gradlab.train.loop import evaluate, fit

__all__ = [
    "DATASETS", "OPTIMIZERS", "SCHEDULERS", "register_dataset", "load_dataset", "build_optimizer",
    "build_scheduler", "make_config", "build_from_config", "run_training", "evaluate_run", "load_run_model",
    "split_sizes", "ParallelPlan", "prepare_run",
]


# ---------------------------------------------------------------- datasets
def _mnist_like(cls_name: str) -> Callable[..., tuple[np.ndarray, np.ndarray, dict[str, Any]]]:
    def load(train: bool = True, root: str | None = None,
             raw: bool = False) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        from gradlab.data import datasets

        ds = getattr(datasets, cls_name)(root=root, train=train)
        x = np.divide(ds.data, np.float32(255), dtype=np.float32)
        if not raw:  # the dataset's published mean and std
            x -= np.float32(ds.mean)
            x /= np.float32(ds.std)
        info = {"input_shape": [1, 28, 28], "num_classes": len(ds.classes), "classes": list(ds.classes),
                "black": [0.0 if raw else -float(ds.mean) / float(ds.std)]}
        return x.reshape(len(x), 1, 28, 28), np.asarray(ds.targets, dtype=np.int64), info

    return load


# name -> load(train, root) -> (inputs float32 array, int64 targets, info with input_shape and num_classes; optional:
# "black", the value of a black pixel in the inputs, one per channel). A loader that also takes raw=True (inputs in
# [0, 1], not standardised) supports the run option normalize other than "dataset".
DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray, dict[str, Any]]]] = {
    "mnist": _mnist_like("MNIST"),
    "fashion-mnist": _mnist_like("FashionMNIST"),
}


def register_dataset(name: str, loader: Callable[..., tuple[np.ndarray, np.ndarray, dict[str, Any]]]) -> None:
    """Make ``name`` usable in configs and ``gradlab train --dataset`` (see :data:`DATASETS` for the contract).

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((40, 1, 2, 2)).astype(np.float32)
    >>> register_dataset("tiny-doc", lambda train=True, root=None: (x, (x[:, 0, 0, 0] > 0).astype(np.int64),
    ...                  {"input_shape": [1, 2, 2], "num_classes": 2}))
    >>> X, y, info = load_dataset("tiny-doc", limit=10)
    >>> X.shape, y.dtype, info["num_classes"]
    ((10, 1, 2, 2), dtype('int64'), 2)
    >>> _ = DATASETS.pop("tiny-doc")
    """
    DATASETS[name] = loader


def load_dataset(name: str, train: bool = True, root: str | None = None, limit: int | None = None):
    """``(X, y, info)`` numpy arrays of a named dataset split; ``limit`` keeps the first ``limit`` samples.

    >>> load_dataset("no-such-dataset")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: unknown dataset 'no-such-dataset'; available: mnist, fashion-mnist...
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
    x, y, info = DATASETS[name](train=train, root=root)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return x, y, info


def load_split(config: dict[str, Any], train: bool = True, root: str | None = None, limit: int | None = None):
    """``(X, y, info)`` of the run's dataset split as its ``normalize`` option wants it (see
    :mod:`gradlab.train.preprocess`): standardised by the dataset (``"dataset"``, the default) or raw in [0, 1] for
    the run to normalise with statistics of its own (``config["normalize_stats"]``, applied here when present)."""
    from gradlab.train.preprocess import apply_normalization

    mode = config.get("normalize") or "dataset"
    if mode == "dataset":
        return load_dataset(config["dataset"], train=train, root=root, limit=limit)
    if config["dataset"] not in DATASETS:
        raise ValueError(f"unknown dataset {config['dataset']!r}; available: {', '.join(DATASETS)}")
    try:
        x, y, info = DATASETS[config["dataset"]](train=train, root=root, raw=True)
    except TypeError:
        raise ValueError(f"normalize {mode!r}: the dataset {config['dataset']!r} gives only standardised inputs "
                         "(use normalize 'dataset')") from None
    if limit is not None:
        x, y = x[:limit], y[:limit]
    if config.get("normalize_stats") is not None:
        x = apply_normalization(config["normalize_stats"], x)
    return x, y, info


# ---------------------------------------------------------------- optimizers and schedulers
OPTIMIZERS: dict[str, tuple[str, tuple[str, ...]]] = {  # name -> (class in gradlab.optim, extra options it takes)
    "sgd": ("SGD", ("momentum", "nesterov")),
    "adam": ("Adam", ()),
    "adamw": ("AdamW", ()),
    "rmsprop": ("RMSprop", ("momentum",)),
    "adagrad": ("Adagrad", ()),
}

SCHEDULERS = ("none", "step", "cosine", "plateau", "onecycle")


def build_optimizer(name: str, params: Any, lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                    nesterov: bool = False) -> Any:
    """A ``gradlab.optim`` optimizer by name (``sgd``, ``adam``, ``adamw``, ``rmsprop``, ``adagrad``).

    >>> opt = build_optimizer("sgd", nn.Linear(2, 1).parameters(), lr=0.1, momentum=0.9)
    >>> type(opt).__name__, opt.param_groups[0]["lr"]
    ('SGD', 0.1)
    >>> build_optimizer("lbfgs", nn.Linear(2, 1).parameters(), lr=0.1)
    Traceback (most recent call last):
        ...
    ValueError: unknown optimizer 'lbfgs'; available: sgd, adam, adamw, rmsprop, adagrad
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; available: {', '.join(OPTIMIZERS)}")
    cls_name, extra = OPTIMIZERS[name]
    kw: dict[str, Any] = {"lr": lr, "weight_decay": weight_decay}
    if "momentum" in extra:
        kw["momentum"] = momentum
    if "nesterov" in extra and nesterov:
        kw["nesterov"] = True
    return getattr(optim, cls_name)(params, **kw)


def build_scheduler(name: str | None, optimizer: Any, epochs: int, steps_per_epoch: int, lr: float) -> Any:
    """A learning-rate scheduler by name (:data:`SCHEDULERS`), or ``None`` for ``'none'``.

    >>> opt = build_optimizer("sgd", nn.Linear(2, 1).parameters(), lr=0.1)
    >>> build_scheduler("none", opt, epochs=2, steps_per_epoch=5, lr=0.1) is None
    True
    >>> type(build_scheduler("cosine", opt, epochs=2, steps_per_epoch=5, lr=0.1)).__name__
    'CosineAnnealingLR'
    """
    sched = optim.lr_scheduler
    if name in (None, "none"):
        return None
    if name == "step":
        return sched.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1)
    if name == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    if name == "plateau":
        return sched.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    if name == "onecycle":
        return sched.OneCycleLR(optimizer, max_lr=lr, epochs=max(epochs, 1), steps_per_epoch=steps_per_epoch)
    raise ValueError(f"unknown scheduler {name!r}; available: {', '.join(SCHEDULERS)}")


# ---------------------------------------------------------------- configs
def make_config(
    dataset: str = "mnist", model: str = "mlp", hidden: Sequence[int] = (512, 512), activation: str = "relu",
    dropout: float = 0.0, batch_norm: bool = False, optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.0,
    weight_decay: float = 0.0, scheduler: str = "none", epochs: int = 10, batch_size: int = 128, seed: int = 0,
    val_split: float = 0.1, limit: int | None = None, clip_grad_norm: float | None = None,
    normalize: str = "dataset", augment: str | None = None, **model_kwargs: Any,
) -> dict[str, Any]:
    """A JSON-able run config (what ``config.json`` holds); ``clip_grad_norm`` clips the gradients' global norm
    before each optimizer step (None: no clipping); ``normalize`` and ``augment``: see
    :mod:`gradlab.train.preprocess`.

    >>> cfg = make_config(hidden=(8,), optimizer="sgd", lr=0.1, epochs=3)
    >>> cfg["model_kwargs"]["hidden"], cfg["optimizer"], cfg["lr"], cfg["epochs"]
    ([8], 'sgd', 0.1, 3)
    """
    from gradlab.train.preprocess import check_preprocessing

    check_preprocessing(normalize, augment)
    mk: dict[str, Any] = dict(model_kwargs)
    if model == "mlp":
        mk.update(hidden=[int(h) for h in hidden], activation=activation, dropout=float(dropout),
                  batch_norm=bool(batch_norm))
    return {
        "dataset": dataset, "model": model, "model_kwargs": mk, "optimizer": optimizer, "lr": float(lr),
        "momentum": float(momentum), "weight_decay": float(weight_decay), "scheduler": scheduler,
        "epochs": int(epochs), "batch_size": int(batch_size), "seed": int(seed), "val_split": float(val_split),
        "limit": None if limit is None else int(limit),
        "clip_grad_norm": None if clip_grad_norm is None else float(clip_grad_norm),
        "normalize": normalize or "dataset", "augment": augment if augment and augment != "none" else None,
        "gradlab_version": gradlab.__version__,
    }


def build_from_config(config: dict[str, Any], info: dict[str, Any]) -> Any:
    """The model a config describes, sized for a dataset's ``info`` (input shape, number of classes).

    >>> model = build_from_config(make_config(hidden=(8,)), {"input_shape": [1, 2, 2], "num_classes": 3})
    >>> model(gradlab.zeros(4, 1, 2, 2)).shape
    gradlab.Size([4, 3])
    """
    kw = dict(config.get("model_kwargs", {}))
    if config["model"] == "mlp":
        kw.setdefault("in_features", int(np.prod(info["input_shape"])))
        kw.setdefault("out_features", int(info["num_classes"]))
    else:
        kw.setdefault("num_classes", int(info["num_classes"]))
    return build_model(config["model"], **kw)


def split_sizes(n: int, val_split: float, what: str = "training samples") -> tuple[int, int]:
    """``(n_train, n_val)`` for holding out ``val_split`` of ``n`` samples; ValueError when none are left to train on.

    >>> split_sizes(100, 0.1)
    (90, 10)
    >>> split_sizes(3, 0.9)
    Traceback (most recent call last):
    ValueError: val_split 0.9 holds out 3 of the 3 training samples for validation, leaving none to train on \
(use a smaller val_split or more data)
    """
    if n <= 0:
        raise ValueError(f"there are no {what} (is the dataset empty?)")
    if not 0.0 <= val_split < 1.0:
        raise ValueError(f"val_split must be >= 0 and < 1, got {val_split}")
    n_val = int(round(n * val_split))
    if n_val >= n:
        raise ValueError(f"val_split {val_split:g} holds out {n_val} of the {n} {what} for validation, leaving none "
                         "to train on (use a smaller val_split or more data)")
    return n - n_val, n_val


@dataclass
class ParallelPlan:
    """How :func:`run_training` spreads a run over processes; the default is one process.

    :mod:`gradlab.train.distributed_run` fills it in for data-parallel runs: ``world_size`` processes each take
    ``batch_size / world_size`` samples per step from the loader over ``sampler(train_dataset)``; ``wrap_model``
    wraps the built model for training (e.g. ``DistributedDataParallel``); ``fit`` trains (``fit``'s signature;
    ``None``: :func:`~gradlab.train.fit`); ``checks()`` is the context the checks run in (the processes agree on
    their outcome there, so none writes while another still reads the folder); ``barrier()`` waits for all of
    them; only the ``main`` one talks and writes the run folder, adding ``extra_results()`` to ``results.json``;
    ``on_start(out)`` runs on it when training starts (after ``config.json``).

    >>> plan = ParallelPlan(); plan.main, plan.world_size
    (True, 1)
    """

    world_size: int = 1
    main: bool = True
    sampler: Callable[[Any], Any] | None = None
    wrap_model: Callable[[Any], Any] | None = None
    fit: Callable[..., Any] | None = None
    checks: Callable[[], Any] = contextlib.nullcontext
    barrier: Callable[[], None] = lambda: None
    on_start: Callable[[Path], None] = lambda out: None
    extra_results: Callable[[], dict[str, Any]] = dict
    note: str = ""


def _prepare(config: dict[str, Any], data_dir: str | None, device: Any = None,
             plan: ParallelPlan | None = None,
             setup: Callable[[Any], Sequence[Any]] | None = None) -> dict[str, Any]:
    """Everything a run needs, built and checked without touching its folder: data, loaders, model, optimizer.
    With ``device`` (e.g. ``"cuda"``) the model lives there and the loaders move each batch there; ``plan``: the
    per-process batch and sampler of a data-parallel run (the model is wrapped later, by :func:`run_training`)."""
    plan = plan or ParallelPlan()
    dev = gradlab.device(device) if device is not None else None
    for key in ("dataset", "model", "optimizer", "lr", "epochs", "batch_size", "seed"):
        if key not in config:
            raise ValueError(f"the run config has no {key!r}")
    gradlab.manual_seed(config["seed"])
    x, y, info = load_split(dict(config, normalize_stats=None), train=True, root=data_dir)
    limit = config.get("limit")
    if limit is not None:
        if int(limit) > len(x):
            raise ValueError(f"limit {limit} is more than the {len(x)} training samples of {config['dataset']}")
        x, y = x[:limit], y[:limit]
    black = info.get("black", [0.0])
    if (config.get("normalize") or "dataset") != "dataset":  # statistics of this training split, kept in the config
        from gradlab.train.preprocess import apply_normalization, normalize_stats

        config["normalize_stats"] = normalize_stats(config["normalize"], x)
        x = apply_normalization(config["normalize_stats"], x)
        zero = apply_normalization(config["normalize_stats"], np.zeros((1, *x.shape[1:]), dtype=np.float32))
        black = zero.reshape(x.shape[1], -1).mean(axis=1).tolist()
    xt, yt, _ = load_split(config, train=False, root=data_dir)
    if len(xt) == 0:
        raise ValueError(f"the test split of {config['dataset']} is empty")
    full = TensorDataset(gradlab.from_numpy(x), gradlab.from_numpy(y))
    n_train, n_val = split_sizes(len(full), float(config.get("val_split") or 0.0))
    train_ds: Any
    val_ds: Any
    if n_val > 0:
        train_ds, val_ds = random_split(full, [n_train, n_val], generator=gradlab.Generator(config["seed"]))
    else:
        train_ds, val_ds = full, None
    if config.get("augment"):  # random transforms of each training batch, drawn from the loader's generator
        from gradlab.data.transforms import TransformedDataset
        from gradlab.train.preprocess import augmentation

        train_ds = TransformedDataset(train_ds, augmentation(config["augment"], tuple(x.shape[1:]), black))
    batch_size = int(config["batch_size"])
    if batch_size % plan.world_size:
        raise ValueError(f"batch_size {batch_size} (the global batch) must be divisible by the {plan.world_size} "
                         "processes")
    if plan.sampler is None:
        train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True,
                                  generator=gradlab.Generator(config["seed"] + 1), device=dev)
    else:
        train_loader = DataLoader(train_ds, batch_size=batch_size // plan.world_size, sampler=plan.sampler(train_ds),
                                  device=dev)
    val_loader = DataLoader(val_ds, batch_size=1000, device=dev) if val_ds is not None else None
    try:
        model = build_from_config(config, info)
    except TypeError as e:  # an option the model does not take
        raise ValueError(f"cannot build the model {config['model']!r} from the config: {e}") from None
    if dev is not None:
        model.to(dev)  # before the optimizer: its state is made on the parameters' device
    model.eval()  # one forward pass on two samples: does the model fit the data? (eval: no random draws)
    try:
        with gradlab.no_grad():
            model(gradlab.from_numpy(x[:2]).to(dev) if dev is not None else gradlab.from_numpy(x[:2]))
    except (ValueError, TypeError, IndexError, RuntimeError) as e:
        raise ValueError(f"the model {config['model']!r} does not fit the inputs of {config['dataset']} (shape "
                         f"{list(x.shape[1:])}): {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    model.train()
    regularizers = list(setup(model)) if setup is not None else []  # e.g. fine-tuning: load, freeze, L2SP
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("every parameter of the model is frozen: nothing to train")
    optimizer = build_optimizer(config["optimizer"], trainable, config["lr"], config.get("momentum", 0.0),
                                config.get("weight_decay", 0.0))
    scheduler = build_scheduler(config.get("scheduler"), optimizer, config["epochs"], len(train_loader), config["lr"])
    test_loader = DataLoader(TensorDataset(gradlab.from_numpy(xt), gradlab.from_numpy(yt)), batch_size=1000,
                             device=dev)
    return {"model": model, "optimizer": optimizer, "scheduler": scheduler, "train_loader": train_loader,
            "val_loader": val_loader, "test_loader": test_loader, "n_train": n_train, "n_val": n_val,
            "regularizers": regularizers}


def prepare_run(config: dict[str, Any], data_dir: str | None = None) -> dict[str, Any]:
    """What a run of ``config`` trains with, built and checked, nothing written: ``model``, ``optimizer``,
    ``scheduler``, ``train_loader``, ``val_loader``, ``test_loader``, ``n_train``, ``n_val`` (``gradlab lr-find``
    and ``gradlab tune`` use it).

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((40, 1, 2, 2)).astype(np.float32)
    >>> register_dataset("tiny-doc", lambda train=True, root=None: (x, (x[:, 0, 0, 0] > 0).astype(np.int64),
    ...                  {"input_shape": [1, 2, 2], "num_classes": 2}))
    >>> parts = prepare_run(make_config(dataset="tiny-doc", hidden=(8,), batch_size=8, val_split=0.25))
    >>> parts["n_train"], parts["n_val"], type(parts["optimizer"]).__name__
    (30, 10, 'Adam')
    >>> _ = DATASETS.pop("tiny-doc")
    """
    return _prepare(config, data_dir)


def run_training(
    config: dict[str, Any], out: str | os.PathLike, data_dir: str | None = None, resume: bool = False,
    progress: bool = True, log: Callable[[str], None] | None = print, callbacks: Sequence[Any] = (),
    on_nan: str = "raise", overwrite: bool = False, device: Any = None, plan: ParallelPlan | None = None,
    setup: Callable[[Any], Sequence[Any]] | None = None,
) -> dict[str, Any]:
    """Train as ``config`` says, writing the run folder ``out``; returns the results (test loss/accuracy, timing).

    Everything (the folder, the data and its size against ``limit``/``val_split``, the model, the optimizer) is
    checked before ``out`` is touched; ``config.json`` is written when training starts. ``out`` must be missing or
    empty, unless ``resume`` (training continues from its ``checkpoint/``, up to ``config['epochs']``) or
    ``overwrite`` (an earlier run's files are replaced); see :mod:`gradlab.train.runfolder`.
    ``on_nan`` is :func:`~gradlab.train.fit`'s: ``"raise"`` (default), ``"stop"`` or ``"skip-batch"``; weights
    holding NaN or infinity are never saved (FloatingPointError naming the parameter). ``device`` (``"cpu"``,
    ``"cuda"``, a :class:`gradlab.device`) is where the model trains; it is not part of the config, since the run
    folder is device-neutral (weights and checkpoints on the host), so a run may resume or be evaluated elsewhere.
    ``plan``: how the run spreads over processes (:class:`ParallelPlan`; the default is one process).
    holding NaN or infinity are never saved (FloatingPointError naming the parameter).
    ``setup(model) -> regularizers`` runs on the freshly built model before the optimizer is made (fine-tuning
    loads, freezes and anchors weights there; see :mod:`gradlab.train.finetune`); only parameters that still
    require gradients are optimised, and the regularizers go to :func:`~gradlab.train.fit`.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((40, 1, 2, 2)).astype(np.float32)
    >>> register_dataset("tiny-doc", lambda train=True, root=None: (x, (x[:, 0, 0, 0] > 0).astype(np.int64),
    ...                  {"input_shape": [1, 2, 2], "num_classes": 2}))
    >>> import os, tempfile
    >>> cfg = make_config(dataset="tiny-doc", hidden=(8,), epochs=1, batch_size=8)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = run_training(cfg, d, progress=False, log=None)
    ...     files = sorted(os.listdir(d))
    >>> res["epochs"], 0.0 <= res["test_accuracy"] <= 1.0
    (1, True)
    >>> files
    ['checkpoint', 'config.json', 'curves.png', 'history.json', 'results.json', 'weights.safetensors']
    >>> _ = DATASETS.pop("tiny-doc")
    """
    from gradlab.train.finite import check_on_nan
    from gradlab.train.runfolder import check_run_folder, start_run_folder

    plan = plan or ParallelPlan()
    say = log if (log is not None and plan.main) else (lambda s: None)
    out = Path(out)
    ckpt = out / CHECKPOINT_DIRNAME
    with plan.checks():
        check_on_nan(on_nan)
        mode = check_run_folder(out, resume=resume, overwrite=overwrite)
        run = _prepare(config, data_dir, device, plan, setup)
        resume_from = ckpt if mode == "resume" and has_checkpoint(ckpt) else None
    if resume and resume_from is None:
        say(f"no checkpoint in {ckpt}: starting from scratch")
    model = run["model"]
    trained = plan.wrap_model(model) if plan.wrap_model is not None else model
    if plan.main:
        start_run_folder(out, mode)  # training starts: from here on the folder is written
        write_json(out / "config.json", config)
        plan.on_start(out)
    say(f"training {config['model']} on {config['dataset']}: {run['n_train']} train / {run['n_val']} validation "
        f"samples, {config['epochs']} epochs{plan.note}" + (f", resuming from {resume_from}" if resume_from else ""))
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    history = (plan.fit or fit)(trained, loss_fn, run["optimizer"], run["train_loader"], run["val_loader"],
                                epochs=config["epochs"], callbacks=list(callbacks), scheduler=run["scheduler"],
                                checkpoint_dir=ckpt, resume_from=resume_from, progress=progress,
                                clip_grad_norm=config.get("clip_grad_norm"), on_nan=on_nan,
                                **({"regularizers": run["regularizers"]} if run["regularizers"] else {}))
    train_time = time.perf_counter() - t0
    if plan.main:
        save_weights(model, out / "weights.safetensors")
        history.to_json(out / "history.json")
        if len(history):
            history.plot(out / "curves.png", title=f"{config['model']} on {config['dataset']}")
    test = evaluate(model, loss_fn, run["test_loader"])  # the same weights and data on every process
    results = {"test_loss": test["loss"], "test_accuracy": test["accuracy"], "epochs": len(history),
               "train_time_s": train_time, "stopped": history.stop_reason, **plan.extra_results(),
               "history": history}
    if plan.main:
        write_json(out / "results.json", {k: v for k, v in results.items() if k != "history"})
    plan.barrier()  # the folder is complete when run_training returns, on every process
    return results


def load_run_model(run_dir: str | os.PathLike, data_dir: str | None = None) -> tuple[Any, dict[str, Any]]:
    """``(model, config)`` rebuilt from a run folder's ``config.json`` and ``weights.safetensors``.

    >>> load_run_model("no-such-run")
    Traceback (most recent call last):
        ...
    FileNotFoundError: no-such-run: no config.json (is this a finished 'gradlab train' run folder?)
    """
    from gradlab.train.runfolder import read_run_config

    run, config = read_run_config(run_dir)
    if not isinstance(config.get("dataset"), str) \
            or not isinstance(config.get("model"), str) or not isinstance(config.get("model_kwargs", {}), dict):
        raise ValueError(f"{run / 'config.json'} is not a gradlab train config (a JSON object with dataset, model "
                         "and model_kwargs)")
    _, _, info = load_dataset(config["dataset"], train=False, root=data_dir, limit=1)
    model = build_from_config(config, info)
    load_weights(model, run / "weights.safetensors")
    return model, config


def evaluate_run(run_dir: str | os.PathLike, data_dir: str | None = None, batch_size: int = 1000,
                 limit: int | None = None) -> dict[str, Any]:
    """Test loss and accuracy of a finished run (model rebuilt from ``config.json`` + ``weights.safetensors``).

    >>> evaluate_run("no-such-run")
    Traceback (most recent call last):
        ...
    FileNotFoundError: no-such-run: no config.json (is this a finished 'gradlab train' run folder?)
    """
    model, config = load_run_model(run_dir, data_dir)
    xt, yt, _ = load_split(config, train=False, root=data_dir, limit=limit)
    loader = DataLoader(TensorDataset(gradlab.from_numpy(xt), gradlab.from_numpy(yt)), batch_size=batch_size)
    res = evaluate(model, nn.CrossEntropyLoss(), loader)
    return {"dataset": config["dataset"], "model": config["model"], "n": len(yt), "test_loss": res["loss"],
            "test_accuracy": res["accuracy"]}
