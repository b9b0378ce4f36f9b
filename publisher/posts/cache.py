"""A content-hash cache of parsed posts, so a rebuild only re-reads what changed.

Keyed by a hash of the file's bytes and of everything that shapes the result (the read
context and the publisher version). Stored in SQLite, which keeps the file consistent if
the process is killed mid-write. A cache that cannot be opened is rebuilt, never fatal.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from publisher import __version__
from publisher.errors import Problem


def _code_hash() -> bytes:
    """The reader's own source: a cache written by other code is never reused, even
    between two commits that share a version number."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.digest()


_CODE = _code_hash()


def fingerprint(*parts: object) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(__version__.encode() + _CODE)
    for part in parts:
        digest.update(b"\0" + repr(part).encode())
    return digest.hexdigest()


def content_key(raw: bytes, context: str) -> str:
    """Key of one file's parse: its bytes, its location and the read context."""
    digest = hashlib.blake2b(context.encode(), digest_size=20)
    digest.update(b"\0" + raw)
    return digest.hexdigest()


Entry = tuple[dict[str, Any] | None, list[Problem]]


class PostCache:
    """Read-through cache; ``readonly`` (dry runs) reads but never writes."""

    def __init__(self, path: Path | None, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, str]] = []
        if path is None:
            return
        if readonly and not path.exists():
            return
        try:
            if not readonly:
                path.parent.mkdir(parents=True, exist_ok=True)
            uri = f"{path.resolve().as_uri()}{'?mode=ro' if readonly else ''}"
            self._db = sqlite3.connect(uri, uri=True)
            # The default rollback journal, not WAL: a read-only open (dry run) then
            # creates no -wal/-shm files beside the database.
            if not readonly:
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS posts (key TEXT PRIMARY KEY, entry TEXT NOT NULL)"
                )
        except sqlite3.Error:
            self._db = None

    def get_many(self, keys: Sequence[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        if self._db is None:
            return found
        try:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, entry FROM posts WHERE key IN ({marks})", chunk
                )
                for key, entry in rows:
                    found[key] = _decode(entry)
        except (sqlite3.Error, ValueError, KeyError, TypeError):
            return {}
        return found

    def put(self, key: str, entry: Entry) -> None:
        self.put_encoded(key, encode_entry(entry))

    def put_encoded(self, key: str, encoded: str) -> None:
        """Queue an entry made by :func:`encode_entry`; written in batches, committed once."""
        if self._db is None or self.readonly:
            return
        self._pending.append((key, encoded))
        if len(self._pending) >= 500:
            self._flush()

    def _flush(self) -> None:
        assert self._db is not None
        with contextlib.suppress(sqlite3.Error):
            self._db.executemany("INSERT OR REPLACE INTO posts VALUES (?, ?)", self._pending)
        self._pending.clear()

    def commit(self, live_keys: Iterable[str]) -> None:
        """Store new entries and drop the ones no current file has."""
        if self._db is None or self.readonly:
            return
        keep = set(live_keys)
        try:
            with self._db:
                self._flush()
                stale = [k for (k,) in self._db.execute("SELECT key FROM posts") if k not in keep]
                self._db.executemany("DELETE FROM posts WHERE key = ?", [(k,) for k in stale])
        except sqlite3.Error:
            pass
        self._pending.clear()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def encode_entry(entry: Entry) -> str:
    record, problems = entry
    return json.dumps(
        {"record": record, "problems": [p.as_dict() for p in problems]},
        ensure_ascii=False,
        default=str,
    )


def _decode(text: str) -> Entry:
    data = json.loads(text)
    problems = [Problem(**p) for p in data["problems"]]
    return data["record"], problems
