"""Write a file whole or not at all: the one atomic-write helper every stage uses.

A temporary file in the target's folder, flushed and fsynced, then renamed over the target:
a crash or a SIGKILL leaves either the old bytes or the new ones, never a mix, and at worst a
``.NAME.*.tmp`` file that the next build's manifest cleans up.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

#: ``copy_file_range`` refusals that mean "not between these files", not a disk error:
#: the bytes are then copied through memory.
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF}
_BLOCK = 1 << 20
#: The characters of a temporary file's eight (``sweep.py`` recognises the names).
_NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"
#: A new file only, never through a symlink (the descriptor is not inherited: PEP 446).
_NEW_FILE = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
#: Names tried before giving up, as ``tempfile.TMP_MAX``.
_TRIES = 10000


def write_atomic(
    path: Path,
    data: bytes,
    *,
    mode: int | None = None,
    before_rename: Callable[[], None] | None = None,
    sync: bool = True,
) -> os.stat_result:
    """Replace ``path`` with ``data`` atomically (creating its folder).

    ``mode`` sets the file's permission bits (:func:`temp_beside` creates 0600); ``before_rename`` runs
    after the data is durable and before it becomes visible (the output journal uses it).
    Returns the new file's stat, taken after the rename (which changes its ctime). Raises
    ``OSError``; callers turn it into their stage's error with the fix.
    """
    return write_atomic_with(
        path, lambda fd: write_all(fd, data), mode=mode, before_rename=before_rename, sync=sync
    )


def write_atomic_with(
    path: Path,
    fill: Callable[[int], None],
    *,
    mode: int | None = None,
    before_rename: Callable[[], None] | None = None,
    sync: bool = True,
    replaced: list[str] | None = None,
) -> os.stat_result:
    """:func:`write_atomic` with the bytes written by ``fill`` (given the temporary file's
    descriptor, positioned at 0), e.g. partly copied from another file by
    :func:`copy_range`. ``sync=False`` skips the fsync, for a file a crash may leave old
    or damaged because a damaged one only costs a full build (``inputs.json``), or whose
    later use is tied to this boot (a spliced output, ``publisher/boot.py``).

    ``replaced``: the new file is put in place by exchanging it with the old one
    (:func:`exchange`), and the temporary name, which then holds the old file, is
    appended for the caller to delete (off its critical path). Not synced, a file renamed
    over another is flushed by ext4 inside the rename (``auto_da_alloc``: 50 to 60 ms for
    70 MB, and then every fsync on the file system waits for it); exchanged, it is written
    back later like any file not synced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = temp_beside(path)
    try:
        try:
            fill(fd)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        if mode is not None:
            os.chmod(temp, mode)
        if before_rename is not None:
            before_rename()
        if replaced is not None and exchange(temp, path):
            replaced.append(temp)
        else:
            os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return os.lstat(path)


#: ``renameat2``'s flag that swaps the two names (linux/fs.h), and ``AT_FDCWD``.
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(temp: str, path: Path) -> bool:
    """Swap the files at ``temp`` and ``path`` in one step (Linux ``renameat2`` with
    ``RENAME_EXCHANGE``): ``path`` is never missing, as with ``os.replace``. False, with
    nothing done, where that cannot be done (no file at ``path``, another system, a file
    system without it): the caller renames."""
    call = _renameat2()
    if call is None:
        return False
    done: int = call(_AT_FDCWD, os.fsencode(temp), _AT_FDCWD, os.fsencode(path), _RENAME_EXCHANGE)
    return done == 0


def _renameat2() -> Any:
    """libc's ``renameat2``, or None where there is none (looked up once)."""
    return libc_function("renameat2", ("c_int", "c_char_p", "c_int", "c_char_p", "c_uint"))


_LIBC: dict[str, Any] = {}


def libc_function(name: str, argtypes: tuple[str, ...]) -> Any:
    """The C library's function ``name`` (Linux only) taking ``argtypes`` (ctypes type
    names) and returning an int, or None where there is none; looked up once a process
    (through cffi's backend, not ctypes: ``publisher/cfunctions.py``)."""
    if name not in _LIBC:
        found = None
        if sys.platform == "linux":
            from publisher.cfunctions import c_function

            found = c_function(None, name, argtypes)
        _LIBC[name] = found
    return _LIBC[name]


def temp_beside(path: Path) -> tuple[int, str]:
    """A new empty file (mode 0600) beside ``path``, named ``.NAME.xxxxxxxx.tmp``: its
    descriptor and absolute path, as ``tempfile.mkstemp(dir=path.parent,
    prefix=f".{path.name}.", suffix=".tmp")`` gives them. Not through tempfile, which
    imports shutil, random, bz2 and lzma: about 3.5 ms of CPU in every build (issue 12)."""
    folder = os.path.abspath(path.parent)
    for _ in range(_TRIES):
        letters = "".join(_NAME_CHARACTERS[byte % 37] for byte in os.urandom(8))
        temp = os.path.join(folder, f".{path.name}.{letters}.tmp")
        try:
            return os.open(temp, _NEW_FILE, 0o600), temp
        except FileExistsError:
            continue  # another file has the name: draw another
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", folder)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` at ``fd``'s position (``os.write`` may write less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def copy_range(source: int, target: int, offset: int, length: int) -> None:
    """Append ``length`` bytes of ``source`` from ``offset`` at ``target``'s position: by the
    kernel (``copy_file_range``, no copy through Python) where the file system allows it,
    else through memory. Raises ``OSError``, and ``EOFError`` when ``source`` is shorter."""
    kernel = hasattr(os, "copy_file_range")
    while length > 0:
        if kernel:
            try:
                done = os.copy_file_range(source, target, length, offset)
            except OSError as exc:
                if exc.errno not in _NO_KERNEL_COPY:
                    raise
                kernel = False
                continue
            if done == 0:  # the end of the file, or a file system that copies nothing
                kernel = False
                continue
        else:
            block = os.pread(source, min(length, _BLOCK), offset)
            write_all(target, block)
            done = len(block)
            if done == 0:
                raise EOFError(f"{length} bytes short at offset {offset}")
        offset += done
        length -= done
