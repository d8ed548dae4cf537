"""``gradlab.utils.data``: ``gradlab.data`` under torch's module name ``torch.utils.data``.

>>> from gradlab.utils.data import DataLoader, TensorDataset
>>> import gradlab
>>> len(DataLoader(TensorDataset(gradlab.zeros(10, 2)), batch_size=4))
3
"""
from gradlab.data import *  # noqa: F403
from gradlab.data import __all__ as _all

__all__ = list(_all)
