"""`anime_faces`: the TF2 book's anime faces (chapter 13) as a TensorFlow Datasets builder.

TFDS cannot download these images (copyrighted character art, circulated for education and research
only), so the builder reads them from the manual dir: every `.zip` there or below (streamed member
by member with `dl_manager.iter_archive`, never unpacked) and every image file in folders below it.

Each example is `{"image": uint8 (height, width, 3) at its native size, "filename": str}`, where
`filename` is the path inside the zip, or the path relative to the manual dir for loose files (so a
zip of a folder and the folder itself give the same names). The bad-file policy is kgan's, the one
`kgan.data` uses: macOS junk (`__MACOSX/`, `._*`) and non-image names are ignored; every image name
is checked by `cheap_check` and decoded by TensorFlow to RGB (grayscale, RGBA, palette and 16-bit PNGs
included); empty, non-image, too-large, corrupt, truncated or unreadable files are skipped, counted
in `info.metadata["skipped"]` and named in a warning on the `kgan.datasets` logger.

The split is a pure function of the file name (`split_of`): md5 of the UTF-8 name, as an integer,
modulo 10 == 0 → "test" (about 10 %), else "train"; whatever the order, the machine or the other files.
"""

import hashlib
import logging
import os
import zipfile

import tensorflow as tf
import tensorflow_datasets as tfds
from etils import epath

from kgan.data.decode import MAX_PIXELS, check_image, decode_native
from kgan.data.scan import warn_skipped
from kgan.data.sources import IMAGE_EXTENSIONS, DataSourceError, is_image_name

__all__ = ["AnimeFaces", "TEST_BUCKETS", "split_of"]

log = logging.getLogger("kgan.datasets")

# md5(name) % 10 < TEST_BUCKETS → test: 1 of 10 buckets, about 10 % of the files.
TEST_BUCKETS = 1

_DESCRIPTION = """\
Anime character faces for GAN training, as used by chapter 13 (DCGAN, WGAN-GP) of the TensorFlow 2
deep-learning book: the book's `faces.zip` (about 51,000 96×96 JPEGs), a 64×64 anime-faces zip, or
any folder of face images, read from the manual dir. Images keep their native size and are stored as
3-channel uint8 (grayscale, RGBA, palette and 16-bit images are converted to RGB); `filename` is the
path inside the archive or folder. Files that cannot be decoded are skipped and listed in
`info.metadata["skipped"]`. The split is deterministic: md5(filename) % 10 == 0 → test (about 10 %).

The images are copyrighted character art, circulated for education and research only.
"""

_CITATION = """\
@book{long2020tensorflow,
  author    = {Long, Liangqu},
  title     = {TensorFlow Deep Learning: Understanding the Design of AI Algorithms in Depth
               (TensorFlow 深度学习——深入理解人工智能算法设计)},
  publisher = {Tsinghua University Press},
  address   = {Beijing},
  year      = {2020},
  note      = {Chapter 13, generative adversarial networks: DCGAN and WGAN-GP on the anime faces of faces.zip}
}
"""


def split_of(filename):
    """"test" or "train" for a file name: md5 of its UTF-8 bytes, as an integer, modulo 10."""
    bucket = int(hashlib.md5(filename.encode("utf-8")).hexdigest(), 16) % 10
    return "test" if bucket < TEST_BUCKETS else "train"


def _find_inputs(manual_dir):
    """Zips and loose image files below `manual_dir`, in path order.

    Returns (zips, files, ignored): zip paths with at least one image name inside; (name, path) of
    loose image files, `name` relative to `manual_dir` with "/" separators; and the names of other
    files (notes, macOS junk, zips without images), which are not images and not counted as skipped.
    """
    root_dir = os.fspath(manual_dir)
    zips, files, ignored = [], [], []
    for root, dirs, names in os.walk(root_dir, followlinks=True):  # a symlinked folder counts
        dirs.sort()
        for base in sorted(names):
            path = os.path.join(root, base)
            name = os.path.relpath(path, root_dir).replace(os.sep, "/")
            if base.lower().endswith(".zip") and not base.startswith("._") and "__MACOSX" not in name:
                try:
                    with zipfile.ZipFile(path) as archive:  # the central directory only; nothing is extracted
                        has_images = any(
                            not info.is_dir() and is_image_name(info.filename) for info in archive.infolist()
                        )
                except (zipfile.BadZipFile, OSError, EOFError) as error:
                    log.warning("anime_faces: %s is not a readable zip archive (%s); ignored.", path, error)
                    ignored.append(name)
                    continue
                if has_images:
                    zips.append(path)
                else:
                    log.warning("anime_faces: %s holds no image files; ignored.", path)
                    ignored.append(name)
            elif is_image_name(name):
                files.append((name, path))
            else:
                ignored.append(name)
    return zips, files, ignored


class AnimeFaces(tfds.core.GeneratorBasedBuilder):
    """Anime faces from the manual dir (a zip, several zips, or folders of images)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "First release: native-size RGB uint8 images and their file names; "
        "md5(filename) % 10 == 0 → test split; undecodable files skipped and listed in metadata.",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"""\
Place the anime faces in the manual dir (`--manual_dir DIR` for `tfds build`, or
`tfds.download.DownloadConfig(manual_dir=DIR)`), in any of these forms:

* `faces.zip` from chapter 13 of the TensorFlow 2 deep-learning book (about 51,000 96×96 JPEGs),
  as it is: zips are read in place, never unpacked;
* a 64×64 anime-faces zip, or several zips (every `.zip` in the dir or below is read);
* folders of image files ({", ".join(IMAGE_EXTENSIONS)}) anywhere below the dir.

Images keep their native size. Licence: the images are copyrighted character art, circulated for
education and research only; do not redistribute them. kgan ships none and downloads nothing.
"""

    @tfds.core.utils.classproperty
    @classmethod
    def code_path(cls):
        # TFDS 4.9.10 finds a packaged builder's file through `importlib_resources`, a package it does
        # not install (it comes with `etils[epath]`); this file is the answer it would compute.
        return epath.Path(__file__)

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description=_DESCRIPTION,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(None, None, 3), dtype=tf.uint8),
                    "filename": tfds.features.Text(),
                }
            ),
            supervised_keys=None,
            citation=_CITATION,
            # Filled while generating: {"skipped": {split: [[filename, reason], ...]}}.
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        manual_dir = dl_manager.manual_dir  # TFDS raises with the instructions if it is missing or empty
        zips, files, ignored = _find_inputs(manual_dir)
        if not zips and not files:
            shown = ", ".join(ignored[:5]) + (" …" if len(ignored) > 5 else "")
            raise DataSourceError(
                f"anime_faces: found no .zip archive holding images and no image files "
                f"({', '.join(IMAGE_EXTENSIONS)}) in the manual dir {manual_dir} or below"
                f"{f' (only: {shown})' if ignored else ''}. Expected:\n{self.MANUAL_DOWNLOAD_INSTRUCTIONS}"
            )
        log.info(
            "anime_faces: reading %d zip archive(s) and %d loose image file(s) from %s; "
            "%d other file(s) beside them ignored.",
            len(zips), len(files), manual_dir, len(ignored),
        )
        skipped_by_split = self.info.metadata.setdefault("skipped", {})
        generators = {}
        for split in ("train", "test"):
            # TFDS refuses to write an empty split, so first make sure this one has one readable image:
            # normally the first image file of the split, read from the start of the first archive.
            skipped, counts = [], {"image_files": 0}
            probe = self._checked_images(dl_manager, zips, files, split, skipped, counts)
            try:
                first = next(probe, None)
            finally:
                probe.close()  # closes the archive it was reading
            if first is None:
                skipped_by_split[split] = [list(item) for item in skipped]
                _warn_skipped(split, skipped, counts["image_files"])
                log.warning(
                    "anime_faces: no readable image falls in the %s split (%d image file(s) of it); "
                    "the split is left out.", split, counts["image_files"],
                )
                continue
            generators[split] = self._generate_examples(dl_manager, zips, files, split)
        if not generators:
            raise DataSourceError(
                f"anime_faces: none of the image files in the manual dir {manual_dir} could be decoded "
                f"(see the warnings above, or info.metadata['skipped'])."
            )
        return generators

    def _named_bytes(self, dl_manager, zips, files, split):
        """(name, source, bytes or OSError) for every image name of `split`: zips in path order, then files."""
        for path in zips:
            # An explicit ZIP method: TFDS guesses it from a lower-case ".zip" only.
            resource = tfds.download.Resource(path=path, extract_method=tfds.download.ExtractMethod.ZIP)
            members = iter(dl_manager.iter_archive(resource))
            while True:
                try:
                    name, file = next(members)
                except StopIteration:
                    break
                except (zipfile.BadZipFile, OSError, EOFError) as error:  # a damaged local header
                    reason = f"damaged zip archive; its remaining members are not read: {error}"
                    yield f"{os.path.basename(path)} (rest of the archive)", path, OSError(reason)
                    break
                name = name.replace(os.sep, "/")
                if not is_image_name(name) or split_of(name) != split:
                    continue  # the bytes of other members are never read
                try:
                    data = file.read()
                except (zipfile.BadZipFile, OSError, EOFError) as error:
                    data = OSError(f"damaged zip member: {error}")
                yield name, path, data
        for name, path in files:
            if split_of(name) != split:
                continue
            try:
                with open(path, "rb") as file:
                    data = file.read()
            except OSError as error:
                data = error
            yield name, path, data

    def _checked_images(self, dl_manager, zips, files, split, skipped, counts):
        """(name, uint8 (h, w, 3) image) for the readable images of `split`; the others go to `skipped`."""
        seen = {}
        for name, source, data in self._named_bytes(dl_manager, zips, files, split):
            counts["image_files"] += 1
            if name in seen:
                skipped.append((name, f"duplicate name (also in {seen[name]}; the first is kept)"))
                continue
            seen[name] = source
            reason, _ = check_image(data, MAX_PIXELS)  # kgan's bad-file policy, as the scan applies it
            if reason is None:
                image, reason = decode_native(data)
            if reason is not None:
                skipped.append((name, reason))
                continue
            yield name, image

    def _generate_examples(self, dl_manager, zips, files, split):
        skipped, counts = [], {"image_files": 0}
        for name, image in self._checked_images(dl_manager, zips, files, split, skipped, counts):
            yield name, {"image": image, "filename": name}
        self.info.metadata["skipped"][split] = [list(item) for item in skipped]
        _warn_skipped(split, skipped, counts["image_files"])


def _warn_skipped(split, skipped, total):
    warn_skipped(log, f"anime_faces {split} split", skipped, total, hint=" (all in info.metadata['skipped'])")
