"""Autoencoders on MNIST (seed: "the neural network zoo"): plain (MLP and convolutional), denoising (Gaussian and
masking noise) and sparse (L1 and KL penalties), each trained with the same budget.

Prints a table: test reconstruction loss (nats per image) on clean digits, on digits with Gaussian noise (std 0.5)
and on digits with half their pixels masked (the denoising autoencoders should win those), and the mean code
activation (the sparse ones should sit near their target). Writes per model ``<name>/reconstructions.png`` and
``curves.png`` (via ``gradlab.train.generative_runs.train_generative``) and ``denoising.png`` (noisy test digits,
then the plain AE's and the denoising AE's reconstructions) into ``--out`` (default ``runs/autoencoders``)::

    python examples/autoencoders.py                  # 10,000 training images, 5 epochs each
    python examples/autoencoders.py --limit 60000 --epochs 10
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import gradlab  # noqa: E402
from gradlab.train.generative import evaluate_denoising  # noqa: E402
from gradlab.train.generative_runs import load_generative_run, load_images, train_generative  # noqa: E402
from gradlab.train.pictures import save_image_grid  # noqa: E402

MODELS = [
    ("ae-mlp", "ae", {"kind": "mlp"}),
    ("ae-conv", "ae", {"kind": "conv"}),
    ("dae-gauss", "dae", {"noise": "gaussian", "noise_level": 0.5}),
    ("dae-mask", "dae", {"noise": "mask", "noise_level": 0.5}),
    ("sae-l1", "sae", {"penalty": "l1", "sparsity_weight": 0.05}),
    ("sae-kl", "sae", {"penalty": "kl", "sparsity_weight": 30.0, "target": 0.05}),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/autoencoders")
    p.add_argument("--limit", type=int, default=10000)
    p.add_argument("--epochs", type=int, default=5)
    args = p.parse_args(argv)
    out = Path(args.out)
    xt, _ = load_images("mnist", train=False, limit=2000)
    rows, models = [], {}
    for label, name, kw in MODELS:
        code = {"code_size": 64} if name == "sae" else {"code_size": 32}
        res = train_generative(name, out / label, epochs=args.epochs, limit=args.limit,
                               model_kwargs={"hidden": [256], **code, **kw}, log=None)
        model, _ = load_generative_run(out / label)
        models[label] = model
        with gradlab.no_grad():
            code_mean = float(np.asarray(model.encode(gradlab.tensor(xt)).data).mean())
        rows.append((label, res["test_recon"], evaluate_denoising(model, xt, "gaussian", 0.5),
                     evaluate_denoising(model, xt, "mask", 0.5), code_mean))
        print(f"trained {label}: {res['train_time_s']:.0f}s", flush=True)
    print(f"\n{'model':10s} {'clean':>8s} {'gauss 0.5':>10s} {'mask 0.5':>9s} {'code mean':>10s}")
    for label, clean, gauss, mask, cm in rows:
        print(f"{label:10s} {clean:8.1f} {gauss:10.1f} {mask:9.1f} {cm:10.3f}")
    rng = np.random.default_rng(0)
    noisy = np.clip(xt[:10] + rng.standard_normal(xt[:10].shape).astype(np.float32) * 0.5, 0, 1)
    with gradlab.no_grad():
        plain = models["ae-mlp"].reconstruct(gradlab.tensor(noisy))
        den = models["dae-gauss"].reconstruct(gradlab.tensor(noisy))
    grid = np.concatenate([xt[:10], noisy, np.asarray(plain.data), np.asarray(den.data)])
    print("wrote", save_image_grid(grid, out / "denoising.png", ncols=10,
                                   title="rows: clean, noisy (std 0.5), plain AE, denoising AE"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
