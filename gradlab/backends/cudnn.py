"""``gradlab.backends.cudnn``: settable flags as torch's, with no effect (no cuDNN under gradlab).

>>> is_available(), enabled
(False, True)
"""
__all__ = ["is_available", "deterministic", "benchmark", "enabled", "allow_tf32", "version"]

deterministic = False
benchmark = False
enabled = True
allow_tf32 = True


def is_available() -> bool:
    """False: gradlab never runs cuDNN.

    >>> import gradlab
    >>> gradlab.backends.cudnn.is_available()
    False
    """
    return False


def version() -> None:
    """None, as torch's when cuDNN is missing.

    >>> import gradlab
    >>> gradlab.backends.cudnn.version() is None
    True
    """
    return None
