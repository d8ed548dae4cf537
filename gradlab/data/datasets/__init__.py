"""Ready datasets: MNIST and Fashion-MNIST (from their IDX files), the TF-playground 2-D toy sets, the IDX reader."""

from .idx import (
    IDX_IMAGES_MAGIC,
    IDX_LABELS_MAGIC,
    parse_idx,
    read_file_bytes,
    read_idx,
    read_idx_images,
    read_idx_labels,
    write_idx,
)
from .mnist import MNIST, FashionMNIST, clear_cache, default_cache_dir
from .toy import (
    CLASSIFICATION_DATASETS,
    REGRESSION_DATASETS,
    make_circle,
    make_gauss,
    make_plane,
    make_regress_gauss,
    make_spiral,
    make_xor,
)

__all__ = [
    "MNIST",
    "FashionMNIST",
    "default_cache_dir",
    "clear_cache",
    "IDX_IMAGES_MAGIC",
    "IDX_LABELS_MAGIC",
    "parse_idx",
    "read_file_bytes",
    "read_idx",
    "read_idx_images",
    "read_idx_labels",
    "write_idx",
    "make_circle",
    "make_xor",
    "make_gauss",
    "make_spiral",
    "make_plane",
    "make_regress_gauss",
    "CLASSIFICATION_DATASETS",
    "REGRESSION_DATASETS",
]
