"""The variational autoencoder on MNIST (seed: "the neural network zoo"): ELBO = reconstruction + KL, both logged
per epoch; prior samples, a latent interpolation strip, and with a 2-D latent the latent scatter coloured by class
and the decoded manifold.

Thin over ``gradlab.train.generative_runs.train_generative`` (the engine of ``gradlab train --model vae``); writes
the run folder ``--out`` (default ``runs/vae``) with ``samples.png``, ``interpolation.png``, ``reconstructions.png``,
``elbo.png``, ``curves.png`` and (``--latent 2``) ``latent_scatter.png`` and ``manifold.png``::

    python examples/vae.py                       # 784-400-20, 10 epochs on all 60,000 digits
    python examples/vae.py --latent 2 --epochs 5  # the 2-D pictures
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from gradlab.train.generative_runs import sample_generative, train_generative  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/vae")
    p.add_argument("--latent", type=int, default=20)
    p.add_argument("--hidden", type=int, default=400)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args(argv)
    res = train_generative("vae", args.out, epochs=args.epochs, limit=args.limit,
                           model_kwargs={"hidden": [args.hidden], "latent_dim": args.latent})
    print(f"test -ELBO {res['test_loss']:.2f} nats/image = reconstruction {res['test_recon']:.2f} + "
          f"KL {res['test_kl']:.2f}")
    print("wrote", ", ".join(res["files"]), "and", sample_generative(args.out, n=64, seed=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
