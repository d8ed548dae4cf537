"""Cost of data augmentation per Fashion-MNIST epoch, relative to the epoch time of the SimpleCNN recipe (issue 23).

    python benchmarks/augment.py [--spec crop,flip] [--rounds 3] [--cnn-steps 5] [--torchvision]
    python benchmarks/augment.py --accuracy-epochs 10 [--limit N]     # the accuracy target (hours on 2 cores)

Timing (one process per library, rounds alternating between the parts, medians of per-round ratios):
- ``plain``: one epoch of ``DataLoader(TensorDataset(X, y), batch_size=128, shuffle=True)``, batches consumed;
- ``augmented``: the same through ``TransformedDataset(..., from_spec(spec))`` (one ``apply_batch`` per batch);
- ``cnn step``: one SimpleCNN training step (forward, backward, Adam) at batch 128, times the batches per epoch;
- with ``--torchvision``: torchvision 0.28.0's ``v2`` transforms applied per image (its DataLoader's usual path),
  timed in its own process on a slice of the epoch and scaled up, as a reference for the per-image cost.

The target: augmentation adds <= 10% to the epoch time, i.e. (augmented - plain) / (cnn epoch) <= 0.10.

``--accuracy-epochs E`` trains the SimpleCNN recipe (Adam 1e-3 + cosine, batch 128, seed 0, standardised inputs)
with and without the augmentation and prints both test accuracies (target: >= 94.0% with crop + flip, 10 epochs).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def load(train: bool = True, limit: int | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Standardised Fashion-MNIST ``(N, 1, 28, 28)`` float32, labels, and the value a black pixel gets."""
    from gradlab.data import compute_mean_std
    from gradlab.data.datasets import FashionMNIST

    ds = FashionMNIST(train=train)
    x = np.divide(ds.data[:limit], np.float32(255), dtype=np.float32)[:, None]
    mean, std = compute_mean_std(np.divide(FashionMNIST(train=True).data, np.float32(255), dtype=np.float32))
    x -= np.float32(mean[0])
    x /= np.float32(std[0])
    return x, np.asarray(ds.targets[:limit], dtype=np.int64), float(-mean[0] / std[0])


def _epoch_seconds(loader) -> float:
    t0 = time.perf_counter()
    for batch in loader:
        batch[0].data.sum()  # touch the batch
    return time.perf_counter() - t0


def time_gradlab(spec: str, rounds: int, cnn_steps: int) -> dict:
    import gradlab
    from gradlab import nn, optim
    from gradlab.data import DataLoader, TensorDataset
    from gradlab.data.transforms import TransformedDataset, from_spec
    from gradlab.models import build_model

    x, y, black = load()
    ds = TensorDataset(x, y)
    aug = from_spec(spec, image_size=x.shape[1:], fill=black)
    plain_loader = DataLoader(ds, batch_size=128, shuffle=True, generator=gradlab.Generator(0))
    aug_loader = DataLoader(TransformedDataset(ds, aug), batch_size=128, shuffle=True, generator=gradlab.Generator(0))
    n_batches = len(plain_loader)
    model = build_model("cnn", num_classes=10)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xb, yb = next(iter(aug_loader))

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()

    step()  # warm-up: workspaces, first-touch page faults
    rows = []
    for r in range(rounds):
        parts = ["plain", "augmented", "cnn"] if r % 2 == 0 else ["cnn", "augmented", "plain"]
        got: dict[str, float] = {}
        for part in parts:
            if part == "plain":
                got[part] = _epoch_seconds(plain_loader)
            elif part == "augmented":
                got[part] = _epoch_seconds(aug_loader)
            else:
                times = []
                for _ in range(cnn_steps):
                    t0 = time.perf_counter()
                    step()
                    times.append(time.perf_counter() - t0)
                got[part] = statistics.median(times) * n_batches
        got["ratio"] = (got["augmented"] - got["plain"]) / got["cnn"]
        rows.append(got)
        print(f"round {r}: plain {got['plain']:.2f}s, augmented {got['augmented']:.2f}s per epoch; "
              f"cnn epoch ~{got['cnn']:.0f}s; augmentation adds {100 * got['ratio']:.2f}%", file=sys.stderr)
    med = {k: statistics.median(row[k] for row in rows) for k in rows[0]}
    return {"lib": "gradlab", "spec": spec, "batches": n_batches, **med}


def time_torchvision(spec: str, rounds: int, images: int) -> dict:
    """torchvision v2 transforms applied image by image (what its DataLoader does with a dataset transform)."""
    import torch

    from tests.helpers import import_torchvision

    import_torchvision()
    from torchvision.transforms import v2

    torch.set_num_threads(1)
    x, _, black = load(limit=images)
    names = [s.strip() for s in spec.split(",")]
    pipeline = []
    for name in names:
        if name == "crop":
            pipeline.append(v2.RandomCrop(28, padding=4, fill=black))
        elif name == "flip":
            pipeline.append(v2.RandomHorizontalFlip())
        elif name == "affine":
            pipeline.append(v2.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1), fill=black))
        else:
            raise SystemExit(f"--torchvision: no reference for {name!r}")
    t = v2.Compose(pipeline)
    xt = torch.from_numpy(x)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for i in range(len(xt)):
            t(xt[i])
        times.append(time.perf_counter() - t0)
    per_image = statistics.median(times) / len(xt)
    return {"lib": "torchvision", "spec": spec, "per_image_s": per_image, "epoch_s": per_image * 60000}


def accuracy(spec: str | None, epochs: int, limit: int | None) -> float:
    import gradlab
    from gradlab import nn, optim
    from gradlab.data import DataLoader, TensorDataset
    from gradlab.data.transforms import TransformedDataset, from_spec
    from gradlab.models import build_model
    from gradlab.train.loop import evaluate, fit

    gradlab.manual_seed(0)
    x, y, black = load(limit=limit)
    xt, yt, _ = load(train=False)
    train: object = TensorDataset(x, y)
    if spec:
        train = TransformedDataset(train, from_spec(spec, image_size=x.shape[1:], fill=black))
    loader = DataLoader(train, batch_size=128, shuffle=True, generator=gradlab.Generator(1))
    model = build_model("cnn", num_classes=10)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=epochs, scheduler=sched, progress=False)
    return evaluate(model, nn.CrossEntropyLoss(), DataLoader(TensorDataset(xt, yt), batch_size=1000))["accuracy"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--spec", default="crop,flip", help="the augmentation (gradlab.data.transforms.from_spec)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--cnn-steps", type=int, default=5, help="SimpleCNN steps timed per round")
    p.add_argument("--torchvision", action="store_true", help="also time torchvision's per-image transforms")
    p.add_argument("--tv-images", type=int, default=5000, help="images per torchvision round (scaled to 60000)")
    p.add_argument("--accuracy-epochs", type=int, default=0, help="train with and without augmentation")
    p.add_argument("--limit", type=int, default=None, help="training images for --accuracy-epochs")
    p.add_argument("--child", choices=["gradlab", "torchvision"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child == "gradlab":
        print(json.dumps(time_gradlab(args.spec, args.rounds, args.cnn_steps)))
        return 0
    if args.child == "torchvision":
        print(json.dumps(time_torchvision(args.spec, args.rounds, args.tv_images)))
        return 0
    if args.accuracy_epochs:
        for spec in (None, args.spec):
            t0 = time.perf_counter()
            acc = accuracy(spec, args.accuracy_epochs, args.limit)
            print(f"SimpleCNN, {args.accuracy_epochs} epochs, augmentation {spec or 'none'}: test accuracy "
                  f"{100 * acc:.2f}% ({time.perf_counter() - t0:.0f}s)", flush=True)
        return 0
    results = {}
    for lib in ["gradlab"] + (["torchvision"] if args.torchvision else []):
        cmd = [sys.executable, __file__, "--child", lib, "--spec", args.spec, "--rounds", str(args.rounds),
               "--cnn-steps", str(args.cnn_steps), "--tv-images", str(args.tv_images)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        sys.stderr.write(out.stderr)
        results[lib] = json.loads(out.stdout.strip().splitlines()[-1])
    g = results["gradlab"]
    overhead = g["augmented"] - g["plain"]
    print(f"augmentation {g['spec']!r} per Fashion-MNIST epoch ({g['batches']} batches of 128): "
          f"plain loader {g['plain']:.2f}s, augmented {g['augmented']:.2f}s (+{overhead:.2f}s); "
          f"SimpleCNN epoch ~{g['cnn']:.0f}s; augmentation adds {100 * g['ratio']:.2f}% (median of per-round "
          f"ratios; target <= 10%)")
    if "torchvision" in results:
        tv = results["torchvision"]
        print(f"torchvision v2, per image: {1e6 * tv['per_image_s']:.1f} us/image, {tv['epoch_s']:.1f}s per epoch; "
              f"gradlab batched: {1e6 * overhead / 60000:.2f} us/image ({tv['epoch_s'] / max(overhead, 1e-9):.0f}x "
              f"less)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
