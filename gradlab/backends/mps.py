"""``gradlab.backends.mps``: Apple's Metal backend, never available under gradlab.

>>> is_available(), is_built()
(False, False)
"""
__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: gradlab has no Metal backend.

    >>> import gradlab
    >>> gradlab.backends.mps.is_available()
    False
    """
    return False


def is_built() -> bool:
    """False: gradlab is never built with Metal.

    >>> import gradlab
    >>> gradlab.backends.mps.is_built()
    False
    """
    return False
