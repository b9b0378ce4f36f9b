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
import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from publisher import __version__

#: Seconds to wait for another build that holds a cache file before going on without it.
LOCK_TIMEOUT = 10.0


def code_version(files: Iterable[Path], packages: Iterable[str] = ()) -> bytes:
    """A digest of the code that makes a cache's rows: ``files`` (its source), the
    ``packages``' installed versions and publisher's own. Part of every key."""
    digest = hashlib.sha256(f"publisher {__version__}".encode())
    for path in files:
        digest.update(b"\0" + path.read_bytes())
    for package in packages:
        with contextlib.suppress(PackageNotFoundError):
            digest.update(f"\0{package} {version(package)}".encode())
    return digest.digest()


def open_cache(
    path: Path,
    schema: Sequence[str],
    layout: int,
    *,
    readonly: bool,
    timeout: float = LOCK_TIMEOUT,
) -> sqlite3.Connection | None:
    """The cache at ``path`` laid out by ``schema`` (``CREATE TABLE`` statements, version
    ``layout``), or None: no file in a dry run, a file another build holds, or one that
    cannot be made. A damaged file is deleted and made again (not in a dry run)."""
    if readonly and not path.exists():
        return None
    try:
        return _connect(path, schema, layout, readonly, timeout)
    except (sqlite3.Error, OSError) as error:
        busy = getattr(error, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
        if readonly or busy:
            return None
    discard(path)
    try:
        return _connect(path, schema, layout, readonly, timeout)
    except (sqlite3.Error, OSError):
        return None


def discard(path: Path) -> None:
    """Delete a damaged cache file and its journal, so the next open starts afresh."""
    for stale in (path, path.with_name(path.name + "-journal")):
        with contextlib.suppress(OSError):
            stale.unlink()


def _connect(
    path: Path, schema: Sequence[str], layout: int, readonly: bool, timeout: float
) -> sqlite3.Connection | None:
    if readonly:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=timeout)
    try:
        (found,) = db.execute("PRAGMA user_version").fetchone()
        if found != layout:
            if readonly:
                db.close()
                return None  # another layout: a dry run reads nothing from it
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = [row[0] for row in rows]
            with db:
                for table in tables:
                    if not table.startswith("sqlite_"):
                        db.execute(f'DROP TABLE IF EXISTS "{table}"')
                db.execute(f"PRAGMA user_version = {int(layout)}")
        if not readonly:
            with db:
                for statement in schema:
                    db.execute(statement)
    except BaseException:
        db.close()
        raise
    return db


def drop_unused(db: sqlite3.Connection, table: str, column: str, used: Iterable[str]) -> None:
    """Delete the rows of ``table`` whose ``column`` is not in ``used`` (the lifetime rule:
    inside the caller's transaction)."""
    keep = set(used)
    stale = [(k,) for (k,) in db.execute(f"SELECT {column} FROM {table}") if k not in keep]
    db.executemany(f"DELETE FROM {table} WHERE {column} = ?", stale)
