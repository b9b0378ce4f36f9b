"""atomic.py's temporary files: named as sweep.py recognises them, new, private, beside
their target, and made without importing tempfile (issue 12: ~3.5 ms of every build)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import fresh_probe
from publisher import atomic, sweep


def test_a_temporary_file_is_new_private_and_named_for_the_sweep(tmp_path: Path) -> None:
    target = tmp_path / "feeds" / "rss.xml"
    target.parent.mkdir()
    made = [atomic.temp_beside(target) for _ in range(50)]
    try:
        names = {Path(temp).name for _, temp in made}
        assert len(names) == 50
        for _, temp in made:
            path = Path(temp)
            assert path.is_absolute() and path.parent == target.parent
            match = sweep._TEMPORARY.fullmatch(path.name)
            assert match is not None and match.group(1) == "rss.xml"
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
            assert path.stat().st_size == 0
    finally:
        for fd, _ in made:
            os.close(fd)


def test_a_name_in_use_is_never_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first two names drawn are taken (a file, and a symlink to a file elsewhere): the
    # third is used, and neither the file nor the symlink's target is touched.
    draws: Iterator[bytes] = iter([bytes(8), bytes(8), bytes([1] * 8)])
    monkeypatch.setattr(os, "urandom", lambda n: next(draws))
    target = tmp_path / "posts.json"
    taken = tmp_path / ".posts.json.aaaaaaaa.tmp"
    taken.write_bytes(b"someone else's")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"keep")
    fd, temp = atomic.temp_beside(target)
    os.close(fd)
    assert Path(temp).name == ".posts.json.bbbbbbbb.tmp"
    assert taken.read_bytes() == b"someone else's"
    monkeypatch.setattr(os, "urandom", lambda n: bytes(8))
    taken.unlink()
    taken.symlink_to(elsewhere)
    with pytest.raises(FileExistsError):
        atomic.temp_beside(target)  # every name drawn is the symlink's
    assert elsewhere.read_bytes() == b"keep"


def test_write_atomic_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out" / "index.json"
    atomic.write_atomic(target, b"first", mode=0o644)
    assert target.read_bytes() == b"first"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644

    def fail(fd: int) -> None:
        atomic.write_all(fd, b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic.write_atomic_with(target, fail)
    assert target.read_bytes() == b"first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["index.json"]


def test_atomic_imports_no_tempfile() -> None:
    probe = "import json, sys; import publisher.atomic; print(json.dumps(sorted(sys.modules)))"
    modules = fresh_probe(probe)
    assert [m for m in ("tempfile", "shutil", "random") if m in modules] == []


def test_an_unsynced_write_swaps_the_old_file_out_for_the_caller_to_free(tmp_path: Path) -> None:
    """``replaced``: the new file is exchanged with the old one (never a moment without
    either at the target) and the old one left at the temporary name, to be deleted off
    the build's critical path (publisher/spliced.py)."""
    target = tmp_path / "rss.xml"
    target.write_bytes(b"old")
    old_inode = target.stat().st_ino
    replaced: list[str] = []
    atomic.write_atomic_with(
        target, lambda fd: atomic.write_all(fd, b"new"), sync=False, replaced=replaced
    )
    assert target.read_bytes() == b"new"
    if atomic._renameat2() is None:
        pytest.skip("no renameat2 here: the file is renamed over the old one")
    (left,) = replaced
    assert Path(left).parent == tmp_path and os.stat(left).st_ino == old_inode
    assert Path(left).read_bytes() == b"old"
    assert sweep._TEMPORARY.fullmatch(Path(left).name) is not None  # a killed build's: swept


@pytest.mark.parametrize("there", [True, False])
def test_where_no_exchange_can_be_made_the_file_is_renamed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, there: bool
) -> None:
    """No file at the target (the exchange needs two), or a system or file system without
    it: a plain rename, nothing left over."""
    target = tmp_path / "rss.xml"
    if there:
        target.write_bytes(b"old")
        monkeypatch.setattr(atomic, "_renameat2", lambda: lambda *args: -1)
    replaced: list[str] = []
    atomic.write_atomic_with(
        target, lambda fd: atomic.write_all(fd, b"new"), sync=False, replaced=replaced
    )
    assert target.read_bytes() == b"new" and replaced == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rss.xml"]
