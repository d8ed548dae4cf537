"""gradlab demo: an MLP learns MNIST digits in about three epochs, the PyTorch way.

The network is 784-512-512-10 with ReLU and dropout 0.2, trained with Adam (lr 1e-3) on mini-batches of 128, with
10% of the training images held out for validation. ``gradlab.train.fit`` runs the loop (forward, loss, backward,
step), shows a progress bar, keeps the per-epoch history and writes a full checkpoint after every epoch; the
figures at the end come from the 10,000 test images. The same run from the command line::

    gradlab train --dataset mnist --hidden 512,512 --dropout 0.2 --optimizer adam --lr 1e-3 --epochs 3 \\
        --out runs/demo-mnist-mlp

The earlier demo (a small MLP on two moons written with nothing but tensors and autograd) is
``examples/moons_tensor_api.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from gradlab.train.experiment import make_config, run_training  # noqa: E402

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Train the MNIST MLP for a few epochs and report the test accuracy.")
    p.add_argument("--epochs", type=int, default=3, help="training epochs (default 3)")
    p.add_argument("--limit", type=int, help="train on the first N images only (quicker)")
    p.add_argument("--out", default="runs/demo-mnist-mlp", help="run folder (default runs/demo-mnist-mlp)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    config = make_config(dataset="mnist", model="mlp", hidden=(512, 512), activation="relu", dropout=0.2,
                         optimizer="adam", lr=1e-3, batch_size=128, epochs=args.epochs, val_split=0.1, seed=0,
                         limit=args.limit)
    start = time.perf_counter()
    from gradlab.train import ProgressBar

    results = run_training(config, args.out, progress=False, callbacks=[ProgressBar(bar=not args.no_progress)],
                           overwrite=True)  # the demo replaces its earlier run
    hist = results["history"].history
    print()
    for epoch, (loss, val_loss, val_acc) in enumerate(zip(hist["loss"], hist["val_loss"], hist["val_accuracy"])):
        print(f"epoch {epoch + 1}: train loss {loss:.4f}   validation loss {val_loss:.4f}   "
              f"validation accuracy {val_acc:.2%}")
    print(f"test accuracy: {results['test_accuracy']:.2%} (test loss {results['test_loss']:.4f}) after "
          f"{results['epochs']} epochs; {time.perf_counter() - start:.0f} s in all")
    out = Path(args.out)
    print(f"loss and accuracy curves: {out / 'curves.png'}")
    print(f"weights: {out / 'weights.safetensors'}; evaluate again with: gradlab evaluate {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
