"""A GAN on MNIST (lesson notes: generative adversarial networks): generator and discriminator trained with separate
Adam optimizers on the non-saturating loss; the same fixed noise is rendered after every epoch.

Thin over ``gradlab.train.generative_runs.train_generative`` (the engine of ``gradlab train --model gan``); writes
``samples/epoch_NNN.png``, ``samples.png``, ``losses.png`` (both losses) and ``curves.png`` into ``--out``
(default ``runs/gan``)::

    python examples/gan.py                      # MLP GAN, 20 epochs
    python examples/gan.py --kind dcgan --epochs 5
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from gradlab.train.generative_runs import train_generative  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/gan")
    p.add_argument("--kind", choices=["mlp", "dcgan"], default="mlp")
    p.add_argument("--latent", type=int, default=64)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args(argv)
    res = train_generative("gan", args.out, epochs=args.epochs, limit=args.limit,
                           model_kwargs={"kind": args.kind, "latent_dim": args.latent})
    print(f"last epoch: d_loss {res['d_loss']:.3f}, g_loss {res['g_loss']:.3f}, D(real) {res['d_real']:.2f}, "
          f"D(fake) {res['d_fake']:.2f}; wrote {', '.join(res['files'][-3:])} ({res['train_time_s']:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
