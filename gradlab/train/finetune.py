"""Fine-tuning: start from pretrained weights (a gradlab run folder, or a safetensors file, also one saved from a
PyTorch ``state_dict``), swap the classification head, freeze layers by name, and keep the shared weights near their
pretrained values with the :class:`L2SP` penalty ``lambda * ||theta - theta_pretrained||^2``.

:func:`run_finetune` is the engine of ``gradlab finetune``: it writes a normal run folder through
:func:`gradlab.train.experiment.run_training` (so ``gradlab evaluate`` and ``--resume`` work on it).

>>> import gradlab
>>> from gradlab import nn
>>> m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> replace_head(m, 5)
'2'
>>> m(gradlab.zeros(2, 4)).shape
gradlab.Size([2, 5])
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gradlab import nn
from gradlab.tensor import Tensor

__all__ = ["L2SP", "find_head", "replace_head", "load_pretrained", "finetune_config", "run_finetune"]


class L2SP:
    """The L2-SP penalty (Li et al. 2018; seed 003's "keep the new weights near the old ones"):
    ``alpha * sum ||theta - theta_0||^2`` over the shared parameters (their values when the penalty is made) plus,
    optionally, ``beta * sum ||w||^2`` over the new ones (``exclude``: the new head). Call it for the penalty
    Tensor; pass it to :func:`gradlab.train.fit` as ``regularizers=[L2SP(model, 1e-2)]``. Its gradient on a shared
    parameter is ``2 * alpha * (theta - theta_0)``.

    Args:
        model: the module being fine-tuned, holding the pretrained weights now.
        alpha: weight of the pull towards the pretrained values (>= 0).
        exclude: ``fnmatch`` name patterns of parameters that are not shared (the new head); frozen parameters
            (``requires_grad`` False) are left out too.
        beta: plain L2 weight on the excluded (new) parameters (default 0).

    >>> import gradlab
    >>> from gradlab import nn
    >>> m = nn.Linear(2, 1)
    >>> reg = L2SP(m, alpha=0.5)
    >>> reg().item()
    0.0
    >>> with gradlab.no_grad():
    ...     _ = m.bias.add_(2.0)
    >>> round(reg().item(), 5)  # 0.5 * (2 - 0)^2
    2.0
    """

    def __init__(self, model: Any, alpha: float, exclude: Sequence[str] = (), beta: float = 0.0) -> None:
        import fnmatch

        for name, value in (("alpha", alpha), ("beta", beta)):
            if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise ValueError(f"L2SP: {name} must be a finite number >= 0, got {value!r}")
        self.alpha, self.beta = float(alpha), float(beta)
        excluded = lambda n: any(fnmatch.fnmatchcase(n, p) or fnmatch.fnmatchcase(n, p + ".*") for p in exclude)
        self.shared: list[tuple[str, Any, Tensor]] = []
        self.new: list[tuple[str, Any]] = []
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue
            if excluded(name):
                self.new.append((name, p))
            else:
                self.shared.append((name, p, Tensor(np.array(p._data, copy=True))))
        if not self.shared and self.alpha > 0:
            raise ValueError("L2SP: no shared trainable parameter to anchor (all frozen or excluded)")

    @property
    def names(self) -> list[str]:
        """The names of the anchored (shared) parameters.

        >>> from gradlab import nn
        >>> L2SP(nn.Linear(2, 1), 1.0, exclude=["bias"]).names
        ['weight']
        """
        return [n for n, _, _ in self.shared]

    def __call__(self) -> Tensor:
        """The penalty, a scalar Tensor in the graph of the parameters."""
        total: Any = None
        for _, p, p0 in self.shared:
            d = p - p0
            term = (d * d).sum()
            total = term if total is None else total + term
        out = total * self.alpha if total is not None else Tensor(np.array(0.0, dtype=np.float32))
        if self.beta > 0 and self.new:
            extra: Any = None
            for _, p in self.new:
                t = (p * p).sum()
                extra = t if extra is None else extra + t
            out = out + extra * self.beta
        return out


def find_head(model: Any) -> str:
    """The name of the last ``nn.Linear`` of ``model`` (the classification head), in registration order.

    >>> from gradlab.models import LeNet5
    >>> find_head(LeNet5())
    'classifier.5'
    """
    name = None
    for n, m in model.named_modules():
        if isinstance(m, nn.Linear):
            name = n
    if not name:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to use as its head")
    return name


def replace_head(model: Any, num_classes: int, seed: int | None = None) -> str:
    """Swap the last ``nn.Linear`` of ``model`` for a fresh one with ``num_classes`` outputs (same inputs); returns
    its name. A model with a ``config()`` (the zoo) gets its ``num_classes``/``out_features`` updated.

    >>> from gradlab.models import MLP
    >>> m = MLP(4, hidden=(8,), out_features=3)
    >>> replace_head(m, 7), m.config()["out_features"]
    ('3', 7)
    """
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    name = find_head(model)
    old = model.get_submodule(name)
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    if seed is not None:
        import gradlab

        gradlab.manual_seed(seed)
    parent.add_module(child, nn.Linear(old.in_features, num_classes, bias=old.bias is not None))
    cfg = getattr(model, "_config", None)
    if isinstance(cfg, dict):
        for key in ("num_classes", "out_features"):
            if key in cfg:
                cfg[key] = num_classes
    return name


def load_pretrained(model: Any, source: Any, skip: Sequence[str] = ()) -> list[str]:
    """Copy pretrained weights into ``model``: ``source`` is a safetensors file (gradlab's, or a PyTorch
    ``state_dict`` saved with ``safetensors.torch.save_file`` from the same architecture) or a dict of arrays.
    Keys under a name in ``skip`` (a replaced head) are not copied; every other parameter must be there with its
    shape (RuntimeError naming the keys otherwise). Returns the names loaded.

    >>> from gradlab import nn
    >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    >>> load_pretrained(b, a.state_dict(), skip=["bias"])
    ['weight']
    """
    if isinstance(source, (str, os.PathLike)):
        from gradlab import io as gio

        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no pretrained weights file {path}")
        state = dict(gio.load(path))
    else:
        state = dict(source)
    under = lambda k: any(k == s or k.startswith(s + ".") for s in skip)
    wanted = {k: v for k, v in state.items() if not under(k)}
    own = [k for k in model.state_dict() if not under(k)]
    missing = [k for k in own if k not in wanted]
    unexpected = [k for k in wanted if k not in own]
    if missing or unexpected:
        raise RuntimeError(f"the pretrained weights do not fit {type(model).__name__}: "
                           + "; ".join(part for part in (
                               f"missing {', '.join(missing)}" if missing else "",
                               f"unexpected {', '.join(unexpected)}" if unexpected else "") if part))
    try:
        model.load_state_dict(wanted, strict=False)
    except RuntimeError as e:
        sizes = "; ".join(line.strip() for line in str(e).splitlines()[1:])
        raise RuntimeError(f"the pretrained weights do not fit {type(model).__name__}: {sizes} (another number of "
                           "classes? replace the head: new_head=N, --new-head N)") from None
    return list(wanted)


def finetune_config(pretrained_config: dict[str, Any], dataset: str, new_head: int | None = None,
                    freeze: Sequence[str] = (), l2sp: float = 0.0, source: str = "", **train: Any) -> dict[str, Any]:
    """The run config of a fine-tuning run: the pretrained architecture (its ``model`` and ``model_kwargs``, with
    ``new_head`` outputs when given), the training options ``train`` of
    :func:`~gradlab.train.experiment.make_config`, and a ``finetune`` entry recording the source and the options.

    >>> cfg = finetune_config({"model": "lenet5", "model_kwargs": {}}, "fashion-mnist", new_head=10, epochs=2)
    >>> cfg["model_kwargs"], cfg["finetune"]["new_head"], cfg["epochs"]
    ({'num_classes': 10}, 10, 2)
    """
    from gradlab.train.experiment import make_config

    model = pretrained_config.get("model")
    kwargs = pretrained_config.get("model_kwargs", {})
    if not isinstance(model, str) or not isinstance(kwargs, dict):
        raise ValueError("the pretrained config needs a model name and model_kwargs (is it a gradlab run config?)")
    config = make_config(dataset=dataset, model=model, **train)
    mk = dict(kwargs)
    if new_head is not None:
        mk["out_features" if model == "mlp" else "num_classes"] = int(new_head)
    config["model_kwargs"] = mk
    config["finetune"] = {"source": source, "new_head": new_head, "freeze": list(freeze), "l2sp": float(l2sp)}
    return config


def run_finetune(pretrained: str | os.PathLike, out: str | os.PathLike, dataset: str, new_head: int | None = None,
                 freeze: Sequence[str] = (), l2sp: float = 0.0, model: str | None = None,
                 model_kwargs: dict[str, Any] | None = None, data_dir: str | None = None,
                 log: Callable[[str], None] | None = print, callbacks: Sequence[Any] = (), resume: bool = False,
                 overwrite: bool = False, on_nan: str = "raise", **train: Any) -> dict[str, Any]:
    """Fine-tune the weights of ``pretrained`` (a run folder, or a ``.safetensors`` file with ``model`` /
    ``model_kwargs`` naming its architecture) on ``dataset``, writing the run folder ``out``; returns
    :func:`~gradlab.train.experiment.run_training`'s results. ``new_head``: a fresh last Linear with that many
    outputs; ``freeze``: name patterns of :func:`gradlab.nn.utils.freeze`; ``l2sp``: the :class:`L2SP` weight on
    the shared trainable weights; ``train``: ``epochs``, ``lr``, ``optimizer``, ``limit``... as in
    :func:`~gradlab.train.experiment.make_config`.

    >>> run_finetune("no-such-run", "out", "mnist")  # checked before ``out`` is touched
    Traceback (most recent call last):
        ...
    FileNotFoundError: no pretrained run folder or weights file no-such-run
    """
    from gradlab.nn.utils import freeze as freeze_params
    from gradlab.train.experiment import run_training
    from gradlab.train.jsonfile import read_json

    src = Path(pretrained)
    if src.is_dir():
        if not (src / "config.json").is_file() or not (src / "weights.safetensors").is_file():
            raise FileNotFoundError(f"{src}: no config.json and weights.safetensors (is it a finished run folder?)")
        base = read_json(src / "config.json")
        if not isinstance(base, dict):
            raise ValueError(f"{src / 'config.json'} is not a run config")
        if model is not None:
            base = {"model": model, "model_kwargs": dict(model_kwargs or {})}
        weights = src / "weights.safetensors"
    elif src.is_file():
        if model is None:
            raise ValueError(f"{src} is a weights file: name its architecture (model=..., --model)")
        base, weights = {"model": model, "model_kwargs": dict(model_kwargs or {})}, src
    else:
        raise FileNotFoundError(f"no pretrained run folder or weights file {src}")
    if l2sp < 0:
        raise ValueError(f"l2sp must be >= 0, got {l2sp}")
    config = finetune_config(base, dataset, new_head, freeze, l2sp, source=str(src), **train)

    def setup(net: Any) -> list[Any]:
        head = [find_head(net)] if new_head is not None else []
        load_pretrained(net, weights, skip=head)
        if freeze:
            freeze_params(net, *freeze)
        return [L2SP(net, l2sp, exclude=head)] if l2sp > 0 else []

    return run_training(config, out, data_dir=data_dir, resume=resume, progress=False, log=log,
                        callbacks=callbacks, on_nan=on_nan, overwrite=overwrite, setup=setup)
