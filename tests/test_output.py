from pathlib import Path

import pytest

from cophandbook.output import (
    LEGACY_MARKER,
    ForeignFiles,
    OutputError,
    check_output_folder,
    publish,
    record_path,
)
from cophandbook.routes import StaticFile


def test_publish_swaps_in_a_complete_folder(tmp_path):
    out = tmp_path / "out"
    publish({"a/index.html": b"one", "old.html": b"x"}, (), out)
    publish({"a/index.html": b"two"}, (), out)
    assert (out / "a/index.html").read_bytes() == b"two"
    assert not (out / "old.html").exists()
    # What the build knows of it is beside it, not in what gets published.
    assert record_path(out).is_file() and not (out / LEGACY_MARKER).exists()
    # Beside it: the record, and no working folder, nor the lock, once the build is done.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.cophandbook.json", "out"]
    assert sorted(p.name for p in out.iterdir()) == ["a"]


def test_publish_refuses_paths_outside_the_output(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(OutputError):
        publish({"../escape.html": b"x"}, (), out)
    assert not (tmp_path / "escape.html").exists()
    assert not out.exists()


def test_static_files_copied(tmp_path):
    src = tmp_path / "img.png"
    src.write_bytes(b"png")
    publish({}, (StaticFile("images/img.png", src),), tmp_path / "out")
    assert (tmp_path / "out/images/img.png").read_bytes() == b"png"


def test_check_output_folder(tmp_path):
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    check_output_folder(site, site / "_site")
    for bad in (site, tmp_path, site / "content", site / "content" / "x", Path("/")):
        with pytest.raises(OutputError):
            check_output_folder(site, bad)


def test_a_folder_with_the_record_of_an_earlier_version_inside_is_known_as_ours(tmp_path):
    site, out = tmp_path / "site", tmp_path / "out"
    (site / "content").mkdir(parents=True)
    out.mkdir()
    (out / "index.html").write_text("old")
    with pytest.raises(OutputError):
        check_output_folder(site, out)
    (out / LEGACY_MARKER).write_text('{"digests": {"index.html": "0"}}')
    check_output_folder(site, out)
    publish({"index.html": b"new"}, (), out)
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]  # the old marker is gone


@pytest.mark.parametrize("marker", ["", "{}", "not json", '{"digests": {"other.html": "0"}}'])
def test_a_marker_never_makes_a_file_it_does_not_list_ours(tmp_path, marker):
    """`touch d/.cophandbook-output` once made the next build replace all of `d`."""
    out = tmp_path / "d"
    out.mkdir()
    (out / "thesis.txt").write_text("x")
    (out / LEGACY_MARKER).write_text(marker)
    with pytest.raises(ForeignFiles) as raised:
        publish({"index.html": b"new"}, (), out)
    assert raised.value.names == ["thesis.txt"]
    assert sorted(p.name for p in out.iterdir()) == [LEGACY_MARKER, "thesis.txt"]
    assert (out / "thesis.txt").read_text() == "x"
