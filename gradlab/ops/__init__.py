"""Differentiable ops: one ``Function`` per op, forward and backward side by side, grouped by kind."""

__all__: list[str] = []
