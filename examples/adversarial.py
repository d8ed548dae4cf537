"""Adversarial examples (lesson notes): FGSM and PGD against LeNet-5 on MNIST, and adversarial training.

1. Train LeNet-5 on MNIST pixels in [0, 1] (gradlab's ``fit``).
2. Its test accuracy under FGSM and PGD (10 steps, random start) for epsilon 0 ... 0.3, drawn as one plot
   (``accuracy_vs_epsilon.png``), and a grid of clean / adversarial / difference images (``examples.png``).
3. The same network trained with the ``AdversarialTraining('fgsm', epsilon=0.1)`` callback (half of every batch
   replaced by FGSM examples): its accuracy curves go on the same plot; it keeps most of its accuracy at 0.1.

Writes into ``--out`` (default ``runs/adversarial``)::

    python examples/adversarial.py                       # 20,000 training digits, 2 epochs, 1,000 test digits
    python examples/adversarial.py --limit 60000 --epochs 5
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import gradlab  # noqa: E402
from gradlab import nn, optim  # noqa: E402
from gradlab.attacks import fgsm, robust_accuracy  # noqa: E402
from gradlab.data import DataLoader, TensorDataset  # noqa: E402
from gradlab.models import LeNet5  # noqa: E402
from gradlab.train import fit  # noqa: E402
from gradlab.train.adversarial import AdversarialTraining  # noqa: E402
from gradlab.train.generative_runs import load_images  # noqa: E402
from gradlab.train.pictures import save_image_grid  # noqa: E402

EPSILONS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]


def _train(x, y, epochs, callbacks):
    gradlab.manual_seed(0)
    model = LeNet5()
    loader = DataLoader(TensorDataset(gradlab.tensor(x), gradlab.tensor(y)), batch_size=128, shuffle=True,
                        generator=gradlab.Generator(0))
    fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3), loader, epochs=epochs,
        progress=False, callbacks=callbacks)
    return model


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/adversarial")
    p.add_argument("--limit", type=int, default=20000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--test", type=int, default=1000)
    args = p.parse_args(argv)
    out = Path(args.out)
    x, y = load_images("mnist", train=True, limit=args.limit)
    xt, yt = load_images("mnist", train=False, limit=args.test)
    curves = {}
    for label, cbs in [("LeNet-5", []), ("LeNet-5, FGSM-trained", [AdversarialTraining("fgsm", epsilon=0.1)])]:
        model = _train(x, y, args.epochs, cbs)
        curves[label] = {
            "FGSM": [robust_accuracy(model, xt, yt, "fgsm", e) for e in EPSILONS],
            "PGD-10": [robust_accuracy(model, xt, yt, "pgd", e, steps=10, seed=0) for e in EPSILONS],
        }
        for attack, accs in curves[label].items():
            print(f"{label:22s} {attack:6s} " + " ".join(f"{e:g}:{a:.3f}" for e, a in zip(EPSILONS, accs)))
        if not cbs:
            adv = np.asarray(fgsm(model, xt[:10], yt[:10], 0.15).data)
            diff = (adv - xt[:10]) / 0.3 + 0.5  # -0.15 -> 0, +0.15 -> 1
            save_image_grid(np.concatenate([xt[:10], adv, diff]), out / "examples.png", ncols=10,
                            title="clean / FGSM eps 0.15 / difference (grey = 0)")

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for label, by_attack in curves.items():
        for attack, accs in by_attack.items():
            ax.plot(EPSILONS, accs, "o-" if attack == "FGSM" else "s--", label=f"{label}, {attack}")
    ax.set_xlabel("epsilon (L-inf, pixels in [0, 1])")
    ax.set_ylabel(f"test accuracy ({len(xt)} digits)")
    ax.set_ylim(0, 1)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "accuracy_vs_epsilon.png", dpi=100)
    print("wrote", out / "accuracy_vs_epsilon.png", "and", out / "examples.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
