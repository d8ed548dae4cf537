"""``gradlab.backends``: torch's ``torch.backends`` switches for a CPU library, so scripts that set them run.

``cudnn.deterministic``/``cudnn.benchmark``/``cudnn.enabled`` can be set and read (gradlab is deterministic and
has no autotuner: they change nothing); ``cudnn``, ``mps`` and ``cuda`` report that they are not available.

>>> import gradlab
>>> gradlab.backends.cudnn.deterministic = True
>>> gradlab.backends.cudnn.is_available(), gradlab.backends.mps.is_available()
(False, False)
"""
from gradlab.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
