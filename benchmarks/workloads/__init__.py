"""Benchmark workloads: one module per workload, each with ``setup_gradlab()`` and ``setup_torch()``."""

__all__: list[str] = []
