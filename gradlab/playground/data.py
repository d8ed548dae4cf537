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
           "grid_points", "parse_csv", "UploadedData", "SCALINGS", "MAX_ABS_VALUE"]


def make_multiclass_gauss(n: int, k: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``k`` Gaussian blobs on a circle of radius 2*sqrt(2) (for k=2: around (2, 2) and (-2, -2), as gauss).

    >>> x, y = make_multiclass_gauss(90, 3, 0.0, np.random.default_rng(0))
    >>> x.shape, np.bincount(y).tolist()
    ((90, 2), [30, 30, 30])
    """
    variance = 0.5 + (4.0 - 0.5) * (noise / 0.5)
    y = np.arange(n) % k
    angle = np.pi / 4 + 2 * np.pi * y / k
    centers = 2 * math.sqrt(2) * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x = centers + rng.standard_normal((n, 2)) * math.sqrt(variance)
    return x.astype(np.float32), y.astype(np.int64)


def make_multiclass_spiral(n: int, k: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``k`` interleaved spiral arms (1.75 turns, radius 0 to 5), arm ``j`` rotated by ``2 pi j / k``.

    >>> x, y = make_multiclass_spiral(60, 4, 0.0, np.random.default_rng(0))
    >>> x.shape, np.bincount(y).tolist(), bool(np.abs(x).max() <= 5.0)
    ((60, 2), [15, 15, 15, 15], True)
    """
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
    """All points of the generated data set named by ``settings`` (shuffled, seeded by ``settings['seed']``).

    >>> from gradlab.playground.config import DEFAULTS
    >>> x, y = make_dataset(dict(DEFAULTS, dataset="xor", n_points=100))
    >>> x.shape, x.dtype, sorted(set(y.tolist()))
    ((100, 2), dtype('float32'), [0, 1])
    >>> bool((make_dataset(dict(DEFAULTS, dataset="xor", n_points=100))[0] == x).all())  # seeded
    True
    """
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
    keeps at least one point.

    >>> x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    >>> [a.shape[0] for a in split(x, y, 70, seed=1)]
    [7, 7, 3, 3]
    >>> [a.shape[0] for a in split(x, y, 0, seed=1)]  # each side keeps a point
    [1, 1, 9, 9]
    """
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
    """The network input for ``(n, 2)`` points: one float32 column per feature name.

    >>> feature_matrix(np.array([[2.0, 3.0]]), ["x1", "x2sq", "x1x2"])
    array([[2., 9., 6.]], dtype=float32)
    """
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


MAX_ABS_VALUE = 1e30  # larger values overflow float32 arithmetic once centred and scaled
_SCALING_NOTES = {"columns": "each column centred and scaled to fill the plot",
                  "shared": "centred and scaled by one factor (aspect ratio kept)",
                  "standard": "each column standardised to mean 0 and standard deviation 1"}
SCALINGS = tuple(_SCALING_NOTES)


@dataclass
class UploadedData:
    """A validated CSV data set: points scaled into the plot, labels or targets, and what was done to them.

    The network sees ``(raw - center) * scale`` (per column); regression targets are ``raw / target_scale``.
    ``raw`` keeps the file's rows (x1, x2, label) for "download data".

    >>> d = parse_csv("x,y,class\\n0,0,0\\n10,0,1\\n0,10,1\\n10,10,0\\n", "classification")
    >>> d.problem, d.n_classes, d.columns, d.x.shape
    ('classification', 2, ('x', 'y', 'class'), (4, 2))
    """

    x: np.ndarray
    y: np.ndarray
    problem: str
    n_classes: int
    note: str
    center: tuple[float, float] = (0.0, 0.0)
    scale: tuple[float, float] = (1.0, 1.0)
    target_scale: float = 1.0
    raw: np.ndarray | None = None
    columns: tuple[str, str, str] = ("x1", "x2", "label")

    def to_csv(self) -> str:
        """The uploaded rows as CSV text (the original values, not the scaled ones).

        >>> parse_csv("1,2,0\\n3,4,1\\n5,6,0\\n7,8,1\\n", "classification").to_csv().splitlines()[:2]
        ['x1,x2,label', '1,2,0']
        """
        assert self.raw is not None
        lines = [",".join(self.columns)] + [",".join(f"{v:.17g}" for v in row) for row in self.raw.tolist()]
        return "\n".join(lines) + "\n"


def _column_names(header: list[str] | None) -> tuple[str, str, str]:
    if header is None or len(header) != 3:
        return ("x1", "x2", "label")
    names = [h.strip()[:30] or d for h, d in zip(header, ("x1", "x2", "label"))]
    return (names[0], names[1], names[2])


def _fit_scaling(pts: np.ndarray, scaling: str) -> tuple[np.ndarray, np.ndarray]:
    """Centre (midpoint of each column's range) and scale so that the points fill ``[-5, 5]`` per column
    (``columns``) or keep their aspect ratio (``shared``); or standardise each column to mean 0 and standard deviation
    1 (``standard``, scikit-learn's ``StandardScaler``: the population standard deviation; a constant column is only
    centred)."""
    if scaling == "standard":
        std = pts.std(0)
        return pts.mean(0), np.where(std > 0, 1.0 / np.where(std > 0, std, 1.0), 1.0)
    lo, hi = pts.min(0), pts.max(0)
    center = lo / 2 + hi / 2
    half = np.maximum(hi / 2 - lo / 2, 0.0)
    if scaling == "shared":
        half = np.full(2, half.max())
    scale = np.where(half > 0, 5.0 / np.where(half > 0, half, 1.0), 1.0)
    return center, scale


def parse_csv(text: Any, problem: str, scaling: str = "columns") -> UploadedData:
    """Parse ``x1,x2,label`` rows (an optional header line; commas, semicolons or tabs).

    Classification labels must be whole numbers: ``0 .. k-1`` (2 <= k <= 6) or ``-1/+1`` (read as 0/1).
    Regression targets are any finite numbers, scaled into ``[-1, 1]`` by their largest magnitude.
    The points are centred and scaled to fill ``[-5, 5]`` in each column (``scaling="columns"``, the default: columns
    in different units both spread over the plot) or together (``"shared"``: the aspect ratio is kept), or
    standardised (``"standard"``: each column to mean 0 and standard deviation 1, as the course notes prepare inputs;
    points beyond 6 standard deviations fall outside the plot but still train). Every value
    must be a finite number of magnitude at most 1e30. Raises :class:`SettingsError` naming the first bad line and
    column.

    >>> d = parse_csv("x1,x2,label\\n0,0,0\\n1,10,1\\n2,0,1\\n0,20,0\\n", "classification")
    >>> d.x.shape, d.y.tolist(), d.n_classes, d.scale
    ((4, 2), [0, 1, 1, 0], 2, (5.0, 0.5))
    >>> parse_csv("x1,x2,label\\n0,0,0\\n1,10,1\\n2,0,1\\n0,20,0\\n", "classification", "shared").scale
    (0.5, 0.5)
    >>> d = parse_csv("x1,x2,label\\n-1,0,0\\n1,10,1\\n-1,0,1\\n1,10,0\\n", "classification", "standard")
    >>> d.center, d.scale, d.x[:, 1].tolist()
    ((0.0, 5.0), (1.0, 0.2), [-1.0, 1.0, -1.0, 1.0])
    """
    if not isinstance(text, str):
        raise SettingsError("the CSV upload must be text")
    if len(text.encode("utf-8", "replace")) > MAX_CSV_BYTES:
        raise SettingsError(f"the CSV file is too large (limit {MAX_CSV_BYTES // 1000} kB)")
    if problem not in ("classification", "regression"):
        raise SettingsError("problem must be classification or regression")
    if scaling not in SCALINGS:
        raise SettingsError(f"scaling must be one of {', '.join(SCALINGS)}")
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
    columns = _column_names(rows[0] if start else None)
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
        for j, v in enumerate(row):
            where = f"CSV line {line}, column {j + 1} ({columns[j]})"
            try:
                values[i, j] = float(v)
            except ValueError:
                raise SettingsError(f"{where}: {_clip(v.strip())} is not a number") from None
            if not math.isfinite(values[i, j]):
                raise SettingsError(f"{where}: {_clip(v.strip())} is not a finite number (infinite or NaN, or too "
                                    "large for a floating-point number)")
            if abs(values[i, j]) > MAX_ABS_VALUE:
                raise SettingsError(f"{where}: {_clip(v.strip())} is too large; values must lie between "
                                    f"-{MAX_ABS_VALUE:g} and {MAX_ABS_VALUE:g}")
    pts, labels = values[:, :2], values[:, 2]
    center, scale = _fit_scaling(pts, scaling)
    x = ((pts - center) * scale).astype(np.float32)
    how = _SCALING_NOTES[scaling]
    note = f"{len(data)} points, {how} (x1 \u00d7 {scale[0]:.3g}, x2 \u00d7 {scale[1]:.3g})"
    common: dict[str, Any] = dict(center=(float(center[0]), float(center[1])), scale=(float(scale[0]), float(scale[1])),
                  raw=values, columns=columns)
    if problem == "regression":
        top = float(np.abs(labels).max())
        y = (labels / top if top > 0 else labels).astype(np.float32)
        if top > 1:
            note += f"; targets divided by {top:.3g}"
        return UploadedData(x, y, problem, 0, note, target_scale=top if top > 0 else 1.0, **common)
    if not np.all(labels == np.round(labels)):
        bad = int(np.argmax(labels != np.round(labels)))
        raise SettingsError(f"CSV line {bad + start + 1}, column 3 ({columns[2]}): a class label must be a whole "
                            f"number, got {labels[bad]:g}")
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
    return UploadedData(x, labels.astype(np.int64), problem, max(k, 2), note + f"; {k} classes", **common)


def _clip(text: str) -> str:
    return repr(text if len(text) <= 30 else text[:27] + "...")
