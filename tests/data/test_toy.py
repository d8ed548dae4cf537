"""The TF-playground 2-D datasets: geometry of each generator (as playground's dataset.ts), noise, seeds, dtypes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradlab
from gradlab.backend import Generator
from gradlab.data.datasets import (
    CLASSIFICATION_DATASETS,
    REGRESSION_DATASETS,
    make_circle,
    make_gauss,
    make_plane,
    make_regress_gauss,
    make_spiral,
    make_xor,
)

ALL = {**CLASSIFICATION_DATASETS, **REGRESSION_DATASETS}


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("n", [0, 1, 7, 200])
def test_shapes_dtypes_and_sizes(name, n):
    X, y = ALL[name](n, noise=0.2, seed=0)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,)
    if name in CLASSIFICATION_DATASETS:
        assert y.dtype == np.int64 and set(y.tolist()) <= {0, 1}
    else:
        assert y.dtype == np.float32
    assert np.isfinite(X).all()


@pytest.mark.parametrize("name", sorted(ALL))
def test_reproducible_with_seed_generator_and_default(name):
    fn = ALL[name]
    a, b, c = fn(50, 0.3, seed=4), fn(50, 0.3, seed=4), fn(50, 0.3, seed=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    g1, g2 = fn(50, 0.3, generator=Generator(1)), fn(50, 0.3, generator=Generator(1))
    np.testing.assert_array_equal(g1[0], g2[0])
    gradlab.manual_seed(3)
    d1 = fn(50, 0.3)
    gradlab.manual_seed(3)
    d2 = fn(50, 0.3)
    np.testing.assert_array_equal(d1[0], d2[0])


@pytest.mark.parametrize("name", sorted(CLASSIFICATION_DATASETS))
def test_balanced_classes(name):
    _, y = CLASSIFICATION_DATASETS[name](201, seed=0)
    if name == "xor":
        assert 60 < y.sum() < 140  # xor labels come from the quadrant, about half each
    else:
        assert y.sum() == 101  # first class gets the odd sample


def test_circle_geometry():
    X, y = make_circle(1000, noise=0.0, seed=0)
    r = np.hypot(X[:, 0].astype(np.float64), X[:, 1].astype(np.float64))
    assert (r[y == 1] < 2.5 + 1e-5).all()
    assert (r[y == 0] >= 3.5 - 1e-5).all() and (r[y == 0] <= 5 + 1e-5).all()
    assert r[y == 1].max() > 2.3 and r[y == 0].min() < 3.7  # the rings are filled out to their radii


def test_circle_noise_flips_labels_but_not_points():
    X, y = make_circle(2000, noise=0.5, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    geometric = (r < 2.5).astype(np.int64)
    flipped = (geometric != y).mean()
    assert 0.05 < flipped < 0.6
    assert r.max() <= 5 + 1e-5  # positions themselves stay in the rings


def test_xor_geometry_and_padding():
    X, y = make_xor(1000, noise=0.0, seed=0)
    assert (np.abs(X) >= 0.3 - 1e-6).all() and (np.abs(X) <= 5.3 + 1e-6).all()
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(np.int64))
    Xn, yn = make_xor(2000, noise=0.5, seed=0)
    assert ((Xn[:, 0] * Xn[:, 1] >= 0).astype(np.int64) != yn).mean() > 0.05


@pytest.mark.parametrize("noise,variance", [(0.0, 0.5), (0.25, 2.25), (0.5, 4.0)])
def test_gauss_centres_and_variance(noise, variance):
    X, y = make_gauss(20000, noise=noise, seed=0)
    pos, neg = X[y == 1].astype(np.float64), X[y == 0].astype(np.float64)
    np.testing.assert_allclose(pos.mean(0), [2, 2], atol=0.08)
    np.testing.assert_allclose(neg.mean(0), [-2, -2], atol=0.08)
    np.testing.assert_allclose(pos.var(0), [variance] * 2, rtol=0.06)


def test_spiral_points_lie_on_playground_spiral_without_noise():
    n = 100
    X, y = make_spiral(n, noise=0.0, seed=0, shuffle=False)
    half = n // 2
    i = np.arange(half)
    for k, (delta, label) in enumerate([(0.0, 1), (math.pi, 0)]):
        r = i / half * 5
        t = 1.75 * i / half * 2 * math.pi + delta
        expect = np.stack([r * np.sin(t), r * np.cos(t)], 1)
        np.testing.assert_allclose(X[k * half : (k + 1) * half], expect, atol=1e-5)
        assert (y[k * half : (k + 1) * half] == label).all()


def test_spiral_noise_jitters_within_bounds():
    X0, _ = make_spiral(100, noise=0.0, seed=0, shuffle=False)
    X1, _ = make_spiral(100, noise=0.4, seed=0, shuffle=False)
    d = np.abs(X1 - X0)
    assert d.max() <= 0.4 + 1e-5 and d.max() > 0.2


def test_shuffle_false_orders_classes():
    _, y = make_circle(10, seed=0, shuffle=False)
    assert y.tolist() == [1] * 5 + [0] * 5
    _, y = make_gauss(100, seed=0, shuffle=True)
    assert y.tolist() != [1] * 50 + [0] * 50
    assert sorted(y.tolist()) == [0] * 50 + [1] * 50


def test_plane_target():
    X, y = make_plane(500, noise=0.0, seed=0)
    assert (np.abs(X) <= 6).all()
    np.testing.assert_allclose(y, (X[:, 0].astype(np.float64) + X[:, 1]) / 10, atol=1e-6)
    Xn, yn = make_plane(500, noise=0.5, seed=0)
    assert np.abs(yn - Xn.sum(1) / 10).max() > 0.1


def _playground_regress_gauss_label(x: float, y: float) -> float:
    """Line-by-line port of regressGaussian's getLabel in playground's dataset.ts."""
    gaussians = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]
    label = 0.0
    for cx, cy, sign in gaussians:
        d = math.hypot(x - cx, y - cy)
        scaled = min(max(1 - d / 2, 0.0), 1.0)  # d3 linear [0, 2] -> [1, 0], clamped
        new = sign * scaled
        if abs(new) > abs(label):
            label = new
    return label


def test_regress_gauss_matches_playground_label_function():
    X, y = make_regress_gauss(400, noise=0.0, seed=0)
    expect = [_playground_regress_gauss_label(float(a), float(b)) for a, b in X.astype(np.float64)]
    np.testing.assert_allclose(y, expect, atol=1e-5)
    assert (y > 0.5).any() and (y < -0.5).any() and (y == 0).any()


@pytest.mark.parametrize("fn", [make_circle, make_xor])
def test_bad_arguments(fn):
    with pytest.raises(ValueError, match="noise"):
        fn(10, noise=-0.1)
    with pytest.raises(ValueError, match="n_samples"):
        fn(-1)
