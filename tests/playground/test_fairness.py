"""Fair sharing of the workers: the queue serves the least-used session first, drops requests whose page went away,
steps are time-sliced and merged, and sessions really run in separate worker processes. No timing assertions:
the queue's clock is a fake one advanced by the fake worker."""
from __future__ import annotations

import time

import anyio
import pytest

from gradlab.playground.connection import MAX_QUEUED_STEPS, Connection
from gradlab.playground.host import SessionHost
from gradlab.playground.manager import SessionManager
from gradlab.playground.worker import WorkerPool, WorkerQueue


class FakeWorker:
    """Each request 'takes' ``cost[sid]`` seconds of the fake clock (and ``real`` times that in real time, for tests
    where the pages' pauses between requests matter); records the order it ran them in."""

    def __init__(self, cost: dict[str, float], real: float = 0.0):
        self.cost, self.real, self.t, self.ran = cost, real, 0.0, []

    def clock(self) -> float:
        return self.t

    def call(self, req: dict) -> dict:
        self.ran.append(req["sid"])
        self.t += self.cost[req["sid"]]
        if self.real:
            time.sleep(self.cost[req["sid"]] * self.real)
        return {"ok": True}


def test_an_expensive_session_gets_its_share_not_more():
    worker = FakeWorker({"heavy": 0.050, "light1": 0.005, "light2": 0.005})
    queue = WorkerQueue(worker, clock=worker.clock, anticipate_s=0)

    async def client(sid: str, n: int) -> None:
        for _ in range(n):
            await queue.call(sid, {"op": "play_frame"})

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(queue.run)
            async with anyio.create_task_group() as clients:
                for sid in worker.cost:
                    clients.start_soon(client, sid, 200)
            tg.cancel_scope.cancel()

    anyio.run(main)
    first = worker.ran[:220]  # while all three are still asking
    used = {sid: first.count(sid) * cost for sid, cost in worker.cost.items()}
    # equal worker time each (within one request), so the light sessions run ten times as many requests
    assert max(used.values()) - min(used.values()) <= 0.05 + 1e-9, used
    assert first.count("light1") >= 9 * first.count("heavy"), used


@pytest.mark.parametrize("anticipate", [0.0, 0.5])
def test_a_cheap_session_that_pauses_between_requests_is_waited_for(anticipate):
    """The page's play loop sends its next request a moment after each reply; a heavy session always has one
    waiting. Without anticipation the two strictly alternate; with it, the cheap one gets its fair share."""
    worker = FakeWorker({"heavy": 0.050, "light": 0.005}, real=0.2)  # 10 ms and 1 ms
    queue = WorkerQueue(worker, clock=worker.clock, anticipate_s=anticipate)

    async def client(sid: str, n: int, pause: float) -> None:
        for _ in range(n):
            await queue.call(sid, {"op": "play_frame"})
            await anyio.sleep(pause)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(queue.run)
            async with anyio.create_task_group() as clients:
                clients.start_soon(client, "heavy", 30, 0)
                clients.start_soon(client, "light", 300, 0.001)
            tg.cancel_scope.cancel()

    anyio.run(main)
    first = worker.ran[:worker.ran.index("heavy", 20)]  # up to the 20th-odd heavy request
    ratio = first.count("light") / first.count("heavy")
    if anticipate:
        assert ratio >= 5, ratio  # about 10: equal worker time
    else:
        assert ratio <= 1.5, ratio  # alternation


def test_a_request_whose_page_went_away_never_runs():
    worker = FakeWorker({"a": 0.01, "gone": 0.01})
    queue = WorkerQueue(worker, clock=worker.clock, anticipate_s=0)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            with anyio.move_on_after(0):  # cancelled before the dispatcher starts
                await queue.call("gone", {"op": "step_slice"})
            tg.start_soon(queue.run)
            await queue.call("a", {"op": "state"})
            tg.cancel_scope.cancel()

    anyio.run(main)
    assert worker.ran == ["a"]


def test_a_step_is_trained_in_slices():
    host = SessionHost()
    host.execute({"op": "create", "sid": "s"})
    host.execute({"op": "message", "sid": "s", "msg": {"type": "config", "settings": {
        "n_points": 2000, "batch_size": 1, "layers": [8, 8]}}})
    host.execute({"op": "step_start", "sid": "s"})
    slices = [host.execute({"op": "step_slice", "sid": "s", "budget": 0.0}) for _ in range(3)]
    assert [r["done"] for r in slices] == [False] * 3 and host.sessions["s"].epoch == 0  # 3 of 1000 batches
    while not (r := host.execute({"op": "step_slice", "sid": "s", "budget": 0.05}))["done"]:
        pass
    assert host.sessions["s"].epoch == 1 and r["replies"][0]["epoch"] == 1


class _FakeSocket:
    application_state = None

    async def send_text(self, text: str) -> None:
        pass


def test_a_flood_of_steps_is_merged():
    conn = Connection(_FakeSocket(), SessionManager(), None, 2, 0.02)

    async def main() -> None:
        for _ in range(20):
            await conn._dispatch({"type": "step"})

    anyio.run(main)
    assert conn.steps == MAX_QUEUED_STEPS


def test_sessions_are_sharded_over_worker_processes():
    pool = WorkerPool(2)
    assert len(pool) == 2 and not pool.inline

    async def main() -> list:
        async with anyio.create_task_group() as tg:
            tg.start_soon(pool.run)
            pids = [(await pool.call(i, f"s{i}", {"op": "pid"}))["pid"] for i in range(2)]
            await pool.call(0, "s0", {"op": "create"})
            frame = await pool.call(0, "s0", {"op": "play_frame", "budget": 0.005})
            missing = await pool.call(1, "s0", {"op": "play_frame", "budget": 0.005})
            tg.cancel_scope.cancel()
        return [pids, frame, missing]

    pids, frame, missing = anyio.run(main)
    import os

    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert frame["replies"][0]["type"] == "frame" and missing == {"missing": True}
    assert all(q.worker.proc is None for q in pool.queues)  # stopped when the pool stopped


@pytest.mark.parametrize("n", [-1, 1.5, True])
def test_bad_worker_counts(n):
    with pytest.raises(ValueError, match="number of workers"):
        WorkerPool(n)


def test_a_worker_that_dies_loses_its_sessions_cleanly(clock):
    from tests.playground.wshelpers import connect, make_client, recv

    manager = SessionManager(workers=1, clock=clock)
    for client in make_client(manager):
        ws, _ = connect(client)
        proc = manager.pool.queues[0].worker.proc
        proc.kill()
        proc.wait()
        ws.send_json({"type": "config", "settings": {"layers": [3]}})
        err = recv(ws, "error")
        assert err["fatal"] and "session was lost" in err["message"] and "Retry" in err["message"]
        assert len(manager) == 0
        again, hello = connect(client)  # a fresh worker takes the new session
        again.send_json({"type": "config", "settings": {"layers": [3]}})
        assert recv(again, "state")["layer_sizes"] == [2, 3, 1]
        for t in (ws, again):
            t.close()
