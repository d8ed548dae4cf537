"""Inference latency: gradlab's own forward pass vs ONNX Runtime running gradlab's ONNX export of the same model.

    python benchmarks/onnx_latency.py                  # MNIST MLP (784-512-512-10) and LeNet-5, batch 1 and 256
    python benchmarks/onnx_latency.py --rounds 3 --iters 50

Each measurement runs in its own process (``--child``), the two runtimes alternating round by round, both limited
to one thread (OMP/OpenBLAS/MKL and ONNX Runtime's intra-op pool), since the machines are small and shared. A
process times ``--iters`` forward passes after a warm-up and reports the median; the table gives, per case, the
median over rounds of each runtime's time and the median of the per-round ratios gradlab / ONNX Runtime.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

__all__ = ["CASES", "main"]

CASES = {"mlp": (1, 28, 28), "lenet5": (1, 28, 28)}
BATCHES = (1, 256)


def _model(name: str):
    import gradlab
    from gradlab.models import MLP, LeNet5

    gradlab.manual_seed(0)
    return MLP(hidden=(512, 512)) if name == "mlp" else LeNet5()


def _child(args: argparse.Namespace) -> None:
    import numpy as np

    x = np.random.default_rng(0).standard_normal((args.batch, *CASES[args.model])).astype(np.float32)
    if args.runtime == "gradlab":
        import gradlab

        model = _model(args.model).eval()
        t = gradlab.tensor(x)

        def step() -> object:
            with gradlab.no_grad():
                return model(t)
    else:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(args.onnx, opts, providers=["CPUExecutionProvider"])
        feed = {sess.get_inputs()[0].name: x}

        def step() -> object:
            return sess.run(None, feed)

    for _ in range(max(3, args.iters // 10)):
        step()
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"ms": statistics.median(times)}))


def _measure(model: str, batch: int, runtime: str, onnx_path: str, iters: int) -> float:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, __file__, "--child", "--model", model, "--batch", str(batch), "--runtime", runtime,
           "--onnx", onnx_path, "--iters", str(iters)]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return float(json.loads(out.strip().splitlines()[-1])["ms"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--iters", type=int, default=100, help="timed forward passes per process")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--model", choices=sorted(CASES))
    p.add_argument("--batch", type=int)
    p.add_argument("--runtime", choices=("gradlab", "onnxruntime"))
    p.add_argument("--onnx", default="")
    args = p.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    sys.path.insert(0, str(ROOT))
    import numpy as np

    import gradlab.onnx

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, shape in CASES.items():
            paths[name] = str(Path(tmp) / f"{name}.onnx")
            gradlab.onnx.export(_model(name), np.zeros((2, *shape), np.float32), paths[name])
        for name in CASES:
            for batch in BATCHES:
                g, o, ratios = [], [], []
                for r in range(args.rounds):
                    order = ("gradlab", "onnxruntime") if r % 2 == 0 else ("onnxruntime", "gradlab")
                    got = {rt: _measure(name, batch, rt, paths[name], args.iters) for rt in order}
                    g.append(got["gradlab"])
                    o.append(got["onnxruntime"])
                    ratios.append(got["gradlab"] / got["onnxruntime"])
                rows.append((name, batch, statistics.median(g), statistics.median(o), statistics.median(ratios)))
                print(f"{name:7s} batch {batch:4d}: gradlab {rows[-1][2]:8.3f} ms   onnxruntime {rows[-1][3]:8.3f} ms"
                      f"   gradlab/ort {rows[-1][4]:5.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
