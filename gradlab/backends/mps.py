"""``gradlab.backends.mps``: Apple's Metal backend, never available under gradlab.

>>> is_available(), is_built()
(False, False)
"""
__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False."""
    return False


def is_built() -> bool:
    """False."""
    return False
