"""The announcement ledger on PostgreSQL: one state shared by many runners and hosts.

Set ``state.ledger`` to ``postgresql://user:${PGPASSWORD}@host/db`` and every run, on any
host, reads and writes the same rows as the SQLite ledger keeps (same statuses, same
columns and the same SQL, tables prefixed ``publisher_``).

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

from publisher.announce.ledger.model import ANY, Entry, Expect
from publisher.announce.ledger.sql import META, POSTGRES, SCHEMA, SQLLedger
from publisher.announce.redact import redact, register_secret
from publisher.errors import StateError

#: Serializes schema creation: concurrent CREATE TABLE IF NOT EXISTS can collide.
_SCHEMA_LOCK = 0x7075626C


def safe_url(url: str) -> str:
    """The URL with its password replaced, for messages."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _pair_key(post_id: str, target: str) -> str:
    return f"publisher\n{target}\n{post_id}"


class PostgresLedger(SQLLedger):
    """The ledger in a PostgreSQL database. Thread-safe: one connection, one lock."""

    dialect = POSTGRES

    def __init__(self, url: str, *, readonly: bool = False, connect_timeout: int = 10) -> None:
        self.location = safe_url(url)
        self.readonly = readonly
        # Reentrant: a claim holds it around the shared ``begin``, which takes it to write.
        self._lock = threading.RLock()
        self._held: set[tuple[str, str]] = set()
        self._db = self._connect(url, connect_timeout)
        self._ready = True
        if readonly:
            found = self._db.execute("SELECT to_regclass('publisher_announcements')").fetchone()
            self._ready = found is not None and found[0] is not None
            return
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in (*SCHEMA, META):
                self._db.execute(POSTGRES.sql(statement))

    def _connect(self, url: str, connect_timeout: int) -> psycopg.Connection[Any]:
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
            return psycopg.connect(
                url, autocommit=True, connect_timeout=connect_timeout, application_name="publisher"
            )
        except psycopg.Error as exc:
            raise StateError(
                f"{self.location}: cannot connect to the ledger database "
                f"({redact(str(exc)).strip()}); check the host, the user and the password "
                "variable, and that the server accepts connections from this host"
            ) from None

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
    def _write(self) -> Iterator[psycopg.Cursor[Any]]:
        self._writable()
        with self._lock, self._db.transaction(), self._db.cursor() as cursor:
            yield cursor

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
        with self._lock:
            if (post_id, target) in self._held:
                self._held.discard((post_id, target))
                self._db.execute(
                    "SELECT pg_advisory_unlock(hashtextextended(%s, 0))",
                    (_pair_key(post_id, target),),
                )

    def begin(
        self, post_id: str, target: str, kind: str, key: str, now: datetime, *, expect: Expect = ANY
    ) -> Entry | None:
        """Claim the pair and commit ``sending`` before the request; None if another run has it."""
        self._writable()
        with self._lock:
            if not self._try_claim_lock(post_id, target):
                return None
            try:
                entry = super().begin(post_id, target, kind, key, now, expect=expect)
            except BaseException:
                self._release(post_id, target)
                raise
            if entry is None:
                self._release(post_id, target)
            return entry

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
        super().sent(
            post_id,
            target,
            now,
            remote_id=remote_id,
            remote_url=remote_url,
            http_status=http_status,
            reason=reason,
        )
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
        super().unsent(post_id, target, status, error=error, http_status=http_status)
        self._release(post_id, target)

    def mark_interrupted(self, post_id: str, target: str, error: str) -> bool:
        """A ``sending`` row whose run is gone becomes ``in_doubt``; a live run's row is left."""
        self._writable()
        with self._lock:
            if not self._try_claim_lock(post_id, target):
                return False
            try:
                return super().mark_interrupted(post_id, target, error)
            finally:
                self._release(post_id, target)
