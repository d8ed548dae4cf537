"""RBF networks (seed: "the neural network zoo"): Gaussian units on k-means centres, trained end to end, against an
MLP with the same number of parameters, on the toy spiral and on MNIST.

The RBF network's centres start at scikit-learn's k-means centres of the training inputs, each width at the RMS
distance of its cluster; centres, widths and the linear read-out are then trained together with Adam. The MLP has
one tanh (spiral) or ReLU (MNIST) hidden layer sized to the same parameter count. Prints an accuracy table and
writes the spiral's decision regions to ``rbf_spiral.png`` in ``--out`` (default ``runs/rbf``)::

    python examples/rbf.py                  # MNIST on the first 10,000 training images, 5 epochs
    python examples/rbf.py --limit 60000 --epochs 10
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
from gradlab.data.datasets.toy import make_spiral  # noqa: E402
from gradlab.models import RBFNetwork  # noqa: E402
from gradlab.train import evaluate, fit  # noqa: E402


def _train(model, x, y, xt, yt, epochs, lr, batch_size) -> float:
    loader = DataLoader(TensorDataset(gradlab.tensor(x), gradlab.tensor(y)), batch_size=batch_size, shuffle=True,
                        generator=gradlab.Generator(0))
    fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=lr), loader, epochs=epochs, progress=False)
    return evaluate(model, None, DataLoader(TensorDataset(gradlab.tensor(xt), gradlab.tensor(yt)),
                                            batch_size=1000))["accuracy"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/rbf")
    p.add_argument("--limit", type=int, default=10000, help="MNIST training images (default 10000)")
    p.add_argument("--epochs", type=int, default=5, help="MNIST epochs (default 5)")
    p.add_argument("--centres", type=int, default=100, help="RBF units on MNIST (default 100)")
    args = p.parse_args(argv)
    rows = []

    gradlab.manual_seed(0)
    xs, ys = make_spiral(600, noise=0.0, seed=0)
    xs, ys = np.asarray(xs, np.float32), (np.asarray(ys) > 0).astype(np.int64)
    xv, yv = make_spiral(400, noise=0.0, seed=1)
    xv, yv = np.asarray(xv, np.float32), (np.asarray(yv) > 0).astype(np.int64)
    rbf = RBFNetwork(in_features=2, num_centres=30, num_classes=2)
    rbf.init_centres(xs, seed=0)
    width = (rbf.num_parameters() - 2) // 5  # 2-h-2 MLP: 5h + 2 parameters
    mlp = nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, 2))
    rows.append(("spiral", "rbf 30 units", rbf.num_parameters(), _train(rbf, xs, ys, xv, yv, 200, 0.02, 32)))
    rows.append(("spiral", f"mlp 2-{width}-2", mlp.num_parameters(), _train(mlp, xs, ys, xv, yv, 200, 0.02, 32)))

    try:
        from gradlab.train.generative_runs import load_images

        x, y = load_images("mnist", train=True, limit=args.limit)
        xt, yt = load_images("mnist", train=False)
    except (OSError, ValueError) as exc:
        print(f"MNIST skipped: {exc}")
    else:
        x, xt = x.reshape(len(x), -1), xt.reshape(len(xt), -1)
        gradlab.manual_seed(0)
        net = RBFNetwork(in_features=784, num_centres=args.centres, num_classes=10)
        net.init_centres(x, seed=0)
        hidden = (net.num_parameters() - 10) // 795  # 784-h-10 MLP: 795h + 10 parameters
        mlp2 = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))
        rows.append(("mnist", f"rbf {args.centres} units", net.num_parameters(),
                     _train(net, x, y, xt, yt, args.epochs, 3e-2, 64)))
        rows.append(("mnist", f"mlp 784-{hidden}-10", mlp2.num_parameters(),
                     _train(mlp2, x, y, xt, yt, args.epochs, 1e-3, 64)))

    print(f"{'data':8s} {'model':18s} {'params':>8s} {'test acc':>9s}")
    for data, name, n, acc in rows:
        print(f"{data:8s} {name:18s} {n:8d} {acc:9.4f}")

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.5))
    FigureCanvasAgg(fig)
    g = np.linspace(-6, 6, 200)
    gx, gy = np.meshgrid(g, g)
    grid = gradlab.tensor(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32))
    for ax, (model, title) in zip(fig.subplots(1, 2), [(rbf, rows[0]), (mlp, rows[1])]):
        with gradlab.no_grad():
            z = np.asarray(model(grid).data).argmax(1).reshape(gx.shape)
        ax.contourf(gx, gy, z, levels=[-0.5, 0.5, 1.5], colors=["#f4c7a1", "#a9c8e8"])
        ax.scatter(xs[:, 0], xs[:, 1], c=ys, cmap="coolwarm_r", s=5)
        if model is rbf:
            c = np.asarray(rbf.rbf.centres.data)
            ax.scatter(c[:, 0], c[:, 1], marker="x", c="k", s=30, label="centres")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_title(f"{title[1]} ({title[2]} params): test acc {title[3]:.3f}", fontsize=9)
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "rbf_spiral.png", dpi=100)
    print("wrote", out / "rbf_spiral.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
