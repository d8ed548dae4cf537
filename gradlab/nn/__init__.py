"""Neural-network building blocks (PyTorch names)."""
from gradlab.nn import functional

__all__ = ["functional"]
