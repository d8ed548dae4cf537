"""``gradlab.utils``: torch's ``torch.utils`` names (``gradlab.utils.data`` is ``gradlab.data``)."""
from gradlab.utils import data

__all__ = ["data"]
