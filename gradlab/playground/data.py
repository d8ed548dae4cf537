"""The playground's data: the toy 2-D sets (plus multi-class gauss and spiral), uploaded CSV files, input features.

Every point lies in the plotting square ``[-6, 6]^2``; classification labels are ints ``0 .. k-1``, regression
targets floats in ``[-1, 1]``.

>>> from gradlab.playground.config import DEFAULTS
>>> x, y = make_dataset(dict(DEFAULTS, dataset="spiral", classes=3, n_points=300))
>>> x.shape, sorted(set(y.tolist()))
((300, 2), [0, 1, 2])
>>> [round(v, 3) for v in feature_matrix(np.array([[1.0, 2.0]], np.float32), ["x1", "x1x2", "sinx2"])[0].tolist()]
[1.0, 2.0, 0.909]
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradlab.data.datasets.toy import CLASSIFICATION_DATASETS, REGRESSION_DATASETS

from .config import DOMAIN, FEATURES, MAX_CLASSES, MAX_CSV_BYTES, MAX_CSV_ROWS, SettingsError

__all__ = ["make_dataset", "make_multiclass_gauss", "make_multiclass_spiral", "split", "feature_matrix",
           "grid_points", "parse_csv", "UploadedData"]


def make_multiclass_gauss(n: int, k: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``k`` Gaussian blobs on a circle of radius 2*sqrt(2) (for k=2: around (2, 2) and (-2, -2), as gauss)."""
    variance = 0.5 + (4.0 - 0.5) * (noise / 0.5)
    y = np.arange(n) % k
    angle = np.pi / 4 + 2 * np.pi * y / k
    centers = 2 * math.sqrt(2) * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x = centers + rng.standard_normal((n, 2)) * math.sqrt(variance)
    return x.astype(np.float32), y.astype(np.int64)


def make_multiclass_spiral(n: int, k: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``k`` interleaved spiral arms (1.75 turns, radius 0 to 5), arm ``j`` rotated by ``2 pi j / k``."""
    xs, ys = [], []
    for j in range(k):
        m = n // k + (1 if j < n % k else 0)
        i = np.arange(m, dtype=np.float64)
        r = i / max(m, 1) * 5.0
        t = 1.75 * i / max(m, 1) * 2 * np.pi + 2 * np.pi * j / k
        jitter = rng.uniform(-1.0, 1.0, (m, 2)) * noise
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + jitter)
        ys.append(np.full(m, j, np.int64))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def make_dataset(settings: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """All points of the generated data set named by ``settings`` (shuffled, seeded by ``settings['seed']``)."""
    n, noise, seed = settings["n_points"], settings["noise"] / 100.0, settings["seed"]
    name, k = settings["dataset"], settings["classes"]
    if settings["problem"] == "regression":
        x, y = REGRESSION_DATASETS[name](n, noise, seed=seed)
        return x, np.clip(y, -1.0, 1.0).astype(np.float32)
    if k > 2 and name in ("gauss", "spiral"):
        rng = np.random.default_rng(seed)
        maker = make_multiclass_gauss if name == "gauss" else make_multiclass_spiral
        x, y = maker(n, k, noise, rng)
        p = rng.permutation(n)
        return x[p], y[p]
    return CLASSIFICATION_DATASETS[name](n, noise, seed=seed)


def split(x: np.ndarray, y: np.ndarray, train_ratio: int, seed: int) -> tuple[np.ndarray, ...]:
    """Shuffle with ``seed`` and cut at ``train_ratio`` percent: ``(x_train, y_train, x_test, y_test)``; each side
    keeps at least one point."""
    p = np.random.default_rng(seed + 7919).permutation(len(x))
    x, y = x[p], y[p]
    n_train = min(max(int(round(len(x) * train_ratio / 100.0)), 1), len(x) - 1)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


_FEATURE_FUNCS = {
    "x1": lambda a, b: a, "x2": lambda a, b: b, "x1sq": lambda a, b: a * a, "x2sq": lambda a, b: b * b,
    "x1x2": lambda a, b: a * b, "sinx1": lambda a, b: np.sin(a), "sinx2": lambda a, b: np.sin(b),
}
FEATURE_CODE = {  # the same features as Python source, for the exported snippet
    "x1": "x1", "x2": "x2", "x1sq": "x1 * x1", "x2sq": "x2 * x2", "x1x2": "x1 * x2", "sinx1": "np.sin(x1)",
    "sinx2": "np.sin(x2)",
}
assert set(_FEATURE_FUNCS) == set(FEATURES) == set(FEATURE_CODE)


def feature_matrix(points: np.ndarray, features: list[str]) -> np.ndarray:
    """The network input for ``(n, 2)`` points: one float32 column per feature name."""
    a, b = points[:, 0].astype(np.float32), points[:, 1].astype(np.float32)
    return np.ascontiguousarray(np.stack([_FEATURE_FUNCS[f](a, b) for f in features], axis=1), dtype=np.float32)


def grid_points(n: int, domain: float = DOMAIN) -> np.ndarray:
    """``n * n`` cell centres over ``[-domain, domain]^2`` in image order: row 0 is the top (x2 = +domain),
    column 0 the left (x1 = -domain).

    >>> g = grid_points(2, 6.0); g.tolist()
    [[-3.0, 3.0], [3.0, 3.0], [-3.0, -3.0], [3.0, -3.0]]
    """
    c = (np.arange(n, dtype=np.float32) + 0.5) / n * 2 * domain - domain
    x1, x2 = np.meshgrid(c, c[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1).astype(np.float32)


@dataclass
class UploadedData:
    """A validated CSV data set: points scaled into the plot, labels or targets, and what was done to them."""

    x: np.ndarray
    y: np.ndarray
    problem: str
    n_classes: int
    note: str


def parse_csv(text: Any, problem: str) -> UploadedData:
    """Parse ``x1,x2,label`` rows (an optional header line; commas, semicolons or tabs).

    Classification labels must be whole numbers: ``0 .. k-1`` (2 <= k <= 6) or ``-1/+1`` (read as 0/1).
    Regression targets are any finite numbers, scaled into ``[-1, 1]`` by their largest magnitude.
    The points are centred and scaled to fit ``[-5, 5]^2`` (aspect ratio kept). Raises :class:`SettingsError`
    naming the first bad line.

    >>> d = parse_csv("x1,x2,label\\n0,0,0\\n1,1,1\\n2,0,1\\n0,2,0\\n", "classification")
    >>> d.x.shape, d.y.tolist(), d.n_classes
    ((4, 2), [0, 1, 1, 0], 2)
    """
    if not isinstance(text, str):
        raise SettingsError("the CSV upload must be text")
    if len(text.encode("utf-8", "replace")) > MAX_CSV_BYTES:
        raise SettingsError(f"the CSV file is too large (limit {MAX_CSV_BYTES // 1000} kB)")
    if problem not in ("classification", "regression"):
        raise SettingsError("problem must be classification or regression")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise SettingsError("the CSV file is empty: expected rows of x1,x2,label")
    delim = max((",", ";", "\t"), key=lambda d: lines[0].count(d))
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
    start = 0
    try:
        [float(v) for v in rows[0]]
    except ValueError:
        start = 1  # a header line
    data = rows[start:]
    if len(data) > MAX_CSV_ROWS:
        raise SettingsError(f"the CSV file has {len(data)} rows; at most {MAX_CSV_ROWS} are allowed")
    if len(data) < 4:
        raise SettingsError(f"the CSV file needs at least 4 data rows, it has {len(data)}")
    values = np.empty((len(data), 3), np.float64)
    for i, row in enumerate(data):
        line = i + start + 1
        if len(row) != 3:
            raise SettingsError(f"CSV line {line}: expected 3 columns x1,x2,label, found {len(row)}")
        try:
            values[i] = [float(v) for v in row]
        except ValueError:
            raise SettingsError(f"CSV line {line}: not a number in {_clip(delim.join(row))}") from None
        if not np.isfinite(values[i]).all():
            raise SettingsError(f"CSV line {line}: values must be finite numbers")
    pts, labels = values[:, :2], values[:, 2]
    center = (pts.max(0) + pts.min(0)) / 2
    span = float(np.abs(pts - center).max())
    scale = 5.0 / span if span > 0 else 1.0
    x = ((pts - center) * scale).astype(np.float32)
    note = f"{len(data)} points, centred and scaled by {scale:.3g} to fit the plot"
    if problem == "regression":
        top = float(np.abs(labels).max())
        y = (labels / top if top > 0 else labels).astype(np.float32)
        if top > 1:
            note += f"; targets divided by {top:.3g}"
        return UploadedData(x, y, problem, 0, note)
    if not np.all(labels == np.round(labels)):
        bad = int(np.argmax(labels != np.round(labels)))
        raise SettingsError(f"CSV line {bad + start + 1}: a class label must be a whole number, got {labels[bad]:g}")
    classes = sorted(set(labels.astype(np.int64).tolist()))
    if classes == [-1, 1] or classes == [-1]:
        labels = (labels > 0).astype(np.float64)
        classes = sorted(set(labels.astype(np.int64).tolist()))
    if min(classes) < 0 or max(classes) >= MAX_CLASSES:
        raise SettingsError(f"class labels must be 0 to {MAX_CLASSES - 1} (or -1/+1), got {min(classes)} to "
                            f"{max(classes)}")
    k = max(classes) + 1
    if len(classes) < 2:
        raise SettingsError("a classification data set needs at least two classes")
    return UploadedData(x, labels.astype(np.int64), problem, max(k, 2), note + f"; {k} classes")


def _clip(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")

