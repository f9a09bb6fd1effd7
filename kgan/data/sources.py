"""Where images come from: a folder, a glob, a `.zip` archive (read in place) or a list of paths.

`resolve_source` turns any of these into an `ImageSource`: a sorted list of image names plus how to
read their bytes. Sorting by path makes a folder, a glob over it and a zip of it list the same
images in the same order.
"""

import dataclasses
import glob
import os
import zipfile

__all__ = ["IMAGE_EXTENSIONS", "DataSourceError", "ImageSource", "resolve_source"]

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
    """

    description: str
    names: tuple
    archive: str | None = None

    def __len__(self):
        return len(self.names)

    def read_all(self):
        """The encoded bytes of every image, in `names` order (a zip is read in place, never unpacked)."""
        if self.archive is None:
            contents = []
            for name in self.names:
                with open(name, "rb") as file:
                    contents.append(file.read())
            return contents
        with zipfile.ZipFile(self.archive) as archive:
            return [archive.read(name) for name in self.names]

    def read(self, index):
        """The encoded bytes of one image."""
        if self.archive is None:
            with open(self.names[index], "rb") as file:
                return file.read()
        with zipfile.ZipFile(self.archive) as archive:
            return archive.read(self.names[index])


def _is_image_name(name):
    base = os.path.basename(name)
    # macOS zips carry "._name.jpg" resource forks and a __MACOSX folder: metadata, not images.
    return name.lower().endswith(IMAGE_EXTENSIONS) and not base.startswith("._") and "__MACOSX" not in name


def _no_images(description, detail=""):
    return DataSourceError(
        f"{description}: no image files ({', '.join(IMAGE_EXTENSIONS)}) found{detail}."
    )


def resolve_source(source):
    """Find the images of `source` (folder, glob, .zip, single image file, or list of paths)."""
    if isinstance(source, (list, tuple)):
        paths = [os.fspath(p) for p in source]
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            raise DataSourceError(f"{len(missing)} of {len(paths)} listed image files do not exist, e.g. {missing[0]}")
        if not paths:
            raise DataSourceError("The list of image paths is empty.")
        return ImageSource(f"list of {len(paths)} paths", tuple(paths))

    path = os.fspath(source)
    if any(char in path for char in "*?["):
        matches = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p) and _is_image_name(p))
        if not matches:
            raise _no_images(path, " matching this pattern")
        return ImageSource(path, tuple(matches))
    if not os.path.exists(path):
        raise DataSourceError(f"{path}: no such file or folder.")
    if os.path.isdir(path):
        found = sorted(
            os.path.join(root, name)
            for root, _, names in os.walk(path)
            for name in names
            if _is_image_name(name)
        )
        if not found:
            raise _no_images(path, " in this folder or below")
        return ImageSource(path, tuple(found))
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = sorted(info.filename for info in archive.infolist() if not info.is_dir() and _is_image_name(info.filename))
        if not members:
            raise _no_images(path, " inside this zip archive")
        return ImageSource(path, tuple(members), archive=path)
    if path.lower().endswith(".zip"):
        raise DataSourceError(f"{path}: not a readable zip archive.")
    if _is_image_name(path):
        return ImageSource(path, (path,))
    raise DataSourceError(f"{path}: not a folder, a .zip archive or an image file ({', '.join(IMAGE_EXTENSIONS)}).")
