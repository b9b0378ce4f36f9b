"""The output writer keeps a file unread when its stamp says it is the one a build wrote
(issue 12), and every other file in its place is compared (and written) as before."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from publisher import output
from publisher.output import OutputWriter, Stamp

DATA = b"card bytes " * 100
SHA = hashlib.sha256(DATA).hexdigest()


def written(root: Path, relative: str = "og/a.jpg") -> tuple[Stamp, str]:
    """Write ``DATA`` with a first writer; what the next build is told about the file."""
    first = OutputWriter(root)
    first.write_bytes(relative, DATA)
    return first.stamps[relative], first.hashes[relative]


def same_times(path: Path, before: os.stat_result) -> None:
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def edit_in_place(path: Path) -> None:
    """A byte changed, size and mtime kept: an editor or `touch -r` afterwards."""
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    same_times(path, before)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:10])


def delete(path: Path) -> None:
    path.unlink()


def rename_over(path: Path, data: bytes | None = None) -> None:
    """Another file renamed into its place, with its size and mtime (a sync tool)."""
    before = path.stat()
    other = path.with_name("other.tmp")
    if data is None:
        changed = bytearray(path.read_bytes())
        changed[0] ^= 0xFF
        data = bytes(changed)
    other.write_bytes(data)
    same_times(other, before)
    os.replace(other, path)


def touch_r(path: Path) -> None:
    """``touch -r reference``: only the times move (here to a reference's), bytes kept."""
    reference = path.with_name("reference")
    reference.write_bytes(b"")
    os.utime(reference, ns=(1_000_000_000, 1_000_000_000))
    shown = reference.stat()
    os.utime(path, ns=(shown.st_atime_ns, shown.st_mtime_ns))


def symlink_to_a_copy(path: Path) -> None:
    copy = path.with_name("copy.jpg")
    copy.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(copy.name)


TAMPERINGS: dict[str, Callable[[Path], None]] = {
    "edited keeping size and mtime": edit_in_place,
    "truncated": truncate,
    "deleted": delete,
    "renamed over keeping size and mtime": rename_over,
    "touch -r": touch_r,
    "a symlink to a copy": symlink_to_a_copy,
}


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file the writer reads back to compare it with new bytes."""
    seen: list[Path] = []
    real = output.compare_file

    def counting(path: Path, data: bytes) -> tuple[output.Status, Stamp | None]:
        seen.append(path)
        return real(path, data)

    monkeypatch.setattr(output, "compare_file", counting)
    return seen


def test_a_file_still_as_written_is_kept_without_a_read(tmp_path: Path, reads: list[Path]) -> None:
    previous = written(tmp_path)
    reads.clear()
    writer = OutputWriter(tmp_path)
    kept = writer.keep("og/a.jpg", SHA, size=len(DATA), previous=previous)
    assert kept is not None and kept.status == "unchanged" and kept.bytes == len(DATA)
    assert reads == []
    # What the sweep and a later build are told is what a read would have told them.
    assert writer.hashes == {"og/a.jpg": SHA}
    assert writer.stamps == {"og/a.jpg": previous[0]}
    assert writer.writes == [kept]


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=list(TAMPERINGS))
def test_a_file_changed_since_it_was_written_is_not_kept(tmp_path: Path, tampering: str) -> None:
    previous = written(tmp_path)
    path = tmp_path / "og" / "a.jpg"
    TAMPERINGS[tampering](path)
    writer = OutputWriter(tmp_path)
    assert not writer.holds("og/a.jpg", SHA, size=len(DATA), previous=previous)
    assert writer.keep("og/a.jpg", SHA, size=len(DATA), previous=previous) is None
    assert writer.writes == [] and writer.hashes == {} and writer.stamps == {}
    # The caller then writes the bytes (compared first, as always): the build's bytes.
    writer.write_bytes("og/a.jpg", DATA)
    assert path.read_bytes() == DATA


@pytest.mark.parametrize(
    ("sha256", "size"),
    [(hashlib.sha256(b"other").hexdigest(), len(DATA)), (SHA, len(DATA) + 1)],
    ids=["other bytes", "another size"],
)
def test_other_bytes_are_never_kept(tmp_path: Path, sha256: str, size: int) -> None:
    previous = written(tmp_path)
    assert OutputWriter(tmp_path).keep("og/a.jpg", sha256, size=size, previous=previous) is None


def test_nothing_known_is_nothing_kept(tmp_path: Path) -> None:
    written(tmp_path)
    assert OutputWriter(tmp_path).keep("og/a.jpg", SHA, size=len(DATA), previous=None) is None


def test_a_file_found_unchanged_by_a_read_gives_the_stamp_a_keep_trusts(
    tmp_path: Path, reads: list[Path]
) -> None:
    # A build that found the file the same by reading it (a cache restored in CI) notes its
    # stamp; the build after it keeps the file unread.
    written(tmp_path)
    second = OutputWriter(tmp_path)
    assert second.write_bytes("og/a.jpg", DATA).status == "unchanged"
    previous = (second.stamps["og/a.jpg"], second.hashes["og/a.jpg"])
    reads.clear()
    assert OutputWriter(tmp_path).keep("og/a.jpg", SHA, size=len(DATA), previous=previous)
    assert reads == []


def test_a_symlinked_file_found_unchanged_gets_no_stamp(tmp_path: Path) -> None:
    # The stamp noted must be the file's own: a link's lstat is not its target's.
    written(tmp_path)
    symlink_to_a_copy(tmp_path / "og" / "a.jpg")
    writer = OutputWriter(tmp_path)
    assert writer.write_bytes("og/a.jpg", DATA).status == "unchanged"
    assert "og/a.jpg" not in writer.stamps


def test_a_fifo_in_a_files_place_does_not_hang_the_writer(tmp_path: Path) -> None:
    (tmp_path / "og").mkdir()
    os.mkfifo(tmp_path / "og" / "a.jpg")
    writer = OutputWriter(tmp_path)
    assert writer.write_bytes("og/a.jpg", DATA).status == "created"
    assert (tmp_path / "og" / "a.jpg").read_bytes() == DATA


def test_folders_are_resolved_once_per_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolved: list[Path] = []
    real = Path.resolve

    def counting(self: Path, strict: bool = False) -> Path:
        resolved.append(self)
        return real(self, strict=strict)

    monkeypatch.setattr(Path, "resolve", counting)
    writer = OutputWriter(tmp_path)
    for i in range(20):
        writer.write_bytes(f"og/{i}.jpg", DATA)
        writer.write_bytes(f"og/{i}.html", b"<meta>")
    # The root once, the og/ folder once: not two resolves a file.
    assert len(resolved) == 2


def test_a_link_out_is_refused_for_a_keep_as_for_a_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.jpg").write_bytes(DATA)
    (out / "og").symlink_to(elsewhere)
    here = elsewhere / "a.jpg"
    info = here.lstat()
    previous = ((info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns), SHA)
    with pytest.raises(output.OutputError, match="resolves outside"):
        OutputWriter(out).keep("og/a.jpg", SHA, size=len(DATA), previous=previous)
