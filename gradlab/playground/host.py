"""The sessions of one worker: :class:`SessionHost` runs the requests the server sends it, one at a time.

A request is a JSON-ready dict ``{"op": ..., "sid": ..., ...}``; the reply is a JSON-ready dict (``{"error": ...}``
for a refused request, ``{"missing": true}`` when the session is not here). Every op does a bounded amount of work
(a time slice of training, a frame, a message), so a worker shared by many sessions answers each of them often.
The same host runs inside a worker process (:mod:`gradlab.playground.worker`) or in the server's own process.

>>> h = SessionHost()
>>> h.execute({"op": "create", "sid": "a"})["ok"]
True
>>> [m["type"] for m in h.execute({"op": "play_frame", "sid": "a", "budget": 0.01})["replies"]]
['frame']
>>> h.execute({"op": "state", "sid": "b"})
{'missing': True}
"""
from __future__ import annotations

import base64
import logging
import os
from typing import Any

from .config import SettingsError
from .export import safetensors_bytes, snippet
from .onnx_export import onnx_bytes
from .protocol import COMPUTE_LOCK, error, handle
from .session import Session

__all__ = ["SessionHost", "OPS"]

log = logging.getLogger("gradlab.playground")

OPS = ("create", "drop", "message", "hello", "play_frame", "step_start", "step_slice", "export", "pid")


class SessionHost:
    """Sessions by id, and :meth:`execute` for the requests about them.

    >>> h = SessionHost()
    >>> h.execute({"op": "create", "sid": "s1"})
    {'ok': True}
    >>> msg = {"type": "config", "settings": {"layers": [0]}}
    >>> h.execute({"op": "message", "sid": "s1", "msg": msg})["replies"][0]["message"]
    'hidden layer 1: between 1 and 64 neurons, got 0'
    >>> h.execute({"op": "drop", "sid": "s1"}), h.execute({"op": "hello", "sid": "s1"})
    ({'ok': True}, {'missing': True})
    """

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.targets: dict[str, int] = {}  # the epoch a running step trains towards

    def execute(self, req: dict[str, Any]) -> dict[str, Any]:
        """Run one request; never raises for a bad request (a bug is logged and answered with an error)."""
        op, sid = req.get("op"), req.get("sid")
        if op == "pid":
            return {"pid": os.getpid()}
        if op == "create":
            with COMPUTE_LOCK:
                self.sessions[str(sid)] = Session(sid=str(sid))
            return {"ok": True}
        if op == "drop":
            self.sessions.pop(str(sid), None)
            self.targets.pop(str(sid), None)
            return {"ok": True}
        session = self.sessions.get(str(sid))
        if session is None:
            return {"missing": True}
        try:
            with_lock = op != "message"  # handle() takes the lock itself
            if with_lock:
                with COMPUTE_LOCK:
                    return self._run(session, str(op), req)
            return self._run(session, str(op), req)
        except SettingsError as e:
            return {"replies": [error(str(e), op)]}
        except Exception as e:  # a bug: say so, keep the worker
            log.exception("playground: %s request failed", op)
            return {"replies": [error(f"internal error in {op!r}: {type(e).__name__}", op)]}

    def _run(self, s: Session, op: str, req: dict[str, Any]) -> dict[str, Any]:
        picture = s.paused_message if s.diverged else s.frame
        if op == "message":
            return {"replies": handle(s, req.get("msg"))}
        if op == "hello":
            return {"replies": [s.state(), s.paused_message() if s.diverged else s.frame()]}
        if op == "play_frame":
            return {"replies": [s.play_frame(float(req["budget"]))]}
        if op == "step_start":
            self.targets[s.sid] = s.epoch + 1
            return {"epoch": s.epoch}
        if op == "step_slice":
            done = s.step_slice(self.targets.get(s.sid, s.epoch), float(req["budget"]))
            return {"done": done, "replies": [picture()] if done else []}
        if op == "export":
            name = req.get("name")
            if name == "model.safetensors":
                return {"b64": base64.b64encode(safetensors_bytes(s)).decode("ascii")}
            if name == "model.py":
                return {"text": snippet(s)}
            if name == "model.onnx":
                try:
                    return {"b64": base64.b64encode(onnx_bytes(s)).decode("ascii")}
                except ImportError as e:
                    return {"error": str(e), "status": 501}
            if name == "data.csv":
                if s.csv is None:
                    return {"error": "this session has no uploaded CSV data"}
                return {"text": s.csv.to_csv()}
            return {"error": "unknown export; use model.safetensors, model.py, model.onnx or data.csv"}
        return {"error": f"unknown request {op!r}"}
