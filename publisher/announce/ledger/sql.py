"""Every statement of the ledger, written once, and the reads and writes built on them.

A :class:`Dialect` says what differs between SQLite and PostgreSQL: the parameter mark
(``?`` or ``%s``), the table-name prefix (a shared PostgreSQL database holds other
tables) and whether a claim's SELECT locks its row (PostgreSQL: ``FOR UPDATE``; SQLite
locks the whole file with ``BEGIN IMMEDIATE`` instead). Templates write ``?`` and ``{p}``;
:meth:`Dialect.sql` turns them into the backend's text. The upserts use the syntax both
share (``INSERT ... AS a ... ON CONFLICT``, SQLite 3.24 and later).

:class:`SQLLedger` implements :class:`~publisher.announce.ledger.model.LedgerStore` on top
of two backend hooks: ``_read`` (rows of a query) and ``_write`` (a cursor inside one
committed transaction). Every change is its own transaction, so a crash loses at most the
row of the message in flight, and that one is ``sending``.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from publisher.announce.ledger.model import (
    ANY,
    COLUMNS,
    SCHEMA_VERSION,
    Anything,
    Entry,
    Expect,
    iso,
)
from publisher.announce.redact import redact
from publisher.errors import StateError

#: The tables; the SQLite text is what existing ledger files hold in ``sqlite_master``.
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS {p}meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS {p}targets (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    baseline_at TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS {p}announcements (
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
)""",
)
META = (
    "INSERT INTO {p}meta (key, value) VALUES ('schema', '" + SCHEMA_VERSION + "') "
    "ON CONFLICT DO NOTHING"
)

_ALL = ", ".join(COLUMNS)
_PAIR = "WHERE post_id = ? AND target = ?"
SELECT_ENTRIES = f"SELECT {_ALL} FROM {{p}}announcements WHERE 1=1"
SELECT_BASELINE = "SELECT baseline_at FROM {p}targets WHERE name = ?"
SELECT_STATUS = f"SELECT status FROM {{p}}announcements {_PAIR}{{lock}}"
SELECT_ENTRY = f"SELECT {_ALL} FROM {{p}}announcements {_PAIR}"
INSERT_TARGET = (
    "INSERT INTO {p}targets (name, kind, baseline_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)
INSERT_BASELINE = (
    "INSERT INTO {p}announcements (post_id, target, kind, status, reason, key) "
    "VALUES (?, ?, ?, 'skipped', 'baseline', '') ON CONFLICT DO NOTHING"
)
#: ``sending``, one more attempt; the key and first attempt time are kept once set.
UPSERT_SENDING = (
    "INSERT INTO {p}announcements AS a (post_id, target, kind, status, key, attempts, "
    "first_attempt_at, last_attempt_at) VALUES (?, ?, ?, 'sending', ?, 1, ?, ?) "
    "ON CONFLICT (post_id, target) DO UPDATE SET status = 'sending', "
    "attempts = a.attempts + 1, last_attempt_at = excluded.last_attempt_at, "
    "key = CASE WHEN a.key = '' THEN excluded.key ELSE a.key END, "
    "first_attempt_at = COALESCE(a.first_attempt_at, excluded.first_attempt_at)"
)
UPDATE_SENT = (
    "UPDATE {p}announcements SET status = 'sent', remote_id = ?, remote_url = ?, "
    f"sent_at = ?, error = NULL, http_status = ?, reason = COALESCE(?, reason) {_PAIR}"
)
UPDATE_UNSENT = f"UPDATE {{p}}announcements SET status = ?, error = ?, http_status = ? {_PAIR}"
UPDATE_INTERRUPTED = (
    f"UPDATE {{p}}announcements SET status = 'in_doubt', error = ? {_PAIR} AND status = 'sending'"
)
UPDATE_NOTE = f"UPDATE {{p}}announcements SET reason = ? {_PAIR}"
UPDATE_KEY = f"UPDATE {{p}}announcements SET key = ?, first_attempt_at = ? {_PAIR}"
UPSERT_MARKED = (
    "INSERT INTO {p}announcements (post_id, target, kind, status, reason, key, sent_at) "
    "VALUES (?, ?, ?, 'sent', 'marked', '', ?) ON CONFLICT (post_id, target) DO UPDATE "
    "SET status = 'sent', reason = 'marked', sent_at = excluded.sent_at, error = NULL"
)
DELETE_POST = "DELETE FROM {p}announcements WHERE post_id = ?"
DELETE_PAIR = f"DELETE FROM {{p}}announcements {_PAIR}"
DUMP_TARGETS = "SELECT name, kind, baseline_at FROM {p}targets ORDER BY name"
DUMP_ENTRIES = f"SELECT {_ALL} FROM {{p}}announcements ORDER BY target, post_id"
CLEAR_TARGETS = "DELETE FROM {p}targets"
CLEAR_ENTRIES = "DELETE FROM {p}announcements"
LOAD_TARGET = "INSERT INTO {p}targets (name, kind, baseline_at) VALUES (?, ?, ?)"
LOAD_ENTRY = f"INSERT INTO {{p}}announcements ({_ALL}) VALUES ({', '.join('?' * len(COLUMNS))})"
#: Longest error text kept in a row.
ERROR_CHARS = 500


@dataclass(frozen=True)
class Dialect:
    """What a backend's SQL differs in; see the module docstring."""

    mark: str
    prefix: str
    lock_row: str

    def sql(self, template: str) -> str:
        return template.format(p=self.prefix, lock=self.lock_row).replace("?", self.mark)


SQLITE = Dialect(mark="?", prefix="", lock_row="")
POSTGRES = Dialect(mark="%s", prefix="publisher_", lock_row=" FOR UPDATE")


class Cursor(Protocol):
    """The part of a DB-API cursor the ledger uses (sqlite3's and psycopg's alike)."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...

    def executemany(self, sql: Any, params: Any, /) -> Any: ...

    def fetchone(self) -> Any: ...


class SQLLedger:
    """A ledger over SQL: every read and write, the same on each backend.

    A backend sets ``dialect``, ``location`` and ``readonly`` and provides ``_read`` and
    ``_write``; the PostgreSQL one adds its claim locks around ``begin``, ``sent``,
    ``unsent`` and ``mark_interrupted``.
    """

    dialect: Dialect = SQLITE
    location: str
    readonly: bool

    def _read(self, sql: str, params: Iterable[object] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Cursor]:
        raise NotImplementedError

    def _writable(self) -> None:
        if self.readonly:
            raise StateError(f"{self.location}: the ledger is open read-only (dry run)")

    def _run(self, cursor: Cursor, template: str, params: Iterable[object]) -> Cursor:
        cursor.execute(self.dialect.sql(template), tuple(params))
        return cursor

    # -- reading -------------------------------------------------------------

    def entries(self, *, target: str | None = None, post_id: str | None = None) -> list[Entry]:
        template = SELECT_ENTRIES
        params: list[object] = []
        if target is not None:
            template += " AND target = ?"
            params.append(target)
        if post_id is not None:
            template += " AND post_id = ?"
            params.append(post_id)
        rows = self._read(self.dialect.sql(template + " ORDER BY target, post_id"), params)
        return [Entry.from_row(row) for row in rows]

    def for_target(self, target: str) -> dict[str, Entry]:
        return {e.post_id: e for e in self.entries(target=target)}

    def get(self, post_id: str, target: str) -> Entry | None:
        found = self.entries(target=target, post_id=post_id)
        return found[0] if found else None

    def baseline_at(self, target: str) -> str | None:
        rows = self._read(self.dialect.sql(SELECT_BASELINE), (target,))
        return str(rows[0][0]) if rows else None

    def dump(self) -> dict[str, list[dict[str, object]]]:
        """Every target and row, sorted: deterministic, so an unchanged ledger dumps the same."""
        targets = self._read(self.dialect.sql(DUMP_TARGETS))
        rows = self._read(self.dialect.sql(DUMP_ENTRIES))
        return {
            "targets": [{"name": n, "kind": k, "baseline_at": b} for n, k, b in targets],
            "announcements": [dict(zip(COLUMNS, row, strict=True)) for row in rows],
        }

    # -- writing -------------------------------------------------------------

    def record_baseline(
        self, target: str, kind: str, post_ids: Iterable[str], now: datetime
    ) -> None:
        """First run for ``target``: its posts recorded as skipped, in one transaction
        (rows a concurrent run wrote meanwhile stay as they are)."""
        with self._write() as cursor:
            self._run(cursor, INSERT_TARGET, (target, kind, iso(now)))
            cursor.executemany(
                self.dialect.sql(INSERT_BASELINE), [(p, target, kind) for p in post_ids]
            )

    def begin(
        self, post_id: str, target: str, kind: str, key: str, now: datetime, *, expect: Expect = ANY
    ) -> Entry | None:
        """Committed before the request is made: status ``sending``, one more attempt.

        With ``expect`` (the status the planner saw, or None for no row) it is a claim: None
        comes back, and nothing changes, when the row has moved on since.
        """
        with self._write() as cursor:
            found = self._run(cursor, SELECT_STATUS, (post_id, target)).fetchone()
            if not isinstance(expect, Anything) and (found[0] if found else None) != expect:
                return None
            self._run(cursor, UPSERT_SENDING, (post_id, target, kind, key, iso(now), iso(now)))
            row = self._run(cursor, SELECT_ENTRY, (post_id, target)).fetchone()
        return Entry.from_row(row)

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
        remote = [redact(value) if value else None for value in (remote_id, remote_url)]
        with self._write() as cursor:
            self._run(
                cursor, UPDATE_SENT, (*remote, iso(now), http_status, reason, post_id, target)
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
        text = redact(error)[:ERROR_CHARS]
        with self._write() as cursor:
            self._run(cursor, UPDATE_UNSENT, (status, text, http_status, post_id, target))

    def mark_interrupted(self, post_id: str, target: str, error: str) -> bool:
        """A row an earlier run left ``sending`` becomes ``in_doubt``; False if it moved on."""
        text = redact(error)[:ERROR_CHARS]
        with self._write() as cursor:
            return self._run(cursor, UPDATE_INTERRUPTED, (text, post_id, target)).rowcount == 1

    def note(self, post_id: str, target: str, reason: str | None) -> None:
        """Delivery's note on a row's last outcome (``not_sent``, ``ambiguous``), kept in ``reason``."""
        with self._write() as cursor:
            self._run(cursor, UPDATE_NOTE, (reason, post_id, target))

    def rekey(self, post_id: str, target: str, key: str, now: datetime) -> None:
        """A new idempotency key once the platform forgot the old one (and the message is
        certainly not there); its lifetime starts ``now``."""
        with self._write() as cursor:
            self._run(cursor, UPDATE_KEY, (key, iso(now), post_id, target))

    def mark_sent(self, post_id: str, target: str, kind: str, now: datetime) -> None:
        """Repair: record a post as announced to ``target`` (it was posted by hand, say)."""
        with self._write() as cursor:
            self._run(cursor, UPSERT_MARKED, (post_id, target, kind, iso(now)))

    def forget(self, post_id: str, target: str | None = None) -> int:
        """Repair: drop the rows of ``post_id`` (one target or all), so it counts as new again."""
        with self._write() as cursor:
            if target is None:
                return self._run(cursor, DELETE_POST, (post_id,)).rowcount
            return self._run(cursor, DELETE_PAIR, (post_id, target)).rowcount

    def load(self, data: dict[str, list[dict[str, object]]]) -> None:
        """Replace every target and row with ``data`` (a :meth:`dump`), in one transaction."""
        with self._write() as cursor:
            self._run(cursor, CLEAR_TARGETS, ())
            self._run(cursor, CLEAR_ENTRIES, ())
            cursor.executemany(
                self.dialect.sql(LOAD_TARGET),
                [(t["name"], t["kind"], t["baseline_at"]) for t in data.get("targets", [])],
            )
            cursor.executemany(
                self.dialect.sql(LOAD_ENTRY),
                [tuple(row.get(n) for n in COLUMNS) for row in data.get("announcements", [])],
            )
