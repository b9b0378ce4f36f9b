"""An output file's bytes staged beside it: compared with the file there and, when they
differ, written to a temporary file in its folder and synced, not renamed.

What :meth:`~publisher.output.OutputWriter.write_bytes` does before its rename, done by
another process (a read worker's feed file, ``feeds/parallel.py``) or a thread (a cold
build's ``posts.json``, ``index.py``) while the build goes on; the writer journals the
file and renames it into place (:meth:`~publisher.output.OutputWriter.adopt`), so the
output folder, its manifest and the report are those of a build that wrote it itself. A
build killed in between leaves the temporary file, which the next build's sweep deletes
(``sweep.py``: named as ``atomic.temp_beside`` names it, older than that build).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from publisher.atomic import libc_function, temp_beside, write_all
from publisher.digests import sha256
from publisher.output import Made
from publisher.stamps import compare_file

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any


def temporary(target: Path) -> str:
    """An empty temporary file beside ``target`` (its folder made if need be), readable
    by all as a published file is (``temp_beside`` makes it 0600)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = temp_beside(target)
    os.close(fd)
    try:
        os.chmod(temp, 0o644)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return temp


def stage(target: Path, data: bytes, lengths: Sequence[int] | None = None) -> Made:
    """``data`` for ``target``: unchanged (nothing written), or in a synced temporary file
    beside it. ``lengths``: the pieces it is laid out in, if its maker knows them."""
    laid_out = tuple(lengths) if lengths is not None else None
    digest = sha256(data).hexdigest()
    status, found = compare_file(target, data)
    if status == "unchanged":
        return Made(
            status=status, sha256=digest, size=len(data), temp=None, found=found, lengths=laid_out
        )
    temp = temporary(target)
    try:
        fd = os.open(temp, os.O_WRONLY)
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Made(
        status=status, sha256=digest, size=len(data), temp=temp, found=None, lengths=laid_out
    )


def laid_out(data: bytes, literals: Sequence[bytes] | None, lengths: Sequence[int]) -> bool:
    """Whether ``data`` is ``literals`` around pieces of ``lengths`` (each literal where
    the layout puts it), so a later build may splice it (``splicing.write_whole``)."""
    if literals is None or len(literals) != len(lengths) + 1:
        return False
    at = 0
    for index, literal in enumerate(literals):
        if data[at : at + len(literal)] != literal:
            return False
        at += len(literal) + (lengths[index] if index < len(lengths) else 0)
    return at == len(data)


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Have the kernel start writing ``length`` bytes of ``fd`` from ``offset`` to the
    disk now, without waiting (Linux ``sync_file_range``): a file written in batches then
    reaches its ``fsync`` with little left to write (a 70 MB feed file's sync took 30 to
    50 ms, with this 1 to 5). Advice only: the caller still syncs the file."""
    call = _sync_file_range()
    if call is not None:
        call(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


#: ``sync_file_range``'s flag: start writing out the dirty pages of the range (linux/fs.h).
_SYNC_FILE_RANGE_WRITE = 2


def _sync_file_range() -> Any:
    """libc's ``sync_file_range``, or None where there is none (looked up once)."""
    return libc_function("sync_file_range", ("c_int", "c_int64", "c_int64", "c_uint"))
