"""The one cache policy of the state folder (issue 15).

Three stages keep work between builds: the posts (``cache.sqlite``: each post file
parsed), the feeds (``feeds.sqlite``: each post's rendered items, each feed's head) and
the cards (``cards.sqlite``: each encoded card). All three follow the rules below, and
open their file through :func:`open_cache`:

- **format**: a SQLite file in the state folder, in the default rollback-journal mode (a
  dry run opens it read-only, ``mode=ro``, and so creates nothing, not even a journal);
  its layout version is ``PRAGMA user_version``, and a file of another layout is emptied
  and laid out again;
- **key**: a row is used only when its key is the one this build computes for it: a hash
  of every input of the row and of the code version (:func:`code_version`: the source of
  the modules that make the row, and the publisher and library versions), so no row
  outlives a change of what it was made from, or of how;
- **lifetime**: a real build deletes, when it commits, every row it did not ask for;
- **damage**: a file that is not a readable cache is deleted and rebuilt, never fatal; one
  another build holds (locked) is left alone and this build goes on without it.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import sys
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from publisher import __version__
from publisher.digests import sha256

#: Seconds to wait for another build that holds a cache file before going on without it.
LOCK_TIMEOUT = 10.0


def code_version(files: Iterable[Path], packages: Iterable[str] = ()) -> bytes:
    """A digest of the code that makes a cache's rows: ``files`` (its source), the
    ``packages``' installed versions and publisher's own. Part of every key."""
    parts = [f"publisher {__version__}".encode()]
    for path in files:
        parts += (b"\0", path.read_bytes())
    for package in packages:
        found = installed_version(package)
        if found is not None:
            parts.append(f"\0{package} {found}".encode())
    return sha256(*parts).digest()


def installed_version(name: str, path: Sequence[str] | None = None) -> str | None:
    """``importlib.metadata.version(name)``, or None where that raises
    PackageNotFoundError: the first ``*.dist-info`` or ``*.egg-info`` folder of that
    (normalized) name along ``sys.path``, and the ``Version`` its metadata gives.

    Not importlib.metadata itself: importing it (email, zipfile, csv...) cost a one-post
    build about 35 ms of CPU, a tenth of it (tests/test_statecache_versions.py holds the
    two equal on every library a cache key names)."""
    wanted = _normalized(name)
    for entry in sys.path if path is None else path:
        children = _listing(entry or ".")
        for child in children:
            low = child.lower()
            if not low.endswith((".dist-info", ".egg-info")):
                continue
            if _normalized(low.rpartition(".")[0].partition("-")[0]) == wanted:
                found = _metadata_version(os.path.join(entry or ".", child))
                if found is not None:
                    return found
    return None


def _listing(folder: str) -> tuple[str, ...]:
    """The entries of a folder of sys.path, listed again only when its mtime moved (a
    cache key names several libraries: one listing of site-packages, not one each)."""
    try:
        mtime = os.stat(folder).st_mtime_ns
        known = _LISTINGS.get(os.path.abspath(folder))
        if known is not None and known[0] == mtime:
            return known[1]
        found = tuple(os.listdir(folder))
    except OSError:
        return ()  # a zip, a folder gone: importlib.metadata finds nothing there either
    _LISTINGS[os.path.abspath(folder)] = (mtime, found)
    return found


#: Folder -> (its mtime, its entries).
_LISTINGS: dict[str, tuple[int, tuple[str, ...]]] = {}


def _normalized(name: str) -> str:
    """importlib.metadata's ``Prepared.normalize`` (PEP 503, with underscores)."""
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _metadata_version(folder: str) -> str | None:
    """The ``Version:`` header of a distribution's METADATA (PKG-INFO for an egg)."""
    for metadata in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(folder, metadata), encoding="utf-8") as handle:
                for line in handle:
                    if not line.strip():
                        break  # the headers end at the first empty line
                    if line.startswith("Version:"):
                        return line[len("Version:") :].strip()
        except OSError:
            continue
        return None
    return None


#: What opening a cache file raises when it is damaged: SQLite's message about a damaged
#: schema quotes its bytes, and one that is not UTF-8 reaches Python as UnicodeDecodeError.
_DAMAGED = (sqlite3.Error, OSError, UnicodeDecodeError)


def open_cache(
    path: Path,
    schema: Sequence[str],
    layout: int,
    threads: bool = False,
    *,
    readonly: bool,
    timeout: float = LOCK_TIMEOUT,
) -> sqlite3.Connection | None:
    """The cache at ``path`` laid out by ``schema`` (``CREATE TABLE`` statements, version
    ``layout``), or None: no file in a dry run, a file another build holds, or one that
    cannot be made. A damaged file is deleted and made again (not in a dry run).
    ``threads``: the connection may be used by another thread (one at a time)."""
    if readonly and not path.exists():
        return None
    try:
        return _connect(path, schema, layout, readonly, (timeout, threads))
    except _DAMAGED as error:
        busy = getattr(error, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
        if readonly or busy:
            return None
    discard(path)
    try:
        return _connect(path, schema, layout, readonly, (timeout, threads))
    except _DAMAGED:
        return None


def discard(path: Path) -> None:
    """Delete a damaged cache file and its journal, so the next open starts afresh."""
    for stale in (path, path.with_name(path.name + "-journal")):
        with contextlib.suppress(OSError):
            stale.unlink()


def _connect(
    path: Path, schema: Sequence[str], layout: int, readonly: bool, how: tuple[float, bool]
) -> sqlite3.Connection | None:
    timeout, threads = how
    if readonly:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=not threads)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not path.exists()
        db = sqlite3.connect(path, timeout=timeout, check_same_thread=not threads)
    try:
        (found,) = db.execute("PRAGMA user_version").fetchone()
        if found != layout:
            if readonly:
                db.close()
                return None  # another layout: a dry run reads nothing from it
            _lay_out(db, schema, layout, synced=not fresh)
        elif not readonly:
            for statement in schema:  # IF NOT EXISTS: nothing written when laid out
                db.execute(statement)
    except BaseException:
        db.close()
        raise
    return db


def _lay_out(
    db: sqlite3.Connection, schema: Sequence[str], layout: int, *, synced: bool = True
) -> None:
    """Empty the file and lay it out anew, in one transaction: the module's sqlite3 runs
    each ``DROP``, ``CREATE`` and ``PRAGMA`` in a transaction of its own, each synced (a
    new file's layout was four synced commits, 4 to 13 ms, one of them before a cold
    build's read workers start: issue 12).

    Not ``synced`` (a file this open created): that transaction without a sync, 2 to 12
    ms of a cold build's main process waiting on the disk (layouts.sqlite and site.sqlite
    are laid out between its read and its writes). A power loss can then leave the new
    file empty, torn or with a hot journal that empties it: a damaged file is deleted and
    made again, an empty one laid out again, and nothing was in it yet. The connection's
    next synced commit syncs the file whole."""
    previous = None
    if not synced:
        (previous,) = db.execute("PRAGMA synchronous").fetchone()
        db.execute("PRAGMA synchronous = OFF")
    db.execute("BEGIN IMMEDIATE")
    try:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for table in [row[0] for row in rows]:
            if not table.startswith("sqlite_"):
                db.execute(f'DROP TABLE IF EXISTS "{table}"')
        db.execute(f"PRAGMA user_version = {int(layout)}")
        for statement in schema:
            db.execute(statement)
    except BaseException:
        db.rollback()
        raise
    else:
        db.commit()
    finally:
        if previous is not None:
            with contextlib.suppress(sqlite3.Error):
                db.execute(f"PRAGMA synchronous = {int(previous)}")


def drop_unused(db: sqlite3.Connection, table: str, column: str, used: Iterable[str]) -> None:
    """Delete the rows of ``table`` whose ``column`` is not in ``used`` (the lifetime rule:
    inside the caller's transaction)."""
    keep = set(used)
    stale = [(k,) for (k,) in db.execute(f"SELECT {column} FROM {table}") if k not in keep]
    db.executemany(f"DELETE FROM {table} WHERE {column} = ?", stale)


def key_crc(*key: str) -> int:
    """Where the CRC-32s of a row looked up by ``key`` start: its parts, each followed by a
    NUL. A row served under another key (a damaged index or rowid makes SQLite answer one
    key with another's row, its bytes and CRCs intact) then fails them: a miss."""
    return zlib.crc32("".join(f"{part}\0" for part in key).encode("utf-8", "surrogatepass"))
