"""The announcement ledger: one SQLite row per (post id, target), written as it happens.

Status of a row::

    sending   written *before* the request goes out; if the process dies mid-send the next
              run finds it and knows the platform may have the message
    sent      the platform confirmed it (remote id / URL kept)
    in_doubt  a platform without an idempotency key may or may not have it: not resent
              unless ``--retry-in-doubt``
    failed    the platform refused or did not answer; tried again next run
    skipped   recorded as already published before this target existed (the baseline)

Every change is its own committed transaction, so a crash loses at most the row of the
message in flight, and that one is ``sending``. The rollback journal (not WAL) keeps a
read-only open, as dry runs use, from creating files. :class:`RunLock` keeps two runs
(cron plus a manual one) from sending at once.

:class:`LedgerStore` is the interface the announce stage uses; :class:`Ledger` (SQLite, a
file in ``state.folder``) and ``ledger_pg.PostgresLedger`` (a ``postgresql://`` URL shared
by many hosts) implement it, and :func:`open_ledger` picks one from the location. ``begin``
with ``expect`` is a claim: it succeeds only while the row is still in the state the
planner saw, so two runs that planned the same post never both send it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Literal, Protocol

from publisher.announce.redact import redact
from publisher.errors import StateError

Status = Literal["sending", "sent", "in_doubt", "failed", "skipped"]
STATUSES: tuple[Status, ...] = ("sending", "sent", "in_doubt", "failed", "skipped")
SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS targets (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    baseline_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS announcements (
    post_id TEXT NOT NULL,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'in_doubt', 'failed', 'skipped')),
    reason TEXT,
    key TEXT NOT NULL,
    remote_id TEXT,
    remote_url TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    first_attempt_at TEXT,
    last_attempt_at TEXT,
    sent_at TEXT,
    error TEXT,
    http_status INTEGER,
    PRIMARY KEY (post_id, target)
);
"""


@dataclass(frozen=True, kw_only=True)
class Entry:
    post_id: str
    target: str
    kind: str
    status: Status
    reason: str | None
    key: str
    remote_id: str | None
    remote_url: str | None
    attempts: int
    first_attempt_at: str | None
    last_attempt_at: str | None
    sent_at: str | None
    error: str | None
    http_status: int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "post_id": self.post_id,
            "target": self.target,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "remote_id": self.remote_id,
            "remote_url": self.remote_url,
            "attempts": self.attempts,
            "first_attempt_at": self.first_attempt_at,
            "last_attempt_at": self.last_attempt_at,
            "sent_at": self.sent_at,
            "error": self.error,
            "http_status": self.http_status,
        }


_COLUMNS = (
    "post_id, target, kind, status, reason, key, remote_id, remote_url, attempts, "
    "first_attempt_at, last_attempt_at, sent_at, error, http_status"
)


def _entry(row: tuple[object, ...]) -> Entry:
    names = [c.strip() for c in _COLUMNS.split(",")]
    return Entry(**dict(zip(names, row, strict=True)))  # type: ignore[arg-type]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class _Any:
    """``begin(expect=ANY)``: no claim check (a retry inside the run that owns the row)."""

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()
#: What ``begin`` expects the row to be: a status, None (no row yet) or ANY.
Expect = Status | None | _Any


class LockHeld(StateError):
    """Another run holds the run lock: nothing was done; try again later."""


class LedgerStore(Protocol):
    """What the announce stage needs from a ledger, whatever stores it."""

    location: str

    def close(self) -> None: ...

    def __enter__(self) -> LedgerStore: ...

    def __exit__(self, *exc: object) -> None: ...

    def entries(self, *, target: str | None = None, post_id: str | None = None) -> list[Entry]: ...

    def for_target(self, target: str) -> dict[str, Entry]: ...

    def get(self, post_id: str, target: str) -> Entry | None: ...

    def baseline_at(self, target: str) -> str | None: ...

    def record_baseline(
        self, target: str, kind: str, post_ids: Iterable[str], now: datetime
    ) -> None: ...

    def begin(
        self, post_id: str, target: str, kind: str, key: str, now: datetime, *, expect: Expect = ANY
    ) -> Entry | None: ...

    def sent(
        self,
        post_id: str,
        target: str,
        now: datetime,
        *,
        remote_id: str | None,
        remote_url: str | None,
        http_status: int | None,
        reason: str | None = None,
    ) -> None: ...

    def unsent(
        self,
        post_id: str,
        target: str,
        status: Literal["failed", "in_doubt"],
        *,
        error: str,
        http_status: int | None,
    ) -> None: ...

    def mark_interrupted(self, post_id: str, target: str, error: str) -> bool: ...

    def note(self, post_id: str, target: str, reason: str | None) -> None: ...

    def rekey(self, post_id: str, target: str, key: str, now: datetime) -> None: ...

    def mark_sent(self, post_id: str, target: str, kind: str, now: datetime) -> None: ...

    def forget(self, post_id: str, target: str | None = None) -> int: ...


def is_database_url(location: str | Path) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) ledger location."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def open_ledger(location: str | Path, *, readonly: bool = False) -> LedgerStore:
    """The ledger at ``location``: a ``postgresql://`` URL, else a SQLite file path."""
    if is_database_url(location):
        try:
            from publisher.announce.ledger_pg import PostgresLedger
        except ImportError:
            raise StateError(
                "state.ledger: a postgresql:// ledger needs psycopg; "
                "install it with: pip install 'publisher[postgres]'"
            ) from None
        return PostgresLedger(str(location), readonly=readonly)
    return Ledger(Path(location), readonly=readonly)


#: Seconds a ledger open waits for another process's write to finish before it gives up.
BUSY_TIMEOUT = 30.0
#: Marks a SQLite file as a publisher ledger (``PRAGMA application_id``; "pubL").
APPLICATION_ID = 0x7075624C
_MAGIC = b"SQLite format 3\x00"


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


def _create(path: Path, timeout: float) -> None:
    """Write a new, empty ledger to a temporary file and rename it into place.

    Whole or absent, never half made: an empty or cut-short ledger can then only be damage.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")
        os.close(fd)
    except OSError as exc:
        raise StateError(
            f"{path}: cannot create the announcement ledger ({exc.strerror}); "
            "check that state.folder is writable"
        ) from None
    try:
        db = sqlite3.connect(temp, timeout=timeout, isolation_level=None)
        try:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.executescript(_SCHEMA)
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,)
            )
        finally:
            db.close()
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # as SQLite itself would have made it, not mkstemp's 0600
        try:
            # Only if still absent: a ledger another process created meanwhile is kept.
            os.link(temp, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            os.replace(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)


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


class LedgerReads:
    """The reading half of a ledger, the same SQL on every backend.

    A backend names its tables and its parameter mark and provides ``_read``.
    """

    _announcements = "announcements"
    _targets = "targets"
    _mark = "?"

    def _read(self, sql: str, params: Iterable[object] = ()) -> list[tuple[object, ...]]:
        raise NotImplementedError

    def entries(self, *, target: str | None = None, post_id: str | None = None) -> list[Entry]:
        sql = f"SELECT {_COLUMNS} FROM {self._announcements} WHERE 1=1"
        params: list[object] = []
        if target is not None:
            sql += f" AND target = {self._mark}"
            params.append(target)
        if post_id is not None:
            sql += f" AND post_id = {self._mark}"
            params.append(post_id)
        return [_entry(row) for row in self._read(sql + " ORDER BY target, post_id", params)]

    def for_target(self, target: str) -> dict[str, Entry]:
        return {e.post_id: e for e in self.entries(target=target)}

    def get(self, post_id: str, target: str) -> Entry | None:
        found = self.entries(target=target, post_id=post_id)
        return found[0] if found else None

    def baseline_at(self, target: str) -> str | None:
        rows = self._read(
            f"SELECT baseline_at FROM {self._targets} WHERE name = {self._mark}", (target,)
        )
        return str(rows[0][0]) if rows else None


class Ledger(LedgerReads):
    """The SQLite ledger. Thread-safe: one connection, one lock, one transaction per change."""

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
            _create(path, timeout)
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
        try:
            uri = f"{path.resolve().as_uri()}{'?mode=ro' if readonly else ''}"
            self._db = sqlite3.connect(
                uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            _check_contents(self._db, path)
            if not readonly:
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)  # tables a newer version added
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
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.readonly or self._db is None:
            raise StateError(f"{self.path}: the ledger is open read-only (dry run)")
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise _database_error(self.path, exc) from None
            try:
                yield db
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

    def _read(self, sql: str, params: Iterable[object] = ()) -> list[tuple[object, ...]]:
        if self._db is None:
            return []
        with self._lock:
            try:
                return list(self._db.execute(sql, tuple(params)))
            except sqlite3.DatabaseError as exc:
                raise _database_error(self.path, exc) from None

    # -- writing -------------------------------------------------------------

    def record_baseline(
        self, target: str, kind: str, post_ids: Iterable[str], now: datetime
    ) -> None:
        """First run for ``target``: its existing posts are recorded as skipped, in one transaction."""
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO targets (name, kind, baseline_at) VALUES (?, ?, ?)",
                (target, kind, _iso(now)),
            )
            db.executemany(
                "INSERT OR IGNORE INTO announcements (post_id, target, kind, status, reason, key) "
                "VALUES (?, ?, ?, 'skipped', 'baseline', '')",
                [(post_id, target, kind) for post_id in post_ids],
            )

    def begin(
        self, post_id: str, target: str, kind: str, key: str, now: datetime, *, expect: Expect = ANY
    ) -> Entry | None:
        """Committed before the request is made: status ``sending``, one more attempt.

        With ``expect`` (the status the planner saw, or None for no row) it is a claim: None
        comes back, and nothing changes, when the row has moved on since.
        """
        with self._write() as db:
            if not isinstance(expect, _Any):
                row = db.execute(
                    "SELECT status FROM announcements WHERE post_id = ? AND target = ?",
                    (post_id, target),
                ).fetchone()
                if (row[0] if row else None) != expect:
                    return None
            db.execute(
                "INSERT INTO announcements (post_id, target, kind, status, key, attempts, "
                "first_attempt_at, last_attempt_at) VALUES (?, ?, ?, 'sending', ?, 1, ?, ?) "
                "ON CONFLICT (post_id, target) DO UPDATE SET status = 'sending', "
                "attempts = attempts + 1, last_attempt_at = excluded.last_attempt_at, "
                "key = CASE WHEN key = '' THEN excluded.key ELSE key END, "
                "first_attempt_at = COALESCE(first_attempt_at, excluded.first_attempt_at)",
                (post_id, target, kind, key, _iso(now), _iso(now)),
            )
            row = db.execute(
                f"SELECT {_COLUMNS} FROM announcements WHERE post_id = ? AND target = ?",
                (post_id, target),
            ).fetchone()
        return _entry(row)

    def sent(
        self,
        post_id: str,
        target: str,
        now: datetime,
        *,
        remote_id: str | None,
        remote_url: str | None,
        http_status: int | None,
        reason: str | None = None,
    ) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE announcements SET status = 'sent', remote_id = ?, remote_url = ?, "
                "sent_at = ?, error = NULL, http_status = ?, reason = COALESCE(?, reason) "
                "WHERE post_id = ? AND target = ?",
                (
                    redact(remote_id) if remote_id else None,
                    redact(remote_url) if remote_url else None,
                    _iso(now),
                    http_status,
                    reason,
                    post_id,
                    target,
                ),
            )

    def unsent(
        self,
        post_id: str,
        target: str,
        status: Literal["failed", "in_doubt"],
        *,
        error: str,
        http_status: int | None,
    ) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE announcements SET status = ?, error = ?, http_status = ? "
                "WHERE post_id = ? AND target = ?",
                (status, redact(error)[:500], http_status, post_id, target),
            )

    def mark_interrupted(self, post_id: str, target: str, error: str) -> bool:
        """A row an earlier run left ``sending`` becomes ``in_doubt``; False if it moved on."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE announcements SET status = 'in_doubt', error = ? "
                "WHERE post_id = ? AND target = ? AND status = 'sending'",
                (redact(error)[:500], post_id, target),
            )
            return cursor.rowcount == 1

    def note(self, post_id: str, target: str, reason: str | None) -> None:
        """Delivery's note on a row's last outcome (``not_sent``, ``ambiguous``), kept in ``reason``."""
        with self._write() as db:
            db.execute(
                "UPDATE announcements SET reason = ? WHERE post_id = ? AND target = ?",
                (reason, post_id, target),
            )

    def rekey(self, post_id: str, target: str, key: str, now: datetime) -> None:
        """A new idempotency key once the platform forgot the old one (and the message is
        certainly not there); its lifetime starts ``now``."""
        with self._write() as db:
            db.execute(
                "UPDATE announcements SET key = ?, first_attempt_at = ? "
                "WHERE post_id = ? AND target = ?",
                (key, _iso(now), post_id, target),
            )

    def mark_sent(self, post_id: str, target: str, kind: str, now: datetime) -> None:
        """Repair: record a post as announced to ``target`` (it was posted by hand, say)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO announcements (post_id, target, kind, status, reason, key, sent_at) "
                "VALUES (?, ?, ?, 'sent', 'marked', '', ?) ON CONFLICT (post_id, target) DO UPDATE "
                "SET status = 'sent', reason = 'marked', sent_at = excluded.sent_at, error = NULL",
                (post_id, target, kind, _iso(now)),
            )

    def forget(self, post_id: str, target: str | None = None) -> int:
        """Repair: drop the rows of ``post_id`` (one target or all), so it counts as new again."""
        with self._write() as db:
            if target is None:
                cursor = db.execute("DELETE FROM announcements WHERE post_id = ?", (post_id,))
            else:
                cursor = db.execute(
                    "DELETE FROM announcements WHERE post_id = ? AND target = ?", (post_id, target)
                )
            return cursor.rowcount

    # -- the whole ledger as data (the state branch keeps it as a JSON file) ----

    def dump(self) -> dict[str, list[dict[str, object]]]:
        """Every target and row, sorted: deterministic, so an unchanged ledger dumps the same."""
        targets = self._read("SELECT name, kind, baseline_at FROM targets ORDER BY name")
        names = [c.strip() for c in _COLUMNS.split(",")]
        rows = self._read(f"SELECT {_COLUMNS} FROM announcements ORDER BY target, post_id")
        return {
            "targets": [{"name": n, "kind": k, "baseline_at": b} for n, k, b in targets],
            "announcements": [dict(zip(names, row, strict=True)) for row in rows],
        }

    def load(self, data: dict[str, list[dict[str, object]]]) -> None:
        """Replace every target and row with ``data`` (a :meth:`dump`), in one transaction."""
        names = [c.strip() for c in _COLUMNS.split(",")]
        with self._write() as db:
            db.execute("DELETE FROM targets")
            db.execute("DELETE FROM announcements")
            db.executemany(
                "INSERT INTO targets (name, kind, baseline_at) VALUES (?, ?, ?)",
                [(t["name"], t["kind"], t["baseline_at"]) for t in data.get("targets", [])],
            )
            db.executemany(
                f"INSERT INTO announcements ({_COLUMNS}) VALUES ({', '.join('?' * len(names))})",
                [tuple(row.get(n) for n in names) for row in data.get("announcements", [])],
            )


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
