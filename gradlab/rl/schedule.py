"""Exploration schedules: the epsilon of an epsilon-greedy agent as a function of the environment step.

>>> LinearSchedule(1.0, 0.1, 100)(50)
0.55
"""
from __future__ import annotations

__all__ = ["LinearSchedule"]


class LinearSchedule:
    """``start`` at step 0, falling linearly to ``end`` at step ``duration``, ``end`` afterwards.

    >>> s = LinearSchedule(1.0, 0.05, 1000)
    >>> s(0), s(1000), s(10**6)
    (1.0, 0.05, 0.05)
    """

    def __init__(self, start: float, end: float, duration: int) -> None:
        for name, v in (("start", start), ("end", end)):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"epsilon {name} must be in [0, 1], got {v}")
        if duration < 0:
            raise ValueError(f"the epsilon schedule's duration must be >= 0 steps, got {duration}")
        self.start, self.end, self.duration = float(start), float(end), int(duration)

    def __call__(self, step: int) -> float:
        if step >= self.duration:
            return self.end
        return self.start + (self.end - self.start) * step / self.duration

    def __repr__(self) -> str:
        return f"LinearSchedule(start={self.start}, end={self.end}, duration={self.duration})"
