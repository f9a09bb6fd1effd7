"""Split an image source into a training part and a held-out part, so a model is scored on images it never saw.

    kgan data split faces.zip --holdout 3000 --out data/    # → data/faces-train.zip, data/faces-holdout.zip

The held-out images are drawn at random with a seed, so the same command gives the same split; the
files are copied byte for byte into two zip archives (stored, not re-compressed), keeping their
names. Files that are not images are left out; bad images are copied as they are (training and
evaluation skip them with their usual counted warning).
"""

import os
import zipfile

import numpy as np

from kgan.data.sources import DataSourceError, resolve_source

__all__ = ["split_source"]


def split_source(source, holdout, out_dir, seed=0, prefix=None):
    """Write `<prefix>-train.zip` and `<prefix>-holdout.zip` to `out_dir`; returns their paths and sizes.

    Args:
        source: anything `kgan.data` reads (a folder, a glob, a zip).
        holdout: how many images to hold out (an int), or a fraction of them (a float below 1).
        out_dir: folder for the two archives.
        seed: seed of the random choice of held-out images.
        prefix: the archives' name stem (default: the source's name).

    Returns:
        `{"train": (path, count), "holdout": (path, count)}`.
    """
    found = resolve_source(source)
    total = len(found)
    count = int(round(holdout * total)) if isinstance(holdout, float) and holdout < 1 else int(holdout)
    if not 0 < count < total:
        raise DataSourceError(f"{found.description}: cannot hold out {holdout} of {total} images; give 1 to {total - 1}.")
    held = set(np.random.default_rng(seed).choice(total, size=count, replace=False).tolist())
    stem = prefix or os.path.splitext(os.path.basename(os.path.normpath(str(source))))[0] or "images"
    os.makedirs(out_dir, exist_ok=True)
    paths = {part: os.path.join(out_dir, f"{stem}-{part}.zip") for part in ("train", "holdout")}
    counts = {"train": 0, "holdout": 0}
    # a folder's files keep their paths below the folder; a zip's members keep their names
    root = os.path.commonpath(found.names) if found.archive is None and total > 1 else None
    with zipfile.ZipFile(paths["train"], "w", zipfile.ZIP_STORED) as train, \
            zipfile.ZipFile(paths["holdout"], "w", zipfile.ZIP_STORED) as held_out:
        for index, (name, data) in enumerate(found.iter_bytes()):
            if isinstance(data, OSError):
                raise DataSourceError(f"{found.description}: {name}: {data}")
            part = "holdout" if index in held else "train"
            archive_name = os.path.relpath(name, root) if root else os.path.basename(name) if found.archive is None else name
            (held_out if part == "holdout" else train).writestr(archive_name, data)
            counts[part] += 1
    return {part: (paths[part], counts[part]) for part in paths}
