"""Spliced output files are renamed into place unsynced, and every later trust in them is
tied to the boot that wrote them (``publisher/boot.py``): after a reboot (here a file
standing in for ``/proc/sys/kernel/random/boot_id``) no build splices from them or calls
itself a no-op, so bytes a power loss took are written again."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_run import publish, run_entry

from conftest import FEEDS_CONFIG, numbered_site, tree_bytes
from publisher import boot, fastpath, snapshot
from publisher.stamps import stamp_of

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="the synced files are named through /proc"
)

BOOT_A = "6f9d2c1e-0000-4000-8000-00000000000a"
BOOT_B = "6f9d2c1e-0000-4000-8000-00000000000b"
#: The files written from the last build's (a post's body edited changes each of them).
SPLICED = ("rss.xml", "atom.xml", "feed.json")


@pytest.fixture
def boot_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This run's boot id, as a file the test rewrites to stand in for a reboot."""
    path = tmp_path / "boot_id"
    path.write_text(BOOT_A + "\n", encoding="ascii")
    monkeypatch.setattr(boot, "BOOT_ID", os.fspath(path))
    # Files written a moment ago are judged by their stat alone, as a real site's are.
    monkeypatch.setattr(snapshot, "RECENT_NS", 0)
    return path


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every file ``os.fsync`` is called on (SQLite syncs in C: not these)."""
    names: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        names.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return names


def _site(tmp_path: Path) -> Path:
    return numbered_site(tmp_path / "site", FEEDS_CONFIG, 12)


def _edit(root: Path, number: int, line: str) -> None:
    path = root / "posts" / f"post-{number:03d}" / "index.md"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\n{line}\n")


def _build(root: Path) -> str:
    done = publish("build", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    _spliced_threads_done()
    return done.stderr


def _spliced_threads_done() -> None:
    """The threads that free the files spliced files replaced (the process waits for
    them at exit; a test looks at the folder before that)."""
    for thread in threading.enumerate():
        if thread.name.startswith("splice "):
            thread.join()


def _marks(root: Path) -> dict[str, str | None]:
    """Each layout's boot mark (None: its file was synced)."""
    db = sqlite3.connect(root / "state" / "layouts.sqlite")
    try:
        rows = db.execute("SELECT path, stamp FROM stamps").fetchall()
    finally:
        db.close()
    return {path: (stamp.split(":")[4] if stamp.count(":") == 4 else None) for path, stamp in rows}


def _cold(root: Path, where: Path) -> dict[str, bytes]:
    """What a cold build of the site's posts writes."""
    shutil.copytree(root, where, ignore=shutil.ignore_patterns("public", "state"))
    _build(where)
    return tree_bytes(where / "public")


def _lose(root: Path, relative: str) -> None:
    """A power loss on XFS or ext4 ``data=writeback``: the file's blocks are zeros under
    its old size and mtime. The ctime moves (no tool can set it back), so the kept stamp
    is set to the file's new one: the stamp check alone can no longer tell."""
    path = root / "public" / relative
    before = path.stat()
    path.write_bytes(bytes(before.st_size))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    stamp = ":".join(map(str, stamp_of(path.stat())))
    db = sqlite3.connect(root / "state" / "layouts.sqlite")
    with db:
        (kept,) = db.execute("SELECT stamp FROM stamps WHERE path = ?", (relative,)).fetchone()
        mark = kept.split(":")[4:]  # the boot that left it unsynced, kept as it was
        db.execute(
            "UPDATE stamps SET stamp = ? WHERE path = ?", (":".join([stamp, *mark]), relative)
        )
    db.close()


def _temporary(root: Path) -> Iterator[Path]:
    return (p for p in (root / "public").rglob("*") if p.name.endswith(".tmp"))


def test_spliced_files_are_not_synced_and_their_layouts_name_the_boot(
    tmp_path: Path, boot_file: Path, synced: list[str]
) -> None:
    root = _site(tmp_path)
    _build(root)
    assert set(_marks(root).values()) == {None}  # written whole: synced
    assert any(name.endswith(".rss.xml.tmp") or "/.rss.xml." in name for name in synced)
    synced.clear()
    _edit(root, 5, "Edited once.")
    _build(root)
    marks = _marks(root)
    for relative in (*SPLICED, "tags/t2/rss.xml", "tags/t2/atom.xml"):
        assert marks[relative] == BOOT_A, relative
    # Not one of them synced; the files they replaced are gone, no temporary file left.
    assert [n for n in synced if "/public/" in n] == []
    assert list(_temporary(root)) == []
    # Where the boot cannot be told, they are synced as before, and trusted in any boot.
    boot_file.unlink()
    _edit(root, 5, "Edited twice.")
    _build(root)
    assert any("/public/.rss.xml." in name for name in synced), synced
    assert all(_marks(root)[relative] is None for relative in SPLICED)
    assert list(_temporary(root)) == []


@pytest.mark.parametrize("then", ["nothing", "another post edited"])
def test_after_a_reboot_bytes_lost_under_a_matching_stamp_are_written_again(
    tmp_path: Path, boot_file: Path, then: str
) -> None:
    root = _site(tmp_path)
    _build(root)
    _edit(root, 5, "Edited in the boot before.")  # post 5: tag t2
    _build(root)
    _edit(root, 4, "Edited too.")  # post 4: tag t1; t2's feeds are found unchanged
    _build(root)
    marks = _marks(root)
    # A file found unchanged keeps the mark of the boot that left it unsynced.
    assert marks["tags/t2/rss.xml"] == marks["rss.xml"] == BOOT_A
    lost = sorted(relative for relative, mark in marks.items() if mark is not None)
    assert {*SPLICED, "tags/t2/rss.xml", "tags/t1/rss.xml"} <= set(lost)
    for relative in lost:
        _lose(root, relative)
    boot_file.write_text(BOOT_B + "\n", encoding="ascii")
    if then == "another post edited":
        _edit(root, 3, "Edited after the reboot.")  # post 3: tag t0
    _build(root)
    assert tree_bytes(root / "public") == _cold(root, tmp_path / "cold")
    # Written whole in this boot: synced, trusted in any boot.
    assert all(_marks(root)[relative] is None for relative in lost)


def test_the_first_build_after_a_reboot_is_not_a_no_op(tmp_path: Path, boot_file: Path) -> None:
    root = _site(tmp_path)
    _build(root)
    _edit(root, 5, "Edited.")
    _build(root)
    assert "nothing changed" in _build(root)  # the outputs are as the record has them

    def fast() -> int | None:
        answered: list[int | None] = []
        run_entry(lambda: answered.append(fastpath.run(["build"])), ("build",), cwd=root)
        return answered[0]

    assert fast() == 0
    boot_file.write_text(BOOT_B + "\n", encoding="ascii")
    assert fast() is None
    assert "nothing changed" not in _build(root)
    assert fast() == 0  # and the build after it is one again


def test_a_file_found_holding_its_bytes_is_synced_before_its_stamp_is_kept(
    tmp_path: Path, boot_file: Path, synced: list[str]
) -> None:
    root = _site(tmp_path)
    _build(root)
    _edit(root, 5, "Edited.")
    _build(root)
    assert _marks(root)["rss.xml"] == BOOT_A
    # The layouts lost: the next build writes each file whole, finds it holds the bytes,
    # and keeps its stamp for later builds, in any boot: only once it is on the disk.
    (root / "state" / "layouts.sqlite").unlink()
    (root / "posts" / "post-000" / "extra.txt").write_text("not a post", encoding="utf-8")
    synced.clear()
    _build(root)
    for relative in SPLICED:
        assert str(root / "public" / relative) in synced, (relative, synced)
    assert all(mark is None for mark in _marks(root).values())


def test_a_layout_of_another_boot_is_not_used(tmp_path: Path, boot_file: Path) -> None:
    """The layer below the builds: the layout store itself."""
    from publisher.splicing import Layout, LayoutStore

    store = LayoutStore(tmp_path / "layouts.sqlite")
    layout = Layout(stamp=(3, 1, 2, 3), keys=("a",), lengths=(1,), literals=(b"<", b">"))
    store.set("unsynced.xml", layout)
    store.set("synced.xml", layout)
    store.commit(
        {"unsynced.xml": (3, 1, 2, 3), "synced.xml": (3, 1, 2, 3)}, {"unsynced.xml": BOOT_A}
    )
    assert store.get("unsynced.xml") == Layout(
        stamp=(3, 1, 2, 3), keys=("a",), lengths=(1,), literals=(b"<", b">"), boot=BOOT_A
    )
    boot_file.write_text(BOOT_B + "\n", encoding="ascii")
    assert store.get("unsynced.xml") is None
    assert store.get("synced.xml") == layout
    boot_file.unlink()  # no boot id: nothing unsynced is trusted
    assert store.get("unsynced.xml") is None
    assert store.get("synced.xml") == layout
    store.close()
