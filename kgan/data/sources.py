"""Where images come from: a folder, a glob, a `.zip` archive (read in place) or a list of paths.

`resolve_source` turns any of these into an `ImageSource`: a sorted list of image names plus how to
read their bytes. Sorting by path makes a folder, a glob over it and a zip of it list the same
images in the same order.
"""

import dataclasses
import glob
import os
import threading
import zipfile

__all__ = ["IMAGE_EXTENSIONS", "DataSourceError", "ImageSource", "is_image_name", "resolve_source"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


class DataSourceError(ValueError):
    """The data source is missing, empty, or holds no readable image."""


@dataclasses.dataclass(frozen=True)
class ImageSource:
    """Image files found in a source.

    Attributes:
        description: the source as the user gave it, for messages.
        names: file paths, or member names inside `archive`, sorted.
        archive: path of the zip the names live in, or None for plain files.
        ignored: files beside the images whose names are not image names (notes, metadata), sorted.
        root: the folder the user named, for a folder source; None for a zip, a glob, a list or one
            file, whose root is where their names meet (`kgan.data.labels` reads class folders below it).
    """

    description: str
    names: tuple
    archive: str | None = None
    ignored: tuple = ()
    root: str | None = None

    def __len__(self):
        return len(self.names)

    def iter_bytes(self):
        """(name, bytes) for every image in `names` order, or (name, OSError) when one cannot be read.

        A zip is read in place, never unpacked; a damaged member (bad CRC) comes back as an error.
        """
        if self.archive is None:
            for name in self.names:
                try:
                    with open(name, "rb") as file:
                        yield name, file.read()
                except OSError as error:
                    yield name, error
            return
        with zipfile.ZipFile(self.archive) as archive:
            for name in self.names:
                try:
                    yield name, archive.read(name)
                except (zipfile.BadZipFile, OSError, EOFError) as error:
                    yield name, OSError(f"damaged zip member: {error}")


    def read(self, name):
        """The bytes of one image of this source (`OSError` when it cannot be read)."""
        if self.archive is None:
            with open(name, "rb") as file:
                return file.read()
        try:
            with zipfile.ZipFile(self.archive) as archive:
                return archive.read(name)
        except (zipfile.BadZipFile, EOFError) as error:
            raise OSError(f"damaged zip member: {error}") from error

    def reader(self):
        """A thread-safe `read(names) -> list of bytes`, for reading batches of images in any order from parallel threads.

        Open archives are kept in a pool and lent to one reader at a time: one `ZipFile` shared by
        threads serialises their reads, and opening one per read (or per short-lived thread) costs a
        parse of the whole central directory each time.
        """
        if self.archive is None:
            return lambda names: [self.read(name) for name in names]
        idle = []
        lock = threading.Lock()

        def read(names):
            with lock:
                archive = idle.pop() if idle else None
            if archive is None:
                archive = zipfile.ZipFile(self.archive)
            try:
                return [archive.read(name) for name in names]
            finally:
                with lock:
                    idle.append(archive)

        return read


def is_image_name(name):
    """Whether a file or zip member name is an image kgan reads (by extension; macOS metadata is not)."""
    base = os.path.basename(name)
    # macOS zips carry "._name.jpg" resource forks and a __MACOSX folder: metadata, not images.
    return name.lower().endswith(IMAGE_EXTENSIONS) and not base.startswith("._") and "__MACOSX" not in name


def _no_images(description, detail=""):
    return DataSourceError(
        f"{description}: no image files ({', '.join(IMAGE_EXTENSIONS)}) found{detail}."
    )


def resolve_source(source):
    """Find the images of `source` (folder, glob, .zip, single image file, or list of paths)."""
    if isinstance(source, ImageSource):
        return source
    if isinstance(source, (list, tuple)):
        paths = [os.fspath(p) for p in source]
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            raise DataSourceError(f"{len(missing)} of {len(paths)} listed image files do not exist, e.g. {missing[0]}")
        if not paths:
            raise DataSourceError("The list of image paths is empty.")
        return ImageSource(f"list of {len(paths)} paths", tuple(paths))  # the caller chose each file

    path = os.fspath(source)
    if any(char in path for char in "*?["):
        matches = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p) and is_image_name(p))
        if not matches:
            raise _no_images(path, " matching this pattern")
        return ImageSource(path, tuple(matches))
    if not os.path.exists(path):
        raise DataSourceError(f"{path}: no such file or folder.")
    if os.path.isdir(path):
        files = sorted(os.path.join(root, name) for root, _, names in os.walk(path) for name in names)
        found = [f for f in files if is_image_name(f)]
        if not found:
            raise _no_images(path, " in this folder or below")
        return ImageSource(path, tuple(found), ignored=tuple(f for f in files if not is_image_name(f)), root=path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            files = sorted(info.filename for info in archive.infolist() if not info.is_dir())
        members = [name for name in files if is_image_name(name)]
        if not members:
            raise _no_images(path, " inside this zip archive")
        return ImageSource(path, tuple(members), archive=path, ignored=tuple(n for n in files if not is_image_name(n)))
    if path.lower().endswith(".zip"):
        raise DataSourceError(f"{path}: not a readable zip archive.")
    if is_image_name(path):
        return ImageSource(path, (path,))
    raise DataSourceError(f"{path}: not a folder, a .zip archive or an image file ({', '.join(IMAGE_EXTENSIONS)}).")
