"""Start-up of the optional numba kernels, in the words of issue 19's target: ``import gradlab`` (with numba installed
and with numba hidden), and the first use of the kernels in a fresh process, uncached and cached.

    python benchmarks/kernels_startup.py                          # this checkout, 5 runs
    python benchmarks/kernels_startup.py --runs 7 --family all    # one family only
    python benchmarks/kernels_startup.py --roots /path/main .     # compare checkouts, alternating run by run

Every number comes from its own fresh Python process. ``import gradlab``: the wall time of ``import gradlab`` (numpy
included), once with numba importable and once with ``sys.modules["numba"] = None`` (as if it were not installed);
``import gradlab`` must not import numba either way. First use: the process imports gradlab, forces the numba kernels
(``kernels.use("numba")``) and times the first call of one kernel family, float32: ``optim`` (an Adam step),
``dense`` (bias + ReLU forward and its backward), ``softmax-ce`` (softmax cross-entropy gradient), ``rnn`` (an LSTM
and a GRU layer, forward and backward), ``conv`` (2x2 max-pool forward and backward, col2im), ``norm`` (batch norm
forward and backward), and ``all`` (all of them in one process). ``uncached``: ``NUMBA_CACHE_DIR`` a new empty
folder (numba imports and compiles); ``cached``: the same folder again (numba imports and loads the compiled code).
``floor`` is what no kernel change can remove: importing numba and setting up its CPU target (numba imports
``scipy.linalg`` there when scipy is installed, to look for BLAS). Medians of ``--runs`` (wall seconds, and CPU
seconds of the process, which a loaded machine inflates less). Markdown to stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["FAMILIES", "fresh", "measure", "report", "main"]

REPO = Path(__file__).resolve().parent.parent
FAMILIES = ("optim", "dense", "softmax-ce", "rnn", "conv", "norm", "all")

_IMPORT = """
import json, sys, time
if sys.argv[1] == "hidden":
    sys.modules["numba"] = None  # as if numba were not installed
t0 = time.perf_counter()
import gradlab
t1 = time.perf_counter()
print(json.dumps({"wall": t1 - t0, "numba_imported": "numba" in sys.modules and sys.modules["numba"] is not None}))
"""

_FIRST_USE = """
import json, sys, time
import numpy as np
import gradlab
from gradlab import kernels
fam = sys.argv[1]
f32 = np.float32
rng = np.random.default_rng(0)

def optim():
    from gradlab.kernels import optim as ko
    p = np.ones(1000, f32); g = np.full_like(p, 0.1); a = np.zeros_like(p); b = np.zeros_like(p)
    ko.adam_update(p, g, a, b, step=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)

def dense():
    from gradlab.kernels import dense as kd
    h = rng.standard_normal((64, 32)).astype(f32); gb = np.empty(32, f32)
    kd.bias_act_(h, np.ones(32, f32), "relu", numba=True)
    kd.act_backward_(np.ones_like(h), h, "relu", gb, numba=True)

def softmax_ce():
    from gradlab.kernels import dense as kd
    z = rng.standard_normal((64, 3)).astype(f32)
    kd.softmax_ce_grad_(z, np.zeros(64, np.int64), None, 1 / 64, np.empty(3, f32), numba=True)

def rnn():
    from gradlab.ops.recurrent import GRULayer, LSTMLayer
    for layer, gates in ((LSTMLayer, 4), (GRULayer, 3)):
        x = gradlab.tensor(rng.standard_normal((5, 8, 6)).astype(f32))
        ws = [gradlab.tensor(rng.standard_normal(s).astype(f32) * 0.1, requires_grad=True)
              for s in ((gates * 16, 6), (gates * 16, 16), (gates * 16,), (gates * 16,))]
        out = layer.apply(x, None, None, *ws)
        out.backward(gradlab.tensor(np.ones(out.shape, f32)))

def conv():
    from gradlab.kernels import conv as kc
    x = rng.standard_normal((2, 3, 4, 4)).astype(f32)
    out, arg = kc.max_pool2x2(x)
    kc.max_pool2x2_backward(out, arg, x.shape)
    kc.col2im(np.ones((3 * 4, 2 * 2 * 2), f32), (2, 3, 4, 4), (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), (2, 2))

def norm():
    from gradlab.kernels import norm as kn
    x = rng.standard_normal((2, 3, 4, 4)).astype(f32)
    o, m, v, s = kn.batch_norm_train(x, np.ones(3, f32), np.zeros(3, f32), 1e-5)
    kn.batch_norm_train_backward(o, x, m, s, np.ones(3, f32))

def floor():
    import numba
    from numba.core.registry import cpu_target
    cpu_target.target_context.refresh()
    cpu_target.typing_context.refresh()

runs = {"optim": [optim], "dense": [dense], "softmax-ce": [softmax_ce], "rnn": [rnn], "conv": [conv], "norm": [norm],
        "all": [optim, dense, softmax_ce, rnn, conv, norm], "floor": [floor]}[fam]
assert "numba" not in sys.modules, "import gradlab imported numba"
t0, c0 = time.perf_counter(), time.process_time()
with kernels.use("numba"):
    for run in runs:
        run()
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}))
"""


def fresh(code: str, arg: str, root: Path, cache: str | None = None) -> dict:
    """Run ``code`` with ``arg`` in a fresh process on the gradlab of ``root``; its last stdout line, parsed."""
    env = {k: v for k, v in os.environ.items() if k not in ("GRADLAB_KERNELS", "NUMBA_CACHE_DIR")}
    env["PYTHONPATH"] = str(root)
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache
    out = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True, env=env, cwd=root)
    if out.returncode:
        raise RuntimeError(f"{root} {arg}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(roots: list[Path], families: list[str], runs: int) -> dict:
    """Medians over ``runs`` rounds; each round visits every root in turn (the order swaps every round)."""
    samples: dict[tuple, list[dict]] = {}
    for r in range(runs):
        for root in roots if r % 2 == 0 else roots[::-1]:
            for how in ("numba", "hidden"):
                samples.setdefault((str(root), "import", how), []).append(fresh(_IMPORT, how, root))
            for fam in ["floor", *families]:
                with tempfile.TemporaryDirectory(prefix="gradlab-numba-cache-") as cache:
                    for how in ("uncached", "cached"):
                        samples.setdefault((str(root), fam, how), []).append(fresh(_FIRST_USE, fam, root, cache))
    med = {}
    for key, rows in samples.items():
        med[key] = {f: statistics.median(row[f] for row in rows) for f in rows[0] if f != "numba_imported"}
        if key[1] == "import" and any(row["numba_imported"] for row in rows):
            raise AssertionError(f"import gradlab imported numba ({key})")
    return med


def report(roots: list[Path], families: list[str], runs: int) -> str:
    """Measure and return the markdown table (one block of rows per checkout)."""
    roots = [p.resolve() for p in roots]
    load0 = os.getloadavg()[0]
    med = measure(roots, families, runs)
    lines = [f"Kernel start-up, fresh processes, medians of {runs}; load average {load0:.2f} at the start, "
             f"{os.getloadavg()[0]:.2f} at the end (wall s / CPU s)", "",
             "| checkout | measure | uncached | cached |", "| --- | --- | ---: | ---: |"]
    for root in roots:
        imp = {how: med[(str(root), "import", how)]["wall"] for how in ("numba", "hidden")}
        lines += [f"| {root} | import gradlab, numba installed (wall s) | {imp['numba']:.3f} | |",
                  f"| {root} | import gradlab, numba hidden (wall s) | {imp['hidden']:.3f} | |"]
        for fam in ["floor", *families]:
            unc, cac = med[(str(root), fam, "uncached")], med[(str(root), fam, "cached")]
            lines.append(f"| {root} | first use: {fam} | {unc['wall']:.3f} / {unc['cpu']:.3f} | "
                         f"{cac['wall']:.3f} / {cac['cpu']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--family", choices=FAMILIES, action="append", help="default: all of them")
    parser.add_argument("--roots", nargs="+", type=Path, default=[REPO], help="checkouts to compare")
    args = parser.parse_args(argv)
    print(report(args.roots, args.family or list(FAMILIES), args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
