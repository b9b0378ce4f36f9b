"""A content-hash cache of parsed posts, so a rebuild only re-reads what changed.

Keyed by a hash of the file's bytes and of everything that shapes the result (the read
context and the publisher version). Stored in SQLite, which keeps the file consistent if
the process is killed mid-write. A cache that cannot be opened is rebuilt, never fatal.

The cache is also where post bodies live during a build: a record read from it (or
written to it) gets a :class:`~publisher.posts.model.Body` that reads its text back from
the database on use, so only the bodies being rendered are in memory (issue 12: at
10,000 posts they were most of a build's peak memory).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from publisher import __version__
from publisher.errors import Problem, StateError
from publisher.posts.model import Body, html_digest


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
        self._failed = False  # an entry could not be written: its body must stay in memory
        self._store = BodyStore(path) if path is not None else None
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
                    record, problems = _decode(entry)
                    if record is not None and self._store is not None:
                        detach(record, self._store, key)
                    found[key] = (record, problems)
        except (sqlite3.Error, ValueError, KeyError, TypeError):
            return {}
        return found

    def put(self, key: str, entry: Entry) -> None:
        self.put_encoded(key, encode_entry(entry))

    def put_encoded(self, key: str, encoded: str) -> bool:
        """Queue an entry made by :func:`encode_entry`; written and committed in batches.
        True when this call wrote a batch: every entry queued so far is in the database
        and the caller may :func:`detach` their bodies."""
        if self._db is None or self.readonly:
            return False
        self._pending.append((key, encoded))
        if len(self._pending) >= 500:
            self._flush()
            return not self._failed
        return False

    def _flush(self) -> None:
        # Committed batch by batch, so the bodies of a cold build's posts can be read back
        # (and dropped from memory) while the rest are still being parsed.
        assert self._db is not None
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO posts VALUES (?, ?)", self._pending)
        except sqlite3.Error:
            self._failed = True
        self._pending.clear()

    def commit(self, live_keys: Iterable[str]) -> bool:
        """Store new entries and drop the ones no current file has; True when every
        entry queued since the cache was opened is now in the database."""
        if self._db is None or self.readonly:
            return False
        keep = set(live_keys)
        try:
            with self._db:
                self._flush()
                stale = [k for (k,) in self._db.execute("SELECT key FROM posts") if k not in keep]
                self._db.executemany("DELETE FROM posts WHERE key = ?", [(k,) for k in stale])
        except sqlite3.Error:
            self._failed = True
        self._pending.clear()
        return not self._failed

    def store(self) -> BodyStore | None:
        """Where records this cache holds can read their bodies back, if anywhere."""
        return self._store if self._db is not None else None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class BodyStore:
    """Reads post bodies back from the cache file, through one connection per
    :class:`PostCache` (so per build), opened on first use: a cache file deleted and
    rebuilt by a later build in the same process is read through a connection of its own.
    Pickled (to a worker process) it is just the path.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "_db": None}

    def load(self, key: str) -> tuple[str, str]:
        """``(markdown, html)`` of the record stored under ``key``."""
        try:
            row = (
                self._connection()
                .execute("SELECT entry FROM posts WHERE key = ?", (key,))
                .fetchone()
            )
            record = json.loads(row[0])["record"] if row is not None else None
            if record is not None:
                return record["body_markdown"], record["body_html"]
        except (sqlite3.Error, OSError, ValueError, KeyError, TypeError):
            pass
        raise StateError(
            f"{self.path}: a post body read earlier in this build is gone from the post "
            "cache (was the state folder changed by another run?); run the build again"
        )

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        return self._db


def detach(record: dict[str, Any], store: BodyStore, key: str) -> None:
    """Swap ``record``'s body text for a :class:`Body` read back from ``store`` on use."""
    markdown, html = record.pop("body_markdown"), record.pop("body_html")
    del markdown
    record["body"] = Body(load=lambda: store.load(key), digest=html_digest(html))


def body_of(record: dict[str, Any]) -> Body:
    """The body of a record: detached (see :func:`detach`) or still held in it."""
    body = record.get("body")
    if isinstance(body, Body):
        return body
    return Body(record["body_markdown"], record["body_html"])


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
