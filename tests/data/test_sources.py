"""kgan.data.sources: a folder, a glob, a zip and a list find the same images; missing or empty sources are clear errors."""

import zipfile

import pytest

from kgan.data import DataSourceError, is_image_name, make_anime_dataset, resolve_source


def test_folder_zip_glob_and_list_list_the_same_images_in_path_order(image_folder, image_zip):
    folder, _ = image_folder
    archive, _ = image_zip
    from_folder = resolve_source(folder)
    assert [name.split("faces/")[-1] for name in from_folder.names] == ["a.png", "b.png", "c.png", "d.png", "sub/e.png", "sub/f.png"]
    assert [name.split("faces/")[-1] for name in from_folder.ignored] == ["notes.txt"]
    from_zip = resolve_source(archive)
    assert from_zip.archive == str(archive)
    assert [name.split("faces/")[-1] for name in from_zip.names] == [name.split("faces/")[-1] for name in from_folder.names]
    assert resolve_source(str(folder / "**" / "*.png")).names == from_folder.names
    assert resolve_source(sorted(folder.rglob("*.png"))).names == from_folder.names
    assert [data for _, data in from_zip.iter_bytes()] == [data for _, data in from_folder.iter_bytes()]


def test_is_image_name_by_extension_not_macos_metadata():
    assert is_image_name("faces/a.JPG") and is_image_name("b.jpeg") and is_image_name("c.png")
    assert not is_image_name("notes.txt") and not is_image_name("faces/._a.png")
    assert not is_image_name("__MACOSX/faces/a.png")


def test_missing_source_names_the_path(tmp_path):
    with pytest.raises(DataSourceError, match="nowhere.zip: no such file"):
        make_anime_dataset(tmp_path / "nowhere.zip", 4)


def test_empty_folder_and_folder_without_images_are_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataSourceError, match="empty: no image files"):
        make_anime_dataset(tmp_path / "empty", 4)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.txt").write_text("hi")
    with pytest.raises(DataSourceError, match="docs: no image files"):
        make_anime_dataset(tmp_path / "docs", 4)
    with pytest.raises(DataSourceError, match="matching this pattern"):
        make_anime_dataset(str(tmp_path / "*.jpg"), 4)


def test_zip_without_images_and_broken_zip_are_clear_errors(tmp_path):
    archive = tmp_path / "junk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("junk/readme.txt", "no faces here")
        zf.writestr("__MACOSX/junk/._a.png", "resource fork")
    with pytest.raises(DataSourceError, match="junk.zip: no image files .* inside this zip"):
        make_anime_dataset(archive, 4)
    (tmp_path / "broken.zip").write_bytes(b"PK not really")
    with pytest.raises(DataSourceError, match="broken.zip: not a readable zip"):
        make_anime_dataset(tmp_path / "broken.zip", 4)


def test_listed_files_that_do_not_exist_are_named(tmp_path, image_folder):
    folder, _ = image_folder
    with pytest.raises(DataSourceError, match="1 of 2 listed image files do not exist, e.g. .*gone.png"):
        resolve_source([folder / "a.png", tmp_path / "gone.png"])
    with pytest.raises(DataSourceError, match="list of image paths is empty"):
        resolve_source([])
