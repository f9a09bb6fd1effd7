"""Reading images: sources (folder, glob, zip, list, TFDS), the bad-file policy, the scan, the tf.data pipeline,
and a seeded train / held-out split.

`load(source, batch_size, ...)` is the entry point; kgan's own datasets (toy faces, 2D mixtures, the
TFDS builder) live in `kgan.datasets`.
"""

from kgan.data.decode import check_image, decode_image, decode_native
from kgan.data.memory import available_memory, default_memory_budget, format_size, parse_size
from kgan.data.pipeline import Batches, batches_from_files, batches_from_images, load, make_anime_dataset, to_unit_range
from kgan.data.scan import ScanReport, scan_source
from kgan.data.split import split_source
from kgan.data.sources import IMAGE_EXTENSIONS, DataSourceError, ImageSource, is_image_name, resolve_source
from kgan.data.tfds import is_tfds, tfds_num_examples

__all__ = [
    "IMAGE_EXTENSIONS",
    "Batches",
    "available_memory",
    "batches_from_files",
    "default_memory_budget",
    "format_size",
    "parse_size",
    "DataSourceError",
    "ImageSource",
    "ScanReport",
    "batches_from_images",
    "check_image",
    "decode_image",
    "decode_native",
    "is_image_name",
    "is_tfds",
    "load",
    "make_anime_dataset",
    "resolve_source",
    "scan_source",
    "split_source",
    "tfds_num_examples",
    "to_unit_range",
]
