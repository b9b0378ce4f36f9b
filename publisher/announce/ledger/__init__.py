"""The announcement ledger: one row per (post id, target), written as it happens.

The public seam of the package; import from here, not from its modules::

    model.py     Entry, Status, the LedgerStore contract, ANY/Expect, LockHeld
    sql.py       every statement, written once for both dialects, and SQLLedger on top
    sqlite.py    Ledger: a SQLite file in state.folder; RunLock: one run at a time
    postgres.py  PostgresLedger: a postgresql:// URL shared by many hosts (needs psycopg)

:func:`open_ledger` picks a backend from the location. ``begin`` with ``expect`` is a
claim: it succeeds only while the row is still in the state the planner saw, so two runs
that planned the same post never both send it. :class:`RunLock` keeps two runs on one
SQLite file (cron plus a manual one) from sending at once.
"""

from __future__ import annotations

from pathlib import Path

from publisher.announce.ledger.model import (
    ANY,
    SCHEMA_VERSION,
    Entry,
    Expect,
    LedgerStore,
    LockHeld,
    Status,
    is_database_url,
)
from publisher.announce.ledger.sqlite import APPLICATION_ID, Ledger, RunLock, check_file
from publisher.errors import StateError

__all__ = [
    "ANY",
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "Entry",
    "Expect",
    "Ledger",
    "LedgerStore",
    "LockHeld",
    "RunLock",
    "Status",
    "check_file",
    "is_database_url",
    "open_ledger",
]


def open_ledger(location: str | Path, *, readonly: bool = False) -> LedgerStore:
    """The ledger at ``location``: a ``postgresql://`` URL, else a SQLite file path."""
    if is_database_url(location):
        try:
            # Imported here: psycopg is an optional dependency (publisher[postgres]).
            from publisher.announce.ledger.postgres import PostgresLedger
        except ImportError:
            raise StateError(
                "state.ledger: a postgresql:// ledger needs psycopg; "
                "install it with: pip install 'publisher[postgres]'"
            ) from None
        return PostgresLedger(str(location), readonly=readonly)
    return Ledger(Path(location), readonly=readonly)
