"""The ledger in a SQLite file in ``state.folder``, and the run lock beside it.

Every change is its own committed transaction (``BEGIN IMMEDIATE``: the file is locked
while it lasts). The rollback journal (not WAL) keeps a read-only open, as dry runs use,
from creating files. A ledger file is only ever created whole, so an empty or cut-short
one is damage, never a first run: :func:`check_file` says so before anything is read.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from publisher.announce.ledger.model import LockHeld
from publisher.announce.ledger.sql import META, SCHEMA, SQLITE, SQLLedger
from publisher.atomic import write_atomic
from publisher.errors import StateError

#: Seconds a ledger open waits for another process's write to finish before it gives up.
BUSY_TIMEOUT = 30.0
#: Marks a SQLite file as a publisher ledger (``PRAGMA application_id``; "pubL").
APPLICATION_ID = 0x7075624C
_MAGIC = b"SQLite format 3\x00"
_TABLES = ";\n".join(SQLITE.sql(statement) for statement in SCHEMA) + ";"


def _damaged(path: Path, problem: str) -> StateError:
    return StateError(
        f"{path}: the announcement ledger is damaged ({problem}); nothing was read or sent. "
        "Put back a good copy (a backup, or `publish automation restore` from the state "
        "branch). Only if there is none, move it aside: the next run then records a new "
        "baseline (published posts are not announced; failed and in-doubt rows are lost)"
    )


def check_file(path: Path) -> None:
    """Raise StateError unless ``path`` looks like a whole SQLite file.

    The ledger is only ever created whole (see :func:`_create`), so an empty file, a file
    that is not SQLite or one shorter than its header says is damage, never a first run:
    treating it as new would record a new baseline and lose failed and in-doubt rows.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise StateError(
            f"{path}: cannot read the announcement ledger ({exc.strerror}); check its permissions"
        ) from None
    if size == 0:
        raise _damaged(path, "the file is empty (0 bytes)")
    if not header.startswith(_MAGIC):
        raise _damaged(path, "the file is not a SQLite database")
    if len(header) < 100:
        raise _damaged(path, f"the file is cut short: {size} bytes, less than its header")
    journal = path.with_name(path.name + "-journal")
    if journal.exists() and journal.stat().st_size > 0:
        return  # an interrupted write: SQLite rolls it back on open; the size may differ now
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size_is_valid = header[24:28] == header[92:96] and pages > 0
    if size_is_valid and size < page_size * pages:
        raise _damaged(
            path, f"the file is cut short: {size} bytes of the {page_size * pages} it should have"
        )


def _check_contents(db: sqlite3.Connection, path: Path) -> None:
    """Every page readable, and the tables of a ledger present."""
    result = [str(row[0]) for row in db.execute("PRAGMA quick_check")]
    if result != ["ok"]:
        raise _damaged(path, "; ".join(result[:3]))
    tables = {str(row[0]) for row in db.execute("SELECT name FROM sqlite_master")}
    if "announcements" not in tables:
        raise StateError(
            f"{path}: this SQLite file is not an announcement ledger (it has no "
            "announcements table); point state.folder elsewhere, or move the file aside if "
            "it does not belong there"
        )


def _new_ledger() -> bytes:
    """The bytes of a new, empty ledger file (made in memory)."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.executescript(_TABLES)
        db.execute(SQLITE.sql(META))
        return db.serialize()
    finally:
        db.close()


def _create(path: Path) -> None:
    """Write a new, empty ledger whole (never half made: a short ledger can only be damage).

    A ledger another process created meanwhile is kept: the new one is not renamed over it.
    """

    def still_absent() -> None:
        if path.exists():
            raise FileExistsError(path)

    try:
        # 0644, as SQLite itself would have made it, not mkstemp's 0600.
        write_atomic(path, _new_ledger(), mode=0o644, before_rename=still_absent)
    except FileExistsError:
        pass
    except OSError as exc:
        raise StateError(
            f"{path}: cannot create the announcement ledger ({exc.strerror}); "
            "check that state.folder is writable"
        ) from None


def _database_error(path: Path, exc: sqlite3.DatabaseError) -> StateError:
    """SQLite's error as one line: a lock held elsewhere is not damage."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return LockHeld(
            f"{path}: another run holds the lock on the ledger; wait for it to finish and run "
            "again (nothing was changed; the ledger itself is fine)"
        )
    if "readonly" in text or "read-only" in text:
        return StateError(
            f"{path}: the ledger cannot be written ({text}); check the permissions of the file "
            "and of state.folder"
        )
    return _damaged(path, text)


class Ledger(SQLLedger):
    """The SQLite ledger. Thread-safe: one connection, one lock, one transaction per change."""

    dialect = SQLITE

    def __init__(
        self, path: Path, *, readonly: bool = False, busy_timeout: float | None = None
    ) -> None:
        self.path = path
        self.location = str(path)
        self.readonly = readonly
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._copy: tempfile.TemporaryDirectory[str] | None = None
        timeout = BUSY_TIMEOUT if busy_timeout is None else busy_timeout
        if not path.exists():
            if readonly:
                return  # a first run: nothing recorded yet, and a dry run creates nothing
            _create(path)
        check_file(path)
        journal = path.with_name(path.name + "-journal")
        if readonly and journal.exists() and journal.stat().st_size > 0:
            # A run died mid-write. Only a writer can roll that back, and a dry run writes
            # nothing: read a rolled-back copy instead of the ledger itself.
            self._copy = tempfile.TemporaryDirectory(prefix="publisher-ledger-")
            copy = Path(self._copy.name) / path.name
            shutil.copyfile(path, copy)
            shutil.copyfile(journal, copy.with_name(journal.name))
            path, readonly = copy, False
        self._connect(path, readonly=readonly, timeout=timeout)

    def _connect(self, path: Path, *, readonly: bool, timeout: float) -> None:
        try:
            uri = f"{path.resolve().as_uri()}{'?mode=ro' if readonly else ''}"
            self._db = sqlite3.connect(
                uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            _check_contents(self._db, path)
            if not readonly:
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_TABLES)  # tables a newer version added
        except sqlite3.DatabaseError as exc:
            self.close()
            raise _database_error(path, exc) from None
        except StateError:
            self.close()
            raise

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._copy is not None:
            self._copy.cleanup()
            self._copy = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        self._writable()
        if self._db is None:
            raise StateError(f"{self.path}: the ledger is open read-only (dry run)")
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise _database_error(self.path, exc) from None
            try:
                yield db.cursor()
            except sqlite3.DatabaseError as exc:
                db.execute("ROLLBACK")
                raise _database_error(self.path, exc) from None
            except BaseException:
                db.execute("ROLLBACK")
                raise
            try:
                db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                raise _database_error(self.path, exc) from None

    def _read(self, sql: str, params: Iterable[object] = ()) -> list[tuple[Any, ...]]:
        if self._db is None:
            return []
        with self._lock:
            try:
                return list(self._db.execute(sql, tuple(params)))
            except sqlite3.DatabaseError as exc:
                raise _database_error(self.path, exc) from None


class RunLock:
    """An exclusive lock file beside the ledger, held for the whole run.

    ``flock`` locks vanish with the process, so a run killed with SIGKILL never leaves a
    stale lock behind.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def acquire(self, *, wait: float = 0.0) -> None:
        import time

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")  # noqa: SIM115 - held until release()
        deadline = time.monotonic() + wait
        while True:
            if _try_lock(handle):
                break
            if time.monotonic() >= deadline:
                handle.close()
                raise LockHeld(
                    f"{self.path}: another announcement run is in progress; nothing was sent. "
                    "Wait for it to finish (it holds this lock) and run again"
                )
            time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            _unlock(self._file)
            self._file.close()
            self._file = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_lock(handle: IO[bytes]) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle: IO[bytes]) -> None:
    try:
        import fcntl
    except ImportError:
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
