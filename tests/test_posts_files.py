"""``read_regular`` stops one byte past the cap (what the size check needs), and
``media._head`` reads an image's first bytes without a buffered file object.

A post is read in pieces sized by its stat, not by the cap (a 512 KB buffer mapped and
shrunk for every 5 KB post was about 20 us a post), and to its end whatever the stat said:
a file that grew or shrank since is read as it is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from publisher.feeds import media
from publisher.posts.files import read_regular


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 4095, 4096, 4097, 100_000])
@pytest.mark.parametrize("cap", [0, 64, 4096, 50_000])
def test_read_regular_is_a_plain_read_stopped_one_byte_past_the_cap(
    tmp_path: Path, size: int, cap: int
) -> None:
    path = tmp_path / "index.md"
    data = os.urandom(size)
    path.write_bytes(data)
    assert read_regular(path, cap) == data[: cap + 1]
    assert media._head(str(path)) == data[: media.HEAD_BYTES]


@pytest.mark.parametrize("said", [0, 1, 10, 99, 100, 101, 5000])
@pytest.mark.parametrize("cap", [50, 100, 4096])
def test_read_regular_reads_to_the_end_whatever_the_stat_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, said: int, cap: int
) -> None:
    path = tmp_path / "index.md"
    data = os.urandom(100)
    path.write_bytes(data)
    fstat = os.fstat

    def stale(fd: int) -> os.stat_result:  # as if the file changed after the stat
        st = fstat(fd)
        return os.stat_result((*st[:6], said, *st[7:]))

    monkeypatch.setattr(os, "fstat", stale)
    assert read_regular(path, cap) == data[: cap + 1]


def test_read_regular_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    assert read_regular(fifo, 100) is None  # and does not wait for a writer
    with pytest.raises(OSError):
        read_regular(tmp_path / "missing.md", 100)


def test_an_image_that_is_a_folder_or_missing_has_no_facts(tmp_path: Path) -> None:
    (tmp_path / "cover.png").mkdir()
    assert media.image_facts(tmp_path / "cover.png") is None
    assert media.image_facts(tmp_path / "gone.png") is None
    png = tmp_path / "real.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(58))
    assert media.image_facts(png) == media.ImageFacts(mime="image/png", length=66)
