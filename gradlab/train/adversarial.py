"""Callbacks of the zoo for :func:`gradlab.train.fit`: :class:`AdversarialTraining` (train on FGSM/PGD examples)
and :class:`DataInit` (data-dependent initialisation before the first epoch, e.g. an RBF network's k-means
centres).

:class:`AdversarialTraining` installs a forward pre-hook on the model while ``fit`` runs: in training mode (with
gradients on) it replaces a fraction ``ratio`` of each batch by adversarial versions before the forward pass. The
hook sees only the inputs, so the attack uses the model's own predictions on the clean batch as labels (Kurakin et
al. 2017, which also avoids "label leaking"). Validation and evaluation (eval mode) are untouched. Epsilon and the
valid range are given in pixel units and mapped through the data's normalisation (``mean``/``std``).

>>> import gradlab
>>> from gradlab import nn, optim
>>> from gradlab.data import DataLoader, TensorDataset
>>> from gradlab.train import fit
>>> gradlab.manual_seed(0)  # doctest: +ELLIPSIS
<...>
>>> X, y = gradlab.rand(32, 1, 4, 4), gradlab.randint(0, 2, (32,))
>>> model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
>>> hist = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
...            DataLoader(TensorDataset(X, y), batch_size=8), epochs=2, progress=False,
...            callbacks=[AdversarialTraining("fgsm", epsilon=0.1)])
>>> len(hist.history["loss"]), len(model._forward_pre_hooks)
(2, 0)
"""
from __future__ import annotations

from typing import Any

import numpy as np

import gradlab
from gradlab.train.base import Callback

__all__ = ["AdversarialTraining", "DataInit"]


class AdversarialTraining(Callback):
    """Adversarial training as a callback.

    Args:
        attack: ``'fgsm'`` or ``'pgd'``.
        epsilon: the L-infinity budget in pixel units (>= 0).
        ratio: the fraction of each training batch replaced by adversarial examples (default 0.5; 1 = all).
        mean, std: the normalisation applied to the pixels ([0, 1]) before the model (inputs = (pixel - mean) /
            std): epsilon becomes ``epsilon / std`` and the valid range ``((0 - mean) / std, (1 - mean) / std)``.
        seed: the generator that picks the replaced samples (and PGD's random starts).
        attack_kwargs: passed to the attack (e.g. ``steps=7`` for PGD).

    >>> cb = AdversarialTraining("fgsm", epsilon=0.1, mean=0.1307, std=0.3081)  # MNIST's standardisation
    >>> round(cb.scaled_epsilon, 4), tuple(round(v, 4) for v in cb.clip)
    (0.3246, (-0.4242, 2.8215))
    """

    def __init__(self, attack: str = "fgsm", epsilon: float = 0.1, ratio: float = 0.5, mean: float = 0.0,
                 std: float = 1.0, seed: int = 0, **attack_kwargs: Any) -> None:
        from gradlab.attacks import ATTACKS, _check

        super().__init__()
        if attack not in ATTACKS:
            raise ValueError(f"unknown attack {attack!r}; available: {', '.join(ATTACKS)}")
        if not 0.0 < ratio <= 1.0:
            raise ValueError(f"ratio must be in (0, 1], got {ratio}")
        if not std > 0:
            raise ValueError(f"std must be > 0, got {std}")
        _check(epsilon, None)
        self.attack = attack
        self.epsilon = float(epsilon)
        self.ratio = float(ratio)
        self.scaled_epsilon = float(epsilon) / float(std)
        self.clip = ((0.0 - mean) / std, (1.0 - mean) / std)
        self.attack_kwargs = attack_kwargs
        self.generator = gradlab.Generator(seed)
        self._handle: Any = None
        self._busy = False

    def _hook(self, module: Any, args: tuple) -> Any:
        if self._busy or not module.training or not gradlab.is_grad_enabled() or len(args) != 1:
            return None
        from gradlab.attacks import ATTACKS

        x = args[0]
        data = np.asarray(getattr(x, "data", x))
        self._busy = True
        try:
            with gradlab.no_grad():
                module.eval()
                pred = np.asarray(module(gradlab.tensor(data))._data).argmax(1)
                module.train()
            kw = dict(self.attack_kwargs)
            if self.attack == "pgd":
                kw.setdefault("generator", self.generator)
            adv = np.asarray(ATTACKS[self.attack](module, data, gradlab.tensor(pred), self.scaled_epsilon,
                                                  clip=self.clip, **kw)._data)
        finally:
            self._busy = False
        if self.ratio < 1.0:
            pick = self.generator.numpy_rng.random(len(data)) < self.ratio
            adv = np.where(pick.reshape((-1,) + (1,) * (data.ndim - 1)), adv, data)
        return (gradlab.tensor(adv.astype(data.dtype, copy=False)),)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._handle = self.model.register_forward_pre_hook(self._hook)

    def _remove(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._remove()

    def on_exception(self, exc: BaseException) -> None:
        self._remove()


class DataInit(Callback):
    """Before the first epoch of a fresh (not resumed) run, call ``model.init_from_data(x, seed=seed)`` with up to
    ``max_samples`` training inputs gathered from the training loader (a no-op for models without that method;
    :class:`gradlab.models.RBFNetwork` places its centres by k-means there).

    >>> DataInit(max_samples=500).max_samples
    500
    """

    def __init__(self, max_samples: int = 10000, seed: int = 0) -> None:
        super().__init__()
        self.max_samples = int(max_samples)
        self.seed = int(seed)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        model, state = self.model, self.state
        init = getattr(model, "init_from_data", None)
        if init is None or getattr(state, "resumed", False):
            return
        chunks, n = [], 0
        for batch in state.train_loader:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            chunks.append(np.asarray(getattr(x, "data", x)))
            n += len(chunks[-1])
            if n >= self.max_samples:
                break
        if chunks:
            init(np.concatenate(chunks)[: self.max_samples], seed=self.seed)
