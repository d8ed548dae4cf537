"""Where a VAE epoch's time goes (issue 17's VAE row), gradlab beside torch, component by component.

    python benchmarks/vae_step.py                      # 1 and 2 BLAS threads, 3 alternating rounds, 100 steps each
    python benchmarks/vae_step.py --threads 1 --rounds 5 --steps 200

The recipe is ``benchmarks/zoo.py``'s: VAE 784-400-20 (ReLU, Bernoulli decoder, Adam 1e-3, batch 128) on MNIST.
Each round runs gradlab then torch, each in its own process with the same thread count (numpy's BLAS through
threadpoolctl, ``torch.set_num_threads``), and times each step's parts with ``perf_counter`` (wall) and the whole
loop with ``process_time`` (CPU time of every thread of the process: BLAS workers that spin while waiting show up
here): ``gather`` (the batch), ``forward`` (model and loss), ``backward`` (zero_grad + backward), ``step`` (Adam),
plus the five large matrix products of a step timed alone on the same shapes (``gemms``), so
``other = wall - gemms`` is the per-step cost each library adds around BLAS. Printed: per library the median over
rounds of each part (ms per step) and the median of per-round gradlab/torch ratios. Run it under ``nice`` on a
shared machine and read the ratios, not the absolute times.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's gradlab

PARTS = ("gather", "forward", "backward", "step")


def _data(n: int) -> np.ndarray:
    from gradlab.train.generative_runs import load_images

    return load_images("mnist", train=True, limit=n)[0]


def _gemm_shapes(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """The five large products of a step: encoder and decoder forward, decoder input and weight gradients, encoder
    weight gradient (``(a, b)`` for ``a @ b``, transposed views as the libraries pass them)."""
    def r(*s: int) -> np.ndarray:
        return rng.standard_normal(s, dtype=np.float32)
    x, w1, w2, h, g = r(128, 784), r(400, 784), r(784, 400), r(128, 400), r(128, 784)
    return [(x, w1.T), (h, w2.T), (g, w2), (g.T, h), (h.T, x)]


def _time_gemms(pairs: list[tuple[Any, Any]], reps: int = 30) -> float:
    for a, b in pairs:
        a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        for a, b in pairs:
            a @ b
    return (time.perf_counter() - t0) / reps


def _gradlab_steps(x: np.ndarray, steps: int) -> dict[str, float]:
    import gradlab
    from gradlab.models import VAE

    gradlab.manual_seed(0)
    model = VAE(hidden=(400,), latent_dim=20)
    opt = gradlab.optim.Adam(model.parameters(), lr=1e-3)
    order = np.random.default_rng(0).permutation(len(x))
    acc = dict.fromkeys(PARTS, 0.0)
    pc = time.perf_counter
    for i in range(steps + 5):
        if i == 5:  # after the warm-up (numba's kernels load on the first step)
            acc = dict.fromkeys(PARTS, 0.0)
            c0, w0 = time.process_time(), pc()
        start = (i * 128) % (len(x) - 128)
        t0 = pc()
        xb = gradlab.tensor(x[order[start:start + 128]])
        t1 = pc()
        loss = model.loss_terms(xb)["loss"]
        float(np.asarray(loss.data))
        t2 = pc()
        opt.zero_grad()
        loss.backward()
        t3 = pc()
        opt.step()
        t4 = pc()
        for k, d in zip(PARTS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            acc[k] += d
    acc["cpu"], acc["wall"] = time.process_time() - c0, pc() - w0
    acc["gemms"] = _time_gemms(_gemm_shapes(np.random.default_rng(1))) * steps
    return acc


def _torch_steps(x: np.ndarray, steps: int, threads: int) -> dict[str, float]:
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    xt = torch.from_numpy(x.reshape(len(x), -1))
    enc, fmu, flv = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
    dec = nn.Sequential(nn.Linear(20, 400), nn.ReLU(), nn.Linear(400, 784))
    params = [p for m in (enc, fmu, flv, dec) for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    order = np.random.default_rng(0).permutation(len(x))
    acc = dict.fromkeys(PARTS, 0.0)
    pc = time.perf_counter
    for i in range(steps + 5):
        if i == 5:
            acc = dict.fromkeys(PARTS, 0.0)
            c0, w0 = time.process_time(), pc()
        start = (i * 128) % (len(x) - 128)
        t0 = pc()
        xb = xt[torch.from_numpy(order[start:start + 128])]
        t1 = pc()
        h = torch.relu(enc(xb))
        mu, lv = fmu(h), flv(h)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        rec = nn.functional.binary_cross_entropy_with_logits(dec(z), xb, reduction="sum") / len(xb)
        loss = rec + 0.5 * (mu.pow(2) + lv.exp() - lv - 1).sum(1).mean()
        t2 = pc()
        opt.zero_grad()
        loss.backward()
        t3 = pc()
        opt.step()
        t4 = pc()
        for k, d in zip(PARTS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            acc[k] += d
    acc["cpu"], acc["wall"] = time.process_time() - c0, pc() - w0
    pairs = [(torch.from_numpy(np.ascontiguousarray(a.T)).T if not a.flags.c_contiguous else torch.from_numpy(a),
              torch.from_numpy(np.ascontiguousarray(b.T)).T if not b.flags.c_contiguous else torch.from_numpy(b))
             for a, b in _gemm_shapes(np.random.default_rng(1))]
    acc["gemms"] = _time_gemms(pairs) * steps
    return acc


def _worker(lib: str, threads: int, steps: int, out: str) -> None:
    from threadpoolctl import threadpool_limits

    x = _data(20000)
    with threadpool_limits(threads):
        acc = _gradlab_steps(x, steps) if lib == "gradlab" else _torch_steps(x, steps, threads)
    Path(out).write_text(json.dumps({k: v / steps * 1e3 for k, v in acc.items()}))  # ms per step


def _run(lib: str, threads: int, steps: int) -> dict[str, float]:
    out = Path(f"/tmp/vae_step_{os.getpid()}_{lib}.json")
    try:
        subprocess.run([sys.executable, __file__, "_worker", lib, str(threads), str(steps), str(out)], check=True,
                       env=dict(os.environ, PYTHONPATH=str(HERE.parent)))
        return dict(json.loads(out.read_text()))
    finally:
        out.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_worker":
        _worker(argv[1], int(argv[2]), int(argv[3]), argv[4])
        return 0
    p = argparse.ArgumentParser(description="a VAE step's parts, gradlab vs torch")
    p.add_argument("--threads", default="1,2", help="comma-separated BLAS / torch thread counts")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=100)
    args = p.parse_args(argv)
    keys = (*PARTS, "wall", "cpu", "gemms")
    for threads in (int(t) for t in args.threads.split(",")):
        res: dict[str, list[dict[str, float]]] = {"gradlab": [], "torch": []}
        for _ in range(args.rounds):
            for lib in res:
                res[lib].append(_run(lib, threads, args.steps))
        print(f"# {threads} thread(s), {args.rounds} rounds of {args.steps} steps, load {os.getloadavg()[0]:.1f}; "
              "ms per step (median over rounds)")
        for lib, rows in res.items():
            med = {k: float(np.median([r[k] for r in rows])) for k in keys}
            other = med["wall"] - med["gemms"]
            print(f"  {lib:8s} " + " ".join(f"{k} {med[k]:.2f}" for k in keys) + f" other {other:.2f}")
            print(f"  {'':8s} wall per round: " + " ".join(f"{r['wall']:.2f}" for r in rows))
        ratio = {k: float(np.median([g[k] / t[k] for g, t in zip(res["gradlab"], res["torch"])])) for k in keys}
        print("  gradlab/torch " + " ".join(f"{k} {v:.2f}x" for k, v in ratio.items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
