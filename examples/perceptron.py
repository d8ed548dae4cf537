"""The perceptron (seed: "the neural network zoo"): Rosenblatt's rule solves a separable set and fails on XOR; one
hidden layer solves XOR.

Four panels of decision boundaries in ``perceptron.png`` (in ``--out``, default ``runs/perceptron``):
1. Rosenblatt's mistake-driven rule on two Gaussian blobs (linearly separable): it stops making mistakes;
2. the same neuron trained by gradient descent on the logistic loss (autograd + SGD);
3. Rosenblatt's rule on XOR: no line separates the classes, mistakes never reach 0;
4. an MLP with one hidden layer of 8 tanh units (gradlab's ``fit``) on XOR: solved.

    python examples/perceptron.py
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import gradlab  # noqa: E402
from gradlab import nn, optim  # noqa: E402
from gradlab.data import DataLoader, TensorDataset  # noqa: E402
from gradlab.data.datasets.toy import make_gauss, make_xor  # noqa: E402
from gradlab.models import Perceptron  # noqa: E402
from gradlab.train import fit  # noqa: E402


def _panel(ax, x, y, predict, title) -> None:
    g = np.linspace(-6, 6, 200)
    gx, gy = np.meshgrid(g, g)
    z = predict(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)).reshape(gx.shape)
    ax.contourf(gx, gy, z, levels=[-0.5, 0.5, 1.5], colors=["#f4c7a1", "#a9c8e8"], alpha=0.8)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm_r", s=8, edgecolors="k", linewidths=0.2)
    ax.set_title(title, fontsize=9)
    ax.set_xlim(-6, 6)
    ax.set_ylim(-6, 6)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/perceptron")
    args = p.parse_args(argv)
    gradlab.manual_seed(0)
    xs, ys = make_gauss(200, noise=0.0, seed=0)
    xs, ys = np.asarray(xs, np.float32), (np.asarray(ys) > 0).astype(np.int64)
    xx, yx = make_xor(200, noise=0.0, seed=0)
    xx, yx = np.asarray(xx, np.float32), (np.asarray(yx) > 0).astype(np.int64)

    rosen = Perceptron(in_features=2)
    m1 = rosen.fit_rosenblatt(xs, ys, epochs=100)
    logistic = Perceptron(in_features=2)
    losses = logistic.fit_logistic(xs, ys, epochs=200, lr=0.5)
    xor_p = Perceptron(in_features=2)
    m3 = xor_p.fit_rosenblatt(xx, yx, epochs=50)
    mlp = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    fit(mlp, nn.CrossEntropyLoss(), optim.Adam(mlp.parameters(), lr=0.05),
        DataLoader(TensorDataset(gradlab.tensor(xx), gradlab.tensor(yx)), batch_size=32, shuffle=True), epochs=60,
        progress=False)

    def mlp_predict(z):
        with gradlab.no_grad():
            return np.asarray(mlp(gradlab.tensor(z)).data).argmax(1)

    acc = {
        "rosenblatt, blobs": (rosen.predict(xs) == ys).mean(), "logistic, blobs": (logistic.predict(xs) == ys).mean(),
        "rosenblatt, xor": (xor_p.predict(xx) == yx).mean(), "mlp 2-8-2, xor": (mlp_predict(xx) == yx).mean(),
    }
    print(f"Rosenblatt on blobs: mistakes per epoch {m1} (converged after {len(m1)} epochs)")
    print(f"logistic neuron on blobs: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    print(f"Rosenblatt on XOR: mistakes in the last 5 of {len(m3)} epochs {m3[-5:]} (never 0)")
    for k, v in acc.items():
        print(f"  accuracy {k:20s} {v:.3f}")

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 3.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 4)
    _panel(axes[0], xs, ys, rosen.predict, f"Rosenblatt rule: {len(m1)} epochs, acc {acc['rosenblatt, blobs']:.2f}")
    _panel(axes[1], xs, ys, logistic.predict, f"logistic loss + SGD: acc {acc['logistic, blobs']:.2f}")
    _panel(axes[2], xx, yx, xor_p.predict, f"Rosenblatt on XOR: acc {acc['rosenblatt, xor']:.2f}")
    _panel(axes[3], xx, yx, mlp_predict, f"MLP 2-8-2 on XOR: acc {acc['mlp 2-8-2, xor']:.2f}")
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "perceptron.png", dpi=100)
    print("wrote", out / "perceptron.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
