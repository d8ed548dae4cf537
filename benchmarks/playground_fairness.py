"""Fairness of the gradlab playground server: many tabs at once, and one abusive tab.

    python benchmarks/playground_fairness.py [--seconds 8] [--rounds 3] [--workers N] [--root PATH]

Starts ``gradlab playground`` as a subprocess and drives it with WebSocket clients that behave like the page
(configure, press play, acknowledge every frame). Two measurements:

1. *crowd*: 8 sessions, each playing a 6 x 8 network (xor, tanh, batch 10) at the default cap of 30 frames/s;
   the frame rate of every session. Target: each >= 10 frames/s.
2. *abuse*: 2 sessions playing the 6 x 8 network, first alone, then next to an abusive session (8 x 64 layers,
   2,000 points, batch size 1, playing, and flooding "step" at 20/s and hover ("neuron") messages at 50/s), in
   alternating rounds. The per-round ratio of the normal sessions' frame rate with the abuser to without it;
   the median over rounds. Target: >= 0.5.

``--root`` runs the server from another checkout (e.g. the code before this change) for comparison.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NORMAL = {"dataset": "xor", "layers": [8] * 6, "activation": "tanh", "batch_size": 10}
ABUSIVE = {"dataset": "circle", "layers": [64] * 8, "n_points": 2000, "batch_size": 1, "activation": "relu"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, root: Path, workers: int | None):
        self.port = _free_port()
        args = [sys.executable, "-m", "gradlab", "playground", "--port", str(self.port), "--max-sessions", "64"]
        if "max-per-client" in (root / "gradlab/playground/cli.py").read_text():
            args += ["--max-per-client", "64"]
            if workers is not None:
                args += ["--workers", str(workers)]
        env = dict(os.environ, PYTHONPATH=str(root))
        self.proc = subprocess.Popen(args, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # the URL: the socket is bound

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and its worker processes (Linux /proc)."""
        ticks = os.sysconf("SC_CLK_TCK")
        pids, total = [self.proc.pid], 0.0
        try:
            pids += [int(c) for c in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()]
        except OSError:
            return float("nan")
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


async def _open(port: int):  # type: ignore[no-untyped-def]
    from websockets.asyncio.client import connect

    for _ in range(100):
        try:
            return await connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24)
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not answer")


async def player(port: int, settings: dict, start: float, stop: float, out: list) -> None:
    """A page: configure, play, acknowledge frames; appends the frames counted between ``start`` and ``stop``."""
    ws = await _open(port)
    try:
        await ws.send(json.dumps({"type": "config", "settings": settings}))
        while json.loads(await ws.recv())["type"] != "state":
            pass
        await ws.send(json.dumps({"type": "play"}))
        frames = 0
        while (now := time.perf_counter()) < stop:
            try:
                msg = json.loads(await asyncio.wait_for(ws.recv(), stop - now))
            except asyncio.TimeoutError:
                break
            if msg["type"] == "frame":
                await ws.send(json.dumps({"type": "ack", "frame": msg["frame"]}))
                frames += start <= time.perf_counter() < stop
        out.append(frames / (stop - start))
    finally:
        await ws.close()


async def abuser(port: int, stop: float) -> None:
    ws = await _open(port)
    try:
        await ws.send(json.dumps({"type": "config", "settings": ABUSIVE}))
        await ws.send(json.dumps({"type": "play"}))

        async def drain() -> None:
            while True:
                msg = json.loads(await ws.recv())
                if msg["type"] == "frame":
                    await ws.send(json.dumps({"type": "ack", "frame": msg["frame"]}))

        reader = asyncio.ensure_future(drain())
        i = 0
        while time.perf_counter() < stop:
            await ws.send(json.dumps({"type": "neuron", "layer": 1 + i % 8, "index": i % 64}))
            if i % 5 == 0:
                await ws.send(json.dumps({"type": "step"}))
            i += 1
            await asyncio.sleep(0.02)
        reader.cancel()
    finally:
        await ws.close()


async def phase(port: int, n_normal: int, seconds: float, abusive: bool) -> list[float]:
    t0 = time.perf_counter()
    start, stop = t0 + 2.0, t0 + 2.0 + seconds  # 2 s to connect, build and warm up
    out: list[float] = []
    tasks = [player(port, NORMAL, start, stop, out) for _ in range(n_normal)]
    if abusive:
        tasks.append(abuser(port, stop))
    await asyncio.gather(*tasks)
    await asyncio.sleep(0.5)  # the server notices the pages went away
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: the server's default)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to run the server from")
    args = ap.parse_args(argv)
    print(f"server from {args.root}; {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}; workers: {args.workers or 'default'}")
    server = Server(args.root, args.workers)
    try:
        asyncio.run(phase(server.port, 4, 1.0, False))  # warm up: the workers have started, the code is loaded
        cpu0 = server.cpu_seconds()
        crowd = asyncio.run(phase(server.port, args.sessions, args.seconds, False))
        per_frame = (server.cpu_seconds() - cpu0) / (sum(crowd) * args.seconds)  # (includes set-up and warm-up)
        print(f"crowd: {args.sessions} sessions of a 6x8 network: frames/s min {min(crowd):.1f}, median "
              f"{statistics.median(crowd):.1f}, max {max(crowd):.1f}  (target: each >= 10)")
        print(f"  server CPU per frame delivered (all its processes, set-up included): {1000 * per_frame:.1f} ms; "
              f"on {os.cpu_count()} idle cores that is at most {os.cpu_count() / per_frame / args.sessions:.0f} "
              f"frames/s per session (capped at 30)")
        ratios = []
        for r in range(args.rounds):
            alone = asyncio.run(phase(server.port, 2, args.seconds, False))
            abused = asyncio.run(phase(server.port, 2, args.seconds, True))
            ratio = min(abused) / statistics.mean(alone)
            ratios.append(ratio)
            print(f"abuse round {r + 1}: normal sessions alone {', '.join(f'{v:.1f}' for v in alone)} frames/s; "
                  f"next to the abuser {', '.join(f'{v:.1f}' for v in abused)} frames/s; worst ratio {ratio:.2f}")
        print(f"abuse: median over rounds of (worst normal session with the abuser / mean alone) = "
              f"{statistics.median(ratios):.2f}  (target >= 0.5)")
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
