"""The announcement ledger on PostgreSQL: one state shared by many runners and hosts.

Set ``state.ledger`` to ``postgresql://user:${PGPASSWORD}@host/db`` and every run, on any
host, reads and writes the same rows as :class:`~publisher.announce.ledger.Ledger` keeps
in SQLite (same statuses, same columns, tables prefixed ``publisher_``).

Runs may overlap; each (post, target) is claimed before it is sent:

* ``begin(expect=...)`` takes a session-level advisory lock on the pair
  (``pg_try_advisory_lock``: never waits), then, in one transaction, locks the row
  (``SELECT ... FOR UPDATE``) and moves it to ``sending`` only if it is still in the state
  this run's planner saw. Otherwise the claim is lost and nothing is sent.
* The advisory lock is held until the row is ``sent``, ``failed`` or ``in_doubt``. It
  belongs to the connection, so a runner that dies mid-send releases it, and its row stays
  ``sending`` for the next run to treat as interrupted (the same rule as SQLite).
* Statuses are committed before and right after each request, as in SQLite.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.conninfo import conninfo_to_dict

from publisher.announce.ledger import _COLUMNS, ANY, Entry, Expect, LedgerReads, _Any, _entry, _iso
from publisher.announce.redact import redact, register_secret
from publisher.errors import StateError

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS publisher_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS publisher_targets (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        baseline_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS publisher_announcements (
        post_id TEXT NOT NULL,
        target TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('sending', 'sent', 'in_doubt', 'failed', 'skipped')),
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
    "INSERT INTO publisher_meta (key, value) VALUES ('schema', '1') ON CONFLICT DO NOTHING",
)
#: Serializes schema creation: concurrent CREATE TABLE IF NOT EXISTS can collide.
_SCHEMA_LOCK = 0x7075626C


def safe_url(url: str) -> str:
    """The URL with its password replaced, for messages."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _pair_key(post_id: str, target: str) -> str:
    return f"publisher\n{target}\n{post_id}"


class PostgresLedger(LedgerReads):
    """The ledger in a PostgreSQL database. Thread-safe: one connection, one lock."""

    _announcements = "publisher_announcements"
    _targets = "publisher_targets"
    _mark = "%s"

    def __init__(self, url: str, *, readonly: bool = False, connect_timeout: int = 10) -> None:
        self.location = safe_url(url)
        self.readonly = readonly
        self._lock = threading.Lock()
        self._held: set[tuple[str, str]] = set()
        try:
            password = conninfo_to_dict(url).get("password")
        except psycopg.ProgrammingError as exc:
            raise StateError(
                f"state.ledger: {self.location} is not a valid PostgreSQL URL ({exc}); "
                "write it as postgresql://USER:${PASSWORD_VARIABLE}@HOST:PORT/DATABASE"
            ) from None
        if password:
            register_secret(str(password))
        try:
            self._db = psycopg.connect(
                url, autocommit=True, connect_timeout=connect_timeout, application_name="publisher"
            )
        except psycopg.Error as exc:
            raise StateError(
                f"{self.location}: cannot connect to the ledger database "
                f"({redact(str(exc)).strip()}); check the host, the user and the password "
                "variable, and that the server accepts connections from this host"
            ) from None
        self._ready = True
        if readonly:
            found = self._db.execute("SELECT to_regclass('publisher_announcements')").fetchone()
            self._ready = found is not None and found[0] is not None
            return
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in _SCHEMA:
                self._db.execute(statement)

    def close(self) -> None:
        with self._lock:
            if not self._db.closed:
                self._db.close()
            self._held.clear()

    def __enter__(self) -> PostgresLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        if self.readonly:
            raise StateError(f"{self.location}: the ledger is open read-only (dry run)")
        with self._lock, self._db.transaction():
            yield self._db

    def _read(self, sql: str, params: Iterable[object] = ()) -> list[tuple[Any, ...]]:
        if not self._ready:
            return []
        with self._lock:
            return list(self._db.execute(sql, tuple(params)).fetchall())

    def _try_claim_lock(self, post_id: str, target: str) -> bool:
        """The pair's advisory lock (caller holds ``self._lock``); False if another run has it."""
        if (post_id, target) in self._held:
            return True
        row = self._db.execute(
            "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (_pair_key(post_id, target),)
        ).fetchone()
        if not row or not row[0]:
            return False
        self._held.add((post_id, target))
        return True

    def _release(self, post_id: str, target: str) -> None:
        if (post_id, target) in self._held:
            self._held.discard((post_id, target))
            self._db.execute(
                "SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (_pair_key(post_id, target),)
            )

    # -- writing -------------------------------------------------------------

    def record_baseline(
        self, target: str, kind: str, post_ids: Iterable[str], now: datetime
    ) -> None:
        """First run for ``target``: its posts recorded as skipped; a concurrent run's rows stay."""
        with self._write() as db:
            db.execute(
                "INSERT INTO publisher_targets (name, kind, baseline_at) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (target, kind, _iso(now)),
            )
            with db.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO publisher_announcements (post_id, target, kind, status, reason, key) "
                    "VALUES (%s, %s, %s, 'skipped', 'baseline', '') ON CONFLICT DO NOTHING",
                    [(post_id, target, kind) for post_id in post_ids],
                )

    def begin(
        self, post_id: str, target: str, kind: str, key: str, now: datetime, *, expect: Expect = ANY
    ) -> Entry | None:
        """Claim the pair and commit ``sending`` before the request; None if another run has it."""
        if self.readonly:
            raise StateError(f"{self.location}: the ledger is open read-only (dry run)")
        with self._lock:
            if not self._try_claim_lock(post_id, target):
                return None
            try:
                with self._db.transaction():
                    found = self._db.execute(
                        "SELECT status FROM publisher_announcements "
                        "WHERE post_id = %s AND target = %s FOR UPDATE",
                        (post_id, target),
                    ).fetchone()
                    if not isinstance(expect, _Any) and (found[0] if found else None) != expect:
                        self._release(post_id, target)
                        return None
                    row = self._db.execute(
                        "INSERT INTO publisher_announcements AS a (post_id, target, kind, status, "
                        "key, attempts, first_attempt_at, last_attempt_at) "
                        "VALUES (%s, %s, %s, 'sending', %s, 1, %s, %s) "
                        "ON CONFLICT (post_id, target) DO UPDATE SET status = 'sending', "
                        "attempts = a.attempts + 1, last_attempt_at = excluded.last_attempt_at, "
                        "key = CASE WHEN a.key = '' THEN excluded.key ELSE a.key END, "
                        "first_attempt_at = COALESCE(a.first_attempt_at, excluded.first_attempt_at) "
                        f"RETURNING {_COLUMNS}",
                        (post_id, target, kind, key, _iso(now), _iso(now)),
                    ).fetchone()
            except BaseException:
                self._release(post_id, target)
                raise
        assert row is not None
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
                "UPDATE publisher_announcements SET status = 'sent', remote_id = %s, "
                "remote_url = %s, sent_at = %s, error = NULL, http_status = %s, "
                "reason = COALESCE(%s, reason) WHERE post_id = %s AND target = %s",
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
        with self._lock:
            self._release(post_id, target)

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
                "UPDATE publisher_announcements SET status = %s, error = %s, http_status = %s "
                "WHERE post_id = %s AND target = %s",
                (status, redact(error)[:500], http_status, post_id, target),
            )
        with self._lock:
            self._release(post_id, target)

    def note(self, post_id: str, target: str, reason: str | None) -> None:
        """Delivery's note on a row's last outcome (``not_sent``, ``ambiguous``), kept in ``reason``."""
        with self._write() as db:
            db.execute(
                "UPDATE publisher_announcements SET reason = %s WHERE post_id = %s AND target = %s",
                (reason, post_id, target),
            )

    def rekey(self, post_id: str, target: str, key: str, now: datetime) -> None:
        """A new idempotency key once the platform forgot the old one; see Ledger.rekey."""
        with self._write() as db:
            db.execute(
                "UPDATE publisher_announcements SET key = %s, first_attempt_at = %s "
                "WHERE post_id = %s AND target = %s",
                (key, _iso(now), post_id, target),
            )

    def mark_interrupted(self, post_id: str, target: str, error: str) -> bool:
        """A ``sending`` row whose run is gone becomes ``in_doubt``; a live run's row is left."""
        if self.readonly:
            raise StateError(f"{self.location}: the ledger is open read-only (dry run)")
        with self._lock:
            if not self._try_claim_lock(post_id, target):
                return False
            try:
                cursor = self._db.execute(
                    "UPDATE publisher_announcements SET status = 'in_doubt', error = %s "
                    "WHERE post_id = %s AND target = %s AND status = 'sending'",
                    (redact(error)[:500], post_id, target),
                )
                return cursor.rowcount == 1
            finally:
                self._release(post_id, target)

    def mark_sent(self, post_id: str, target: str, kind: str, now: datetime) -> None:
        """Repair: record a post as announced to ``target`` (it was posted by hand, say)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO publisher_announcements (post_id, target, kind, status, reason, key, "
                "sent_at) VALUES (%s, %s, %s, 'sent', 'marked', '', %s) "
                "ON CONFLICT (post_id, target) DO UPDATE SET status = 'sent', reason = 'marked', "
                "sent_at = excluded.sent_at, error = NULL",
                (post_id, target, kind, _iso(now)),
            )

    def forget(self, post_id: str, target: str | None = None) -> int:
        """Repair: drop the rows of ``post_id`` (one target or all), so it counts as new again."""
        with self._write() as db:
            if target is None:
                cursor = db.execute(
                    "DELETE FROM publisher_announcements WHERE post_id = %s", (post_id,)
                )
            else:
                cursor = db.execute(
                    "DELETE FROM publisher_announcements WHERE post_id = %s AND target = %s",
                    (post_id, target),
                )
            return cursor.rowcount
