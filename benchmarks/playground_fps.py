"""Frames per second of the gradlab playground, for a 4 x 8 network with the 100 x 100 boundary grid.

    python benchmarks/playground_fps.py [--seconds 5] [--layers 8,8,8,8] [--dataset xor] [--skip-server]

Two measurements:
1. in process: ``Session.play_frame()`` (train for up to the frame budget or one epoch, then one batched forward
   over grid + thumbnails + train + test under ``no_grad``, and the encoding of the frame);
2. end to end: ``gradlab playground`` started as a subprocess (uncapped: ``--max-fps 0``, and at its default cap
   of 30), a WebSocket client that configures the network, presses play and acknowledges every frame, as the page
   does. It counts frames, epochs and bytes.
The target is at least 20 frames per second on a 2-core machine.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def in_process(settings: dict, seconds: float) -> dict:
    from threadpoolctl import threadpool_limits

    from gradlab.playground.session import Session

    threadpool_limits(1, "blas")  # as the server does
    s = Session(settings)
    for _ in range(5):
        s.play_frame()
    times, frame_times, n_bytes = [], [], 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        s.advance()
        t1 = time.perf_counter()
        msg = s.frame()
        n_bytes += len(json.dumps(msg))
        times.append(time.perf_counter() - t0)
        frame_times.append(time.perf_counter() - t1)
    return {"fps": len(times) / sum(times), "median_frame_ms": 1000 * statistics.median(times),
            "median_eval_encode_ms": 1000 * statistics.median(frame_times), "kb_per_frame": n_bytes / len(times) / 1e3,
            "epochs": s.epoch, "frames": len(times), "test_loss": msg["test_loss"]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def over_websocket(settings: dict, seconds: float, max_fps: float) -> dict:
    from websockets.sync.client import connect

    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "gradlab", "playground", "--port", str(port), "--max-fps",
                             str(max_fps)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        proc.stdout.readline()  # the URL: the socket is bound
        for _ in range(100):
            try:
                ws = connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24)
                break
            except OSError:
                time.sleep(0.1)
        with ws:
            ws.send(json.dumps({"type": "config", "settings": settings}))
            while json.loads(ws.recv())["type"] != "state":
                pass
            ws.send(json.dumps({"type": "play"}))
            frames, n_bytes, first, last = 0, 0, None, None
            start = time.perf_counter()
            while time.perf_counter() - start < seconds + 1.0:
                text = ws.recv()
                msg = json.loads(text)
                if msg["type"] != "frame":
                    continue
                ws.send(json.dumps({"type": "ack", "frame": msg["frame"]}))
                if time.perf_counter() - start < 1.0:  # warm-up second
                    continue
                first = first or msg
                last = msg
                frames += 1
                n_bytes += len(text)
            ws.send(json.dumps({"type": "pause"}))
        elapsed = time.perf_counter() - start - 1.0
        return {"fps": frames / elapsed, "kb_per_frame": n_bytes / max(frames, 1) / 1e3,
                "epochs_per_s": (last["epoch"] - first["epoch"]) / elapsed, "test_loss": last["test_loss"]}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--layers", default="8,8,8,8")
    ap.add_argument("--dataset", default="xor")
    ap.add_argument("--activation", default="tanh")
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--skip-server", action="store_true", help="only the in-process measurement")
    args = ap.parse_args(argv)
    settings = {"dataset": args.dataset, "layers": [int(v) for v in args.layers.split(",")],
                "activation": args.activation, "batch_size": args.batch_size}
    print(f"network {settings['layers']} ({args.activation}), {args.dataset}, 500 points (250 train), batch "
          f"{args.batch_size}, 100x100 grid; {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    r = in_process(settings, args.seconds)
    print(f"in process:           {r['fps']:6.1f} frames/s  (median frame {r['median_frame_ms']:.1f} ms, of which "
          f"evaluation + encoding {r['median_eval_encode_ms']:.1f} ms; {r['kb_per_frame']:.1f} kB/frame; "
          f"{r['epochs']} epochs)")
    if not args.skip_server:
        for cap in (0, 30):
            w = over_websocket(settings, args.seconds, cap)
            name = "uncapped" if cap == 0 else f"cap {cap}"
            print(f"websocket, {name:9s} {w['fps']:6.1f} frames/s  ({w['epochs_per_s']:.1f} epochs/s, "
                  f"{w['kb_per_frame']:.1f} kB/frame, test loss {w['test_loss']:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
