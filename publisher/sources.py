"""The code part of a cache's key (:func:`publisher.statecache.code_version`), remembered
between builds by the stat of the code it hashes.

The post cache and the feed cache key every row by a digest of the source that makes it:
41 and 21 files, 350 KB read and hashed, and the versions of the libraries they name read
from their metadata, in every build that imports them (about 6 ms of CPU of a one-edit
build at 1,000 posts, issue 12). The digest changes only when those files do, so a build
keeps it in the state folder (``code-digests.json``) beside the stat of everything it was
made from, and the next build, finding every stat the same, takes it from there. Each name
keeps its latest few (:data:`KEPT`): a site built both by the ``publish`` script and by
``python -m publisher`` has one for each.

What the stat covers, and so what makes the digest be made again:

- every folder the code's files are listed from (a file added, removed or renamed in it
  changes the folder's mtime) and every file hashed (inode, size, mtime, ctime: a write
  moves ctime, which no tool sets back);
- every entry of ``sys.path`` and its stat (a package installed, upgraded or removed
  changes the folder it lands in), publisher's version and the interpreter's;
- and nothing is remembered while one of those stats is under two seconds old (a file
  written twice within the kernel's clock tick keeps its stat: :data:`SETTLED_NS`).

A record that is not the one written (a torn write, a byte changed) fails its check and
is no record. Where no state folder is named (:func:`keep_in`: a dry run, another
command), nothing is read or written and the digest is made as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

try:
    from _blake2 import blake2b  # hashlib's own, without OpenSSL (see snapshot.py)
except ImportError:  # pragma: no cover - an interpreter without CPython's module
    from hashlib import blake2b

from publisher import __version__, statecache
from publisher.atomic import write_atomic

MEMO_FILE = "code-digests.json"
#: A stat this recent may not be the last one of its file: the kernel stamps a write with
#: a coarse clock (a few ms), so a file written again at once keeps its times and size
#: ("racy git"). A digest made from so new a stat is used, not remembered.
SETTLED_NS = 2_000_000_000
#: 2: each name keeps up to :data:`KEPT` digests, the latest first (1: one).
_FORMAT = 2
#: Digests kept for each name: one for each way the site is built, the ``publish`` script
#: and ``python -m publisher`` (their ``sys.path`` differs, and it is part of the key),
#: say. With one, builds run both ways made the digests again each time, in turn.
KEPT = 4

#: The state folder whose memo this process reads and writes (None: neither).
_FOLDER: list[Path | None] = [None]


def keep_in(folder: Path | None) -> None:
    """Remember code digests in ``folder`` (a build's state folder), or nowhere (None)."""
    _FOLDER[0] = folder


def python_files(folder: Path, *, recursive: bool) -> tuple[list[str], list[str]]:
    """(the ``.py`` files in ``folder``, below it too when ``recursive``, sorted; every
    folder listed for them, ``__pycache__`` included: a stat of each says whether the list
    can have changed)."""
    files: list[str] = []
    folders = [os.fspath(folder)]
    index = 0
    while index < len(folders):
        with os.scandir(folders[index]) as listing:
            for entry in listing:
                if entry.name.endswith(".py") and entry.is_file():
                    files.append(entry.path)
                elif recursive and entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
        index += 1
    return sorted(files), folders


def code_digest(
    name: str,
    folder: Path,
    packages: Sequence[str],
    *,
    recursive: bool = False,
    files: Sequence[Path] = (),
) -> bytes:
    """:func:`~publisher.statecache.code_version` of the Python files of ``folder`` (see
    :func:`python_files`) and ``files``, and of ``packages``: taken from the memo when
    nothing it depends on changed since it was made, else made and remembered. ``name``
    tells the digests apart in the memo."""
    listed, folders = python_files(folder, recursive=recursive)
    hashed = [*listed, *map(os.fspath, files)]
    key, newest = _stat_key(name, [*folders, *hashed], packages)
    memo = _read()
    known = memo.get(name, [])
    for kept_key, kept_value in known:
        if kept_key == key:
            return bytes.fromhex(kept_value)
    value = statecache.code_version([Path(path) for path in hashed], packages)
    if newest < time.time_ns() - SETTLED_NS:
        memo[name] = [[key, value.hex()], *known][:KEPT]
        _write(memo)
    return value


def _stat_key(name: str, paths: Sequence[str], packages: Sequence[str]) -> tuple[str, int]:
    """(the digest of every stat the memo depends on, the newest mtime or ctime in it)."""
    head = f"{name}\0{__version__}\0{sys.version}\0{packages}"
    digest = blake2b(head.encode(), digest_size=20)
    newest = 0
    for path in [*sys.path, "\0", *paths]:
        try:
            st = os.stat(path or ".")
            known = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
        except (OSError, ValueError):
            known = None
        digest.update(f"\0{path}\0{known}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest(), newest


def _check(entries: object) -> str:
    text = json.dumps(entries, sort_keys=True)
    return blake2b(f"{_FORMAT}\0{text}".encode(), digest_size=16).hexdigest()


#: Name -> its kept (key, digest in hex) pairs, the latest first.
_Memo = dict[str, list[list[str]]]


def _read() -> _Memo:
    folder = _FOLDER[0]
    if folder is None:
        return {}
    try:
        data = json.loads((folder / MEMO_FILE).read_bytes())
        entries = data["entries"]
        if data["check"] == _check(entries) and all(
            isinstance(kept, list) and all(_pair(pair) for pair in kept)
            for kept in entries.values()
        ):
            return dict(entries)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    return {}


def _pair(pair: object) -> bool:
    """Whether ``pair`` is a memo's [key, digest in hex] (raises ValueError on bad hex)."""
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
        return False
    bytes.fromhex(pair[1])
    return True


def _write(entries: _Memo) -> None:
    """Best effort, not synced: a memo lost or torn costs one digest made again."""
    folder = _FOLDER[0]
    if folder is None or not folder.is_dir():
        return  # a cold build's first import: the next build keeps it
    text = json.dumps({"check": _check(entries), "entries": entries}, sort_keys=True)
    with contextlib.suppress(OSError):
        write_atomic(folder / MEMO_FILE, text.encode(), sync=False)
