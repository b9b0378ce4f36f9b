"""The output writer: atomic, confined to the output folder, and idle when nothing changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from publisher.errors import OutputError
from publisher.output import OutputWriter


def test_create_change_unchanged(tmp_path: Path) -> None:
    writer = OutputWriter(tmp_path / "out")
    assert writer.write_text("a/b.txt", "one").status == "created"
    path = tmp_path / "out" / "a" / "b.txt"
    first = path.stat().st_mtime_ns
    assert writer.write_text("a/b.txt", "one").status == "unchanged"
    assert path.stat().st_mtime_ns == first
    assert writer.write_text("a/b.txt", "two").status == "changed"
    assert path.read_text() == "two"
    assert [w.status for w in writer.changed] == ["created", "changed"]


def test_no_temp_files_left(tmp_path: Path) -> None:
    writer = OutputWriter(tmp_path)
    for i in range(3):
        writer.write_bytes("x.bin", bytes([i]) * 10)
    assert sorted(os.listdir(tmp_path)) == ["x.bin"]


def test_dry_run_writes_nothing_but_reports(tmp_path: Path) -> None:
    (tmp_path / "same.txt").write_text("same")
    writer = OutputWriter(tmp_path, dry_run=True)
    assert writer.write_text("new/file.txt", "x").status == "created"
    assert writer.write_text("same.txt", "same").status == "unchanged"
    assert writer.write_text("same.txt", "other").status == "changed"
    assert sorted(os.listdir(tmp_path)) == ["same.txt"]
    assert (tmp_path / "same.txt").read_text() == "same"


@pytest.mark.parametrize(
    "relative",
    ["../escape.txt", "/etc/passwd", "a/../../escape.txt", "", ".", "..\\escape.txt"],
)
def test_paths_cannot_escape(tmp_path: Path, relative: str) -> None:
    writer = OutputWriter(tmp_path / "out")
    with pytest.raises(OutputError, match="outside"):
        writer.write_text(relative, "x")
    assert not (tmp_path / "escape.txt").exists()


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError, match="resolves outside"):
        OutputWriter(out).write_text("link/file.txt", "x")
    assert not (tmp_path / "elsewhere" / "file.txt").exists()


def test_failed_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = OutputWriter(tmp_path)
    writer.write_text("keep.txt", "old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OutputError, match="No space left on device"):
        writer.write_text("keep.txt", "new")
    assert (tmp_path / "keep.txt").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"]
