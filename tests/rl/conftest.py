"""The rl tests need Gymnasium (the ``rl`` extra, also in ``test``): skipped without it."""
import pytest

pytest.importorskip("gymnasium")
