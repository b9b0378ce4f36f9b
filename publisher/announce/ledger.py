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
import sqlite3
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

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.location = str(path)
        self.readonly = readonly
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if readonly and not path.exists():
            return
        try:
            if not readonly:
                path.parent.mkdir(parents=True, exist_ok=True)
            uri = f"{path.resolve().as_uri()}{'?mode=ro' if readonly else ''}"
            self._db = sqlite3.connect(
                uri, uri=True, timeout=30, isolation_level=None, check_same_thread=False
            )
            if not readonly:
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
                self._db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                    (SCHEMA_VERSION,),
                )
        except sqlite3.DatabaseError as exc:
            raise StateError(
                f"{path}: the announcement ledger cannot be opened ({exc}); "
                "move it aside to start a new baseline (nothing old will be announced)"
            ) from None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

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
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _read(self, sql: str, params: Iterable[object] = ()) -> list[tuple[object, ...]]:
        if self._db is None:
            return []
        with self._lock:
            return list(self._db.execute(sql, tuple(params)))

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
