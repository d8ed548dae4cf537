"""``RBFNetwork``: flatten -> ``nn.RBF`` (Gaussian units) -> linear read-out (logits).

The classic recipe (Moody & Darken 1989): put the centres on the data with k-means (scikit-learn's ``KMeans``), set
each width from the spread of its cluster, then train. Here the centres and widths stay trainable, so after
:meth:`RBFNetwork.init_centres` the whole network is trained end to end by gradient descent.

>>> import numpy as np, gradlab
>>> X = np.random.default_rng(0).normal(size=(60, 2)).astype(np.float32)
>>> net = RBFNetwork(in_features=2, num_centres=5, num_classes=3)
>>> net.init_centres(X, seed=0)
>>> net(gradlab.tensor(X[:4])).shape
gradlab.Size([4, 3])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import nn
from gradlab.models.registry import register_model

__all__ = ["RBFNetwork", "kmeans_centres"]


def kmeans_centres(X: Any, k: int, seed: int = 0, max_samples: int | None = 20000) -> tuple[np.ndarray, np.ndarray]:
    """``(centres (k, d), sigmas (k,))`` from scikit-learn's ``KMeans`` on the rows of ``X`` (flattened; at most
    ``max_samples`` of them, drawn at random). Each width is the RMS distance of a cluster's points to its centre
    (the mean of the others for an empty or single-point cluster).

    >>> c, s = kmeans_centres(np.array([[0.0, 0], [0, 1], [5, 5], [5, 6]]), 2)
    >>> sorted(c[:, 1].round(1).tolist()), s.round(3).tolist()
    ([0.5, 5.5], [0.5, 0.5])
    """
    from sklearn.cluster import KMeans

    x = np.asarray(getattr(X, "data", X), dtype=np.float64)
    x = x.reshape(len(x), -1)
    if not 1 <= k <= len(x):
        raise ValueError(f"kmeans_centres: k must be in [1, {len(x)}] (the number of samples), got {k}")
    rng = np.random.default_rng(seed)
    if max_samples is not None and len(x) > max_samples:
        x = x[rng.choice(len(x), max_samples, replace=False)]
    km = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(x)
    centres = km.cluster_centers_
    labels = km.labels_
    sq = ((x - centres[labels]) ** 2).sum(1)
    counts = np.bincount(labels, minlength=k)
    sums = np.bincount(labels, weights=sq, minlength=k)
    ok = counts > 1
    sig = np.sqrt(np.where(ok, sums / np.maximum(counts, 1), 0.0))
    fallback = float(sig[ok & (sig > 0)].mean()) if np.any(ok & (sig > 0)) else 1.0
    sig = np.where(sig > 0, sig, fallback)
    return centres, sig


class RBFNetwork(nn.Module):
    """A radial basis function network for classification or regression.

    Args:
        in_features: input size after flattening (784 for 28x28 images).
        num_centres: number of Gaussian units.
        num_classes: output size (logits; use MSELoss with ``num_classes=1`` for regression).
        sigma: initial width of every unit before :meth:`init_centres` (default ``sqrt(in_features)``).

    Train it after :meth:`init_centres` (or :meth:`init_from_data`, the name training engines look for).

    >>> import gradlab
    >>> X = gradlab.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> net = RBFNetwork(2, num_centres=3, num_classes=2)
    >>> net.init_centres(X, seed=0)
    >>> net(X).shape
    gradlab.Size([4, 2])
    """

    def __init__(self, in_features: int = 784, num_centres: int = 100, num_classes: int = 10,
                 sigma: float | None = None) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        if sigma is None:  # standardised inputs lie about sqrt(2 * in_features) apart: no unit starts dead
            sigma = float(np.sqrt(in_features))
        self.rbf = nn.RBF(int(in_features), int(num_centres), sigma=sigma)
        self.readout = nn.Linear(int(num_centres), int(num_classes))
        self._config: dict[str, Any] = {"in_features": int(in_features), "num_centres": int(num_centres),
                                        "num_classes": int(num_classes), "sigma": float(sigma)}

    def init_centres(self, X: Any, seed: int = 0, width_scale: float = 1.0) -> None:
        """Place the centres by k-means on ``X`` (any shape with ``in_features`` values per sample) and set the
        widths from the clusters' spread, times ``width_scale``."""
        x = np.asarray(getattr(X, "data", X))
        x = x.reshape(len(x), -1)
        if x.shape[1] != self.rbf.in_features:
            raise ValueError(f"RBFNetwork.init_centres: expected {self.rbf.in_features} features, got {x.shape[1]}")
        centres, sigmas = kmeans_centres(x, self.rbf.out_features, seed=seed)
        self.rbf.set_centres(centres, sigmas * float(width_scale))

    def init_from_data(self, X: Any, seed: int = 0) -> None:
        """The data-dependent initialisation a training engine calls before the first epoch: :meth:`init_centres`."""
        self.init_centres(X, seed=seed)

    def features(self, x: Any) -> Any:
        """The RBF activations (N, num_centres)."""
        return self.rbf(self.flatten(x))

    def forward(self, x: Any) -> Any:
        return self.readout(self.features(x))

    def config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-able): ``RBFNetwork(**m.config())`` rebuilds the architecture."""
        return dict(self._config)


register_model("rbf", RBFNetwork)
