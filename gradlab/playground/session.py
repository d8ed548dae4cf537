"""One playground session: data, network, optimizer and training, with frames for the page. Plain gradlab and
numpy, no server: the ASGI app (:mod:`gradlab.playground.app`) only carries its messages.

>>> s = Session({"dataset": "xor", "layers": [4]})
>>> s.layer_sizes
[2, 4, 1]
>>> import base64
>>> f = s.step()           # one epoch
>>> f["type"], f["epoch"], len(base64.b64decode(f["heatmap"]))
('frame', 1, 10000)
"""
from __future__ import annotations

import functools
import math
import time
from typing import Any

import numpy as np

import gradlab
import gradlab.nn.functional as F
from gradlab import nn, optim

from .config import ACTIVATIONS, DATA_SETTINGS, GRID, LIMITS, LIVE_SETTINGS, SettingsError, describe, n_classes_for
from .config import validate_settings as _validate
from .data import UploadedData, feature_matrix, grid_points, make_dataset, split
from .frames import accuracy, b64, heatmap_bytes, loss, output_values, scaled_columns, signed_bytes

__all__ = ["Session", "SettingsError"]

_GAIN_NAME = {"relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh", "sigmoid": "sigmoid", "linear": "linear"}
HISTORY_CAP = 2000
THUMB = 16               # every neuron's small picture is THUMB x THUMB ...
MAX_THUMB_NEURONS = 160  # ... sent with each frame while the network has at most this many neurons


def _grad(lin: Any) -> np.ndarray:
    grad = lin.weight.grad
    assert grad is not None, "backward did not reach a weight"
    return grad._data


def _quiet(fn: Any) -> Any:
    """Run without numpy's overflow warnings: divergence is detected and reported to the page instead."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return wrapper


class Session:
    """A network training on a 2-D data set, driven by messages; every public method returns JSON-ready dicts.

    ``settings`` is a partial settings dict (validated; :class:`SettingsError` when bad). ``clock`` gives
    ``last_active`` (for idle expiry by the session manager).

    >>> s = Session({"dataset": "xor", "layers": [4], "seed": 3})
    >>> s.layer_sizes, s.epoch
    ([2, 4, 1], 0)
    >>> frame = s.step()
    >>> frame["type"], s.epoch
    ('frame', 1)
    >>> Session({"lr": 0})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    gradlab.playground.config.SettingsError: learning rate must be a number above 0 and at most 10; got 0
    """

    def __init__(self, settings: dict[str, Any] | None = None, *, sid: str = "", clock: Any = time.monotonic):
        self.sid = sid
        self.clock = clock
        self.last_active = clock()
        self.csv: UploadedData | None = None
        self.settings = _validate(settings or {})
        self.neuron: tuple[int, int] | None = None  # the hovered neuron (layer, index), sent with each frame
        self._rebuild(data=True)

    # ------------------------------------------------------------------ building
    @property
    def n_classes(self) -> int:
        if self.settings["dataset"] == "csv" and self.csv is not None:
            return self.csv.n_classes
        return n_classes_for(self.settings)

    @property
    def kind(self) -> str:
        """``binary``, ``multi`` (softmax over k > 2 classes) or ``regression``."""
        return "regression" if self.n_classes == 0 else "multi" if self.n_classes > 2 else "binary"

    @property
    def n_out(self) -> int:
        return self.n_classes if self.n_classes > 2 else 1

    def _rebuild(self, data: bool) -> None:
        s = self.settings
        if data:
            if s["dataset"] == "csv" and self.csv is not None:
                x, y = self.csv.x, self.csv.y
            else:
                x, y = make_dataset(s)
            self.x_train, self.y_train, self.x_test, self.y_test = split(x, y, s["train_ratio"], s["seed"])
        feats = s["features"]
        self._grid_x = feature_matrix(grid_points(GRID), feats)
        self._train_x = feature_matrix(self.x_train, feats)
        self._thumb_x = feature_matrix(grid_points(THUMB), feats)
        self._eval_x = np.concatenate([self._grid_x, self._thumb_x, self._train_x, feature_matrix(self.x_test, feats)])
        self._train_y: np.ndarray = (self.y_train.astype(np.int64) if self.n_classes > 2
                                     else self.y_train.astype(np.float32).reshape(-1, 1))
        self.layer_sizes = [len(feats), *s["layers"], self.n_out]
        self._build_network()

    def _build_network(self) -> None:
        s = self.settings
        gen = gradlab.Generator(s["seed"])
        act_cls = getattr(nn, ACTIVATIONS[s["activation"]])
        mods: list[Any] = []
        for i, (a, b) in enumerate(zip(self.layer_sizes[:-1], self.layer_sizes[1:])):
            lin = nn.Linear(a, b)
            self._init_linear(lin, gen)
            mods.append(lin)
            if i < len(self.layer_sizes) - 2:
                mods.append(act_cls())
        self.model = nn.Sequential(*mods)
        self.linears = [m for m in mods if isinstance(m, nn.Linear)]
        self._dropout_gen = gradlab.Generator(s["seed"] + 1)
        self._rng = np.random.default_rng(s["seed"] + 2)
        self._perm = self._rng.permutation(len(self.x_train))
        self._pos = 0
        self.epoch = 0
        self.frame_no = 0
        self.diverged: str | None = None
        self.history: list[list[float]] = []
        self._grad_sum = np.zeros(len(self.linears))
        self._grad_steps = 0
        self._make_optimizer()
        self.grad_norms = self._probe_grad_norms()
        self.neuron = None  # the layers may have changed: the page asks again

    def _init_linear(self, lin: Any, gen: Any) -> None:
        init, act = self.settings["init"], self.settings["activation"]
        w, b = lin.weight, lin.bias
        if init == "default":  # PyTorch's nn.Linear default, drawn from this session's seeded generator
            nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=gen)
            bound = 1.0 / math.sqrt(w.shape[1])
            nn.init.uniform_(b, -bound, bound, generator=gen)
            return
        if init == "xavier":
            nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain(_GAIN_NAME.get(act, "relu")), generator=gen)
        else:
            nn.init.kaiming_normal_(w, nonlinearity="leaky_relu" if act == "leaky_relu" else "relu", generator=gen)
        nn.init.zeros_(b)

    def _make_optimizer(self) -> None:
        s, params = self.settings, list(self.model.parameters())
        name, lr = s["optimizer"], s["lr"]
        self.optimizer: optim.Optimizer
        if name == "sgd":
            self.optimizer = optim.SGD(params, lr=lr)
        elif name == "momentum":
            self.optimizer = optim.SGD(params, lr=lr, momentum=0.9)
        elif name == "rmsprop":
            self.optimizer = optim.RMSprop(params, lr=lr)
        else:
            self.optimizer = optim.Adam(params, lr=lr)

    # ------------------------------------------------------------------ settings
    def touch(self) -> None:
        self.last_active = self.clock()

    def configure(self, update: Any) -> None:
        """Apply a partial settings update (validated first: a refused update changes nothing)."""
        new = _validate(update, self.settings, csv_problem=self.csv.problem if self.csv else None)
        changed = {k for k in new if new[k] != self.settings[k]}
        old, self.settings = self.settings, new
        if not changed:
            return
        if changed <= LIVE_SETTINGS and not self.diverged:  # a diverged network starts afresh on any change
            if "optimizer" in changed:
                self._make_optimizer()
            for group in self.optimizer.param_groups:
                group["lr"] = new["lr"]
            return
        try:
            self._rebuild(data=bool(changed & DATA_SETTINGS))
        except Exception:
            self.settings = old
            self._rebuild(data=True)
            raise

    def reset(self) -> None:
        self._build_network()

    def regenerate(self) -> None:
        """New data: a fresh seed (it also seeds the weights, so a link with the seed reproduces both)."""
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        self.configure({"seed": seed})

    def upload(self, data: UploadedData) -> None:
        """Train on an uploaded CSV data set from now on."""
        previous = self.csv
        self.csv = data
        try:
            self.configure({"dataset": "csv"})
            self._rebuild(data=True)
        except SettingsError:
            self.csv = previous
            raise

    # ------------------------------------------------------------------ training
    def _forward(self, x: Any, training: bool) -> Any:
        p = self.settings["dropout"] if training else 0.0
        h = x
        for i, lin in enumerate(self.linears):
            h = lin(h)
            if i < len(self.linears) - 1:
                h = self.model[2 * i + 1](h)
                if p > 0:
                    h = F.dropout(h, p, training=True, generator=self._dropout_gen)
        return h

    def _loss(self, out: Any, y: Any) -> Any:
        if self.settings["problem"] == "regression":
            return F.mse_loss(out, y)
        if self.n_classes > 2:
            return F.cross_entropy(out, y)
        return F.binary_cross_entropy_with_logits(out, y)

    def _train_step(self, idx: np.ndarray) -> float:
        out = self._forward(gradlab.from_numpy(self._train_x[idx]), training=True)
        loss = self._loss(out, gradlab.from_numpy(self._train_y[idx]))
        self.optimizer.zero_grad()
        loss.backward()
        reg, rate = self.settings["regularization"], self.settings["reg_rate"]
        for j, lin in enumerate(self.linears):
            g, w = _grad(lin), lin.weight._data
            self._grad_sum[j] += float(np.sqrt(np.dot(g.ravel(), g.ravel())))
            if reg == "l2" and rate > 0:
                g += rate * w
            elif reg == "l1" and rate > 0:
                g += rate * np.sign(w)
        self._grad_steps += 1
        self.optimizer.step()
        return float(loss._data)

    @_quiet
    def _probe_grad_norms(self) -> list[float]:
        """Per-layer weight-gradient norms on the whole training set, without a step (the picture at init)."""
        out = self._forward(gradlab.from_numpy(self._train_x), training=False)
        self.model.zero_grad()
        self._loss(out, gradlab.from_numpy(self._train_y)).backward()
        norms = [float(np.linalg.norm(_grad(lin))) for lin in self.linears]
        self.model.zero_grad()
        return norms

    def _diverge(self, what: str) -> None:
        lr = self.settings["lr"]
        self.diverged = (f"Training paused at epoch {self.epoch}: the {what} became NaN or infinite. The learning "
                         f"rate ({lr:g}) is probably too high for this network: lower it (the network starts afresh "
                         "on any change) or press reset.")

    @_quiet
    def advance(self, budget_s: float = 0.03, max_epochs: int = 1) -> None:
        """Train for up to ``max_epochs`` epochs (mini-batches in a fresh shuffle each epoch), stopping early once
        ``budget_s`` seconds have passed; an unfinished epoch goes on at the next call."""
        if self.diverged:
            return
        n, bs = len(self._train_x), self.settings["batch_size"]
        t0, done = time.perf_counter(), 0
        while True:
            idx = self._perm[self._pos:self._pos + bs]
            self._pos += bs
            loss = self._train_step(idx)
            if not math.isfinite(loss):
                self._diverge("training loss")
                return
            if self._pos >= n:
                self.epoch += 1
                done += 1
                self._perm, self._pos = self._rng.permutation(n), 0
                if done >= max_epochs:
                    return
            if time.perf_counter() - t0 > budget_s:
                return

    # ------------------------------------------------------------------ frames
    def _evaluate(self) -> tuple[np.ndarray, np.ndarray | None, list[np.ndarray]]:
        """One batched forward over grid + thumbnail grid + train + test points (no graph). Returns the output, the
        hovered neuron's values over the grid, and each layer's values over the thumbnail grid."""
        want, g, t = self.neuron, GRID * GRID, THUMB * THUMB
        captured = None
        thumbs = [self._thumb_x] if sum(self.layer_sizes) <= MAX_THUMB_NEURONS else []
        with gradlab.no_grad():
            h = gradlab.from_numpy(self._eval_x)
            for i, lin in enumerate(self.linears):
                h = lin(h)
                if i < len(self.linears) - 1:
                    h = self.model[2 * i + 1](h)
                    if thumbs:
                        thumbs.append(h._data[g:g + t])
                if want is not None and want[0] == i + 1:
                    captured = h._data[:g, want[1]]
        out = h._data
        if thumbs:
            thumbs.append(np.stack([output_values(out[g:g + t], j, self.kind) for j in range(self.n_out)], axis=1))
        if want is not None and want[0] == 0:
            captured = self._grid_x[:, want[1]]
        elif want is not None and want[0] == len(self.linears) and captured is not None:
            captured = output_values(out[:g], want[1], self.kind)
        return out, captured, thumbs

    @_quiet
    def frame(self) -> dict[str, Any]:
        """The picture now: output heatmap, losses, link weights, gradient norms (and the hovered neuron)."""
        out, neuron, thumbs = self._evaluate()
        g, n_tr = GRID * GRID + THUMB * THUMB, len(self._train_x)
        tr_out, te_out = out[g:g + n_tr], out[g + n_tr:]
        train_loss, test_loss = loss(tr_out, self.y_train, self.kind), loss(te_out, self.y_test, self.kind)
        if not (math.isfinite(train_loss) and math.isfinite(test_loss)) or not np.isfinite(out[:g]).all():
            self._diverge("loss" if math.isfinite(train_loss) else "training loss")
            return self.paused_message()
        if self._grad_steps:
            self.grad_norms = [v if math.isfinite(v) else None for v in (self._grad_sum / self._grad_steps).tolist()]
            self._grad_sum[:] = 0
            self._grad_steps = 0
        self.frame_no += 1
        if not self.history or self.history[-1][0] != self.epoch:
            self.history.append([self.epoch, round(train_loss, 5), round(test_loss, 5)])
            if len(self.history) > HISTORY_CAP:
                self.history = self.history[::2]
        weights = np.concatenate([lin.weight._data.ravel() for lin in self.linears])
        wscale = float(np.abs(weights).max()) or 1.0
        msg: dict[str, Any] = {
            "type": "frame", "frame": self.frame_no, "epoch": self.epoch, "train_loss": train_loss,
            "test_loss": test_loss, "heatmap": b64(heatmap_bytes(out[:GRID * GRID], self.kind)),
            "weights": b64(np.rint(weights / wscale * 127).astype(np.int8)), "wscale": wscale,
            "grad_norms": self.grad_norms,
        }
        if self.n_classes >= 2:
            msg["train_acc"] = accuracy(tr_out, self.y_train, self.kind)
            msg["test_acc"] = accuracy(te_out, self.y_test, self.kind)
        if thumbs:  # per neuron, layer by layer: THUMB*THUMB bytes, each scaled by its own max |value|
            msg["thumbs"] = b64(np.concatenate([scaled_columns(v) for v in thumbs], axis=1).T)
            msg["thumb_size"] = THUMB
        if neuron is not None and self.neuron is not None:
            msg["neuron"] = self._neuron_message(neuron)
        return msg

    def _neuron_message(self, values: np.ndarray) -> dict[str, Any]:
        assert self.neuron is not None
        data, scale = signed_bytes(values)
        return {"layer": self.neuron[0], "index": self.neuron[1], "heatmap": data, "scale": scale}

    @_quiet
    def set_neuron(self, layer: Any, index: Any) -> dict[str, Any] | None:
        """Hover: send ``(layer, index)``'s heatmap with every frame (layer 0: inputs, last: output); ``None``
        stops it. Returns the neuron's heatmap now (for a paused page), or None."""
        if layer is None:
            self.neuron = None
            return None
        ok = (isinstance(layer, int) and isinstance(index, int) and not isinstance(layer, bool)
              and not isinstance(index, bool) and 0 <= layer < len(self.layer_sizes)
              and 0 <= index < self.layer_sizes[layer])
        if not ok:
            raise SettingsError(f"no neuron {describe(index)} in layer {describe(layer)}: layers are whole numbers "
                                f"from 0 (the inputs) to {len(self.layer_sizes) - 1} (the output)")
        self.neuron = (layer, index)
        _, values, _ = self._evaluate()
        return {"type": "neuron", **self._neuron_message(values)} if values is not None else None

    def play_frame(self, budget_s: float = 0.03) -> dict[str, Any]:
        """Train a while and return the next frame (or a ``paused`` message when training diverged)."""
        self.advance(budget_s)
        return self.paused_message() if self.diverged else self.frame()

    def step(self) -> dict[str, Any]:
        """One whole epoch, then a frame."""
        self.advance(budget_s=math.inf)
        return self.paused_message() if self.diverged else self.frame()

    def step_slice(self, target: int, budget_s: float) -> bool:
        """Train towards the end of epoch ``target`` for at most about ``budget_s`` seconds; True once it is reached
        (or training diverged). A step of the page is a series of these, so one long epoch never holds the worker.

        >>> s = Session({"layers": [2], "n_points": 100, "batch_size": 1})
        >>> done = [s.step_slice(1, 0.0) for _ in range(60)]
        >>> done.index(True), s.epoch
        (49, 1)
        """
        if self.epoch < target and not self.diverged:
            self.advance(budget_s, max_epochs=1)
        return self.epoch >= target or self.diverged is not None

    def weight(self, layer: Any, src: Any, dst: Any, value: Any = None) -> dict[str, Any]:
        """Read (``value`` None) or set the weight of the link from neuron ``src`` of layer ``layer - 1`` to neuron
        ``dst`` of layer ``layer`` (layers numbered as in :meth:`set_neuron`; 1: the first weight matrix).

        >>> s = Session({"layers": [3]})
        >>> s.weight(1, 0, 2, 0.5)["value"], s.weight(1, 0, 2)["value"]
        (0.5, 0.5)
        """
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (layer, src, dst))
        if not ints or not (1 <= layer < len(self.layer_sizes) and 0 <= src < self.layer_sizes[layer - 1]
                            and 0 <= dst < self.layer_sizes[layer]):
            raise SettingsError(f"no link from neuron {describe(src)} of layer {describe(layer - 1 if ints else layer)}"
                                f" to neuron {describe(dst)} of the next layer")
        w = self.linears[layer - 1].weight._data
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or abs(value) > 1e6:
                raise SettingsError("a weight must be a number between -1,000,000 and 1,000,000; "
                                    f"got {describe(value)}")
            w[dst, src] = value
        return {"type": "weight", "layer": layer, "src": src, "dst": dst, "value": float(w[dst, src])}

    def paused_message(self) -> dict[str, Any]:
        return {"type": "paused", "reason": self.diverged or "paused", "epoch": self.epoch, "diverged": True}

    def state(self) -> dict[str, Any]:
        """Everything the page needs to redraw from scratch (settings, data points, layer sizes, history)."""
        def pts(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
            return {"x": np.round(x, 3).ravel().tolist(), "y": np.round(y, 4).tolist()}

        return {
            "type": "state", "session": self.sid, "settings": self.settings, "layer_sizes": self.layer_sizes,
            "n_classes": self.n_classes, "problem": self.settings["problem"], "epoch": self.epoch,
            "train": pts(self.x_train, self.y_train), "test": pts(self.x_test, self.y_test),
            "history": self.history, "diverged": self.diverged, "grad_norms": self.grad_norms,
            "csv": self.csv.note if self.csv is not None else None, "limits": LIMITS,
        }
