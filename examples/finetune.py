"""Transfer learning from MNIST to Fashion-MNIST with LeNet-5: from scratch vs frozen features + new head vs full
fine-tune vs L2-SP, with 100 / 1,000 / 10,000 labelled Fashion-MNIST images (seed 003's fine-tuning).

    python examples/finetune.py                          # the full study (slow on a laptop CPU: about an hour)
    python examples/finetune.py --quick                  # 100 and 1,000 labels, smaller pretraining (minutes)

Prints a table of test accuracies and writes a plot (``--plot``, default ``finetune.png``) and the numbers as JSON.
The same steps on the command line: ``gradlab train --model lenet5 --out pre`` then
``gradlab finetune pre --dataset fashion-mnist --limit 1000 --freeze 'features.*' --new-head 10 --out ft``.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

import gradlab
from gradlab import nn, optim
from gradlab.data import DataLoader, TensorDataset
from gradlab.models import LeNet5
from gradlab.nn.utils import freeze
from gradlab.train import evaluate, fit
from gradlab.train.experiment import load_dataset
from gradlab.train.finetune import L2SP, find_head, load_pretrained, replace_head

VARIANTS = ("from scratch", "frozen features + new head", "full fine-tune", "L2-SP fine-tune")


def loader(x: np.ndarray, y: np.ndarray, batch: int, seed: int = 0, shuffle: bool = True) -> DataLoader:
    return DataLoader(TensorDataset(gradlab.from_numpy(x), gradlab.from_numpy(y)), batch_size=batch,
                      shuffle=shuffle, generator=gradlab.Generator(seed))


def pretrain(limit: int, epochs: int, data_dir: str | None) -> dict[str, np.ndarray]:
    x, y, _ = load_dataset("mnist", train=True, root=data_dir, limit=limit)
    gradlab.manual_seed(0)
    model = LeNet5()
    fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3), loader(x, y, 64), epochs=epochs,
        progress=False)
    xt, yt, _ = load_dataset("mnist", train=False, root=data_dir, limit=2000)
    acc = evaluate(model, nn.CrossEntropyLoss(), loader(xt, yt, 1000, shuffle=False))["accuracy"]
    print(f"pretrained LeNet-5 on {limit} MNIST images, {epochs} epochs: MNIST test accuracy {acc:.4f}")
    return {k: np.array(v.data, copy=True) for k, v in model.state_dict().items()}


def run_variant(variant: str, weights: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, test: DataLoader,
                epochs: int, l2sp: float, seed: int) -> float:
    gradlab.manual_seed(seed)
    model = LeNet5()
    regs = []
    if variant != "from scratch":
        load_pretrained(model, weights)
        head = replace_head(model, 10)
        if variant.startswith("frozen"):
            freeze(model, "features.*")
        if variant.startswith("L2-SP"):
            regs = [L2SP(model, l2sp, exclude=[head])]
    assert find_head(model) == "classifier.5"
    params = [p for p in model.parameters() if p.requires_grad]
    fit(model, nn.CrossEntropyLoss(), optim.Adam(params, lr=1e-3), loader(x, y, 32, seed), epochs=epochs,
        progress=False, regularizers=regs)
    return evaluate(model, nn.CrossEntropyLoss(), test)["accuracy"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="100 and 1,000 labels, 10,000 pretraining images")
    p.add_argument("--sizes", default="100,1000,10000", help="numbers of labelled Fashion-MNIST images")
    p.add_argument("--pretrain-limit", type=int, default=60000)
    p.add_argument("--pretrain-epochs", type=int, default=3)
    p.add_argument("--test-limit", type=int, default=10000, help="Fashion-MNIST test images scored")
    p.add_argument("--steps", type=int, default=600, help="optimizer steps per fine-tuning run (batch 32)")
    p.add_argument("--l2sp", type=float, default=1e-2)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--plot", default="finetune.png")
    p.add_argument("--json", default="finetune.json")
    args = p.parse_args()
    if args.quick:
        args.sizes, args.pretrain_limit, args.pretrain_epochs = "100,1000", 10000, 2
        args.test_limit, args.steps = 2000, 300
    sizes = [int(s) for s in args.sizes.split(",")]
    t0 = time.perf_counter()
    weights = pretrain(args.pretrain_limit, args.pretrain_epochs, args.data_dir)
    xf, yf, _ = load_dataset("fashion-mnist", train=True, root=args.data_dir)
    xt, yt, _ = load_dataset("fashion-mnist", train=False, root=args.data_dir, limit=args.test_limit)
    test = loader(xt, yt, 1000, shuffle=False)
    perm = np.random.default_rng(0).permutation(len(xf))
    table: dict[str, dict[int, float]] = {v: {} for v in VARIANTS}
    for n in sizes:
        idx = perm[:n]
        epochs = max(1, int(np.ceil(args.steps / np.ceil(n / 32))))
        for v in VARIANTS:
            table[v][n] = run_variant(v, weights, xf[idx], yf[idx], test, epochs, args.l2sp, seed=1)
            print(f"  {n:>6} labels, {epochs:>3} epochs  {v:<28} test accuracy {table[v][n]:.4f}", flush=True)
    print(f"\nFashion-MNIST test accuracy ({args.test_limit} images), LeNet-5 pretrained on MNIST "
          f"({time.perf_counter() - t0:.0f}s in all)")
    print(f"{'variant':<28}" + "".join(f"{n:>10}" for n in sizes))
    for v in VARIANTS:
        print(f"{v:<28}" + "".join(f"{table[v][n]:>10.4f}" for n in sizes))
    with open(args.json, "w") as f:
        json.dump({v: {str(n): a for n, a in t.items()} for v, t in table.items()}, f, indent=1)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for v in VARIANTS:
        ax.plot(sizes, [table[v][n] for n in sizes], marker="o", label=v)
    ax.set_xscale("log")
    ax.set_xlabel("labelled Fashion-MNIST training images")
    ax.set_ylabel("test accuracy")
    ax.set_title("LeNet-5: MNIST -> Fashion-MNIST transfer")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
    print(f"wrote {args.plot} and {args.json}")


if __name__ == "__main__":
    main()
