"""Data: image sources (folder, glob, zip, list, TFDS), the bad-file policy, the tf.data pipeline, toy faces."""

from kgan.data.decode import decode_image
from kgan.data.pipeline import (
    batches_from_images,
    make_anime_dataset,
    make_toy_dataset,
    tfds_num_examples,
    to_unit_range,
)
from kgan.data.scan import ScanReport, scan_source
from kgan.data.sources import IMAGE_EXTENSIONS, DataSourceError, ImageSource, resolve_source
from kgan.data.toy_faces import TOY_FACE_ATTRIBUTES, mode_index, num_modes, render_face, toy_faces

__all__ = [
    "IMAGE_EXTENSIONS",
    "DataSourceError",
    "ImageSource",
    "ScanReport",
    "TOY_FACE_ATTRIBUTES",
    "batches_from_images",
    "decode_image",
    "make_anime_dataset",
    "make_toy_dataset",
    "mode_index",
    "num_modes",
    "render_face",
    "resolve_source",
    "scan_source",
    "tfds_num_examples",
    "to_unit_range",
    "toy_faces",
]
