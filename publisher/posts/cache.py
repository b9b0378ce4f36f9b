"""A content-hash cache of parsed posts, so a rebuild only re-reads what changed.

Keyed by a hash of the file's bytes and of everything that shapes the result (the read
context and the code version), under the state folder's one cache policy
(:mod:`publisher.statecache`: SQLite, unused rows dropped at commit, a damaged file
rebuilt, dry runs read-only). Each file's stat is kept with its key, so a file whose
size, mtime, inode and ctime have not changed is not even read (:func:`stamp_of`).

The cache is also where post bodies live during a build: a record read from it (or
written to it) gets a :class:`~publisher.posts.model.Body` that reads its text back from
the database on use, so only the bodies being rendered are in memory (issue 12: at
10,000 posts they were most of a build's peak memory).

Each row carries a CRC-32 of its entry and one of its body, checked when each is read:
SQLite checks none of a row's bytes, and a byte a bad disk block changed must not reach
a feed. A damaged entry is a miss (the file is parsed again); a damaged body, found only
when it is used, is dropped and stops the build with a message to run it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from publisher import statecache
from publisher.errors import Problem, StateError
from publisher.posts.model import Body, html_digest
from publisher.statecache import code_version

#: The reader's own source and the libraries that shape a parse: a cache written by
#: other code is never reused, even between two commits that share a version number.
_CODE = code_version(
    sorted(Path(__file__).parent.rglob("*.py")), ("cmarkgfm", "lxml", "PyYAML", "ftfy")
)


def fingerprint(*parts: object) -> str:
    digest = hashlib.blake2b(_CODE, digest_size=16)
    for part in parts:
        digest.update(b"\0" + repr(part).encode())
    return digest.hexdigest()


def content_key(raw: bytes, context: str) -> str:
    """Key of one file's parse: its bytes, its location and the read context."""
    # SHA-256 (OpenSSL's, with the CPU's SHA instructions) hashes a post in half the time
    # of blake2b (issue 12: a cold build's main process hashes every post file). The key
    # keeps its 40 hex digits.
    digest = hashlib.sha256(context.encode())
    digest.update(b"\0")
    digest.update(raw)  # not b"\0" + raw: a copy of every post file
    return digest.hexdigest()[:40]


Entry = tuple[dict[str, Any] | None, list[Problem]]
#: An entry as stored: (record and problems as JSON without the body, markdown, HTML,
#: the HTML's digest). The body has columns of its own, so an unchanged post's row is
#: read without decoding (or even fetching) its text.
Encoded = tuple[str, str | None, str | None, bytes | None]

#: ``PRAGMA user_version`` of the layout below; a file with another is emptied first.
SCHEMA_VERSION = 4  # 4: the CRC-32 columns
_SCHEMA = (
    # The digest before the body: reading a row without its body then stops before the
    # body's overflow pages (at 10,000 posts, 100 MB of pages not walked).
    "CREATE TABLE IF NOT EXISTS posts (key TEXT PRIMARY KEY, entry TEXT NOT NULL,"
    " crc INTEGER, digest BLOB, markdown TEXT, html TEXT, body_crc INTEGER)",
    # What each post file's bytes hashed to, by its stat: an unchanged file is not read.
    "CREATE TABLE IF NOT EXISTS files (file TEXT PRIMARY KEY, stamp TEXT NOT NULL,"
    " key TEXT NOT NULL)",
)


_INSERT = (
    "INSERT OR REPLACE INTO posts (key, entry, markdown, html, digest, crc, body_crc)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
Row = tuple[str, str, str | None, str | None, bytes | None, int, int | None]


def _row(key: str, encoded: Encoded) -> Row:
    """The row of ``_INSERT`` storing ``encoded`` under ``key``, its CRCs made."""
    entry, markdown, html, digest = encoded
    return (key, entry, markdown, html, digest, _entry_crc(entry), _body_crc(markdown, html))


def _entry_crc(entry: str) -> int:
    return zlib.crc32(entry.encode("utf-8", "surrogatepass"))


def _body_crc(markdown: object, html: object) -> int | None:
    """The CRC-32 of a body; None for a row with none or one not of text."""
    if type(markdown) is not str or type(html) is not str:
        return None
    crc = zlib.crc32(b"\0", zlib.crc32(markdown.encode("utf-8", "surrogatepass")))
    return zlib.crc32(html.encode("utf-8", "surrogatepass"), crc)  # = crc32(b"\0" + html)


class PostCache:
    """Read-through cache; ``readonly`` (dry runs) reads but never writes."""

    def __init__(
        self, path: Path | None, *, readonly: bool = False, files: Sequence[str] | None = None
    ) -> None:
        """``files``: the only post files whose stamps will be asked for (a build that
        reads only the changed posts); None: every file's."""
        self.path = path
        self.readonly = readonly
        self._db: sqlite3.Connection | None = None
        self._pending: list[Row] = []
        self._stamps: dict[str, tuple[str, str]] = {}
        self._failed = False  # an entry could not be written: its body must stay in memory
        self._stamps_changed = False
        self._stamps_gone: list[str] = []
        self._stamps_new: list[tuple[str, str, str]] = []
        self._store = BodyStore(path) if path is not None else None
        if path is None:
            return
        # The state folder's one cache policy (publisher/statecache.py).
        self._db = statecache.open_cache(path, _SCHEMA, SCHEMA_VERSION, readonly=readonly)
        if self._db is not None:
            try:
                if files is None:
                    rows = self._db.execute("SELECT file, stamp, key FROM files").fetchall()
                else:
                    rows = []
                    for start in range(0, len(files), 500):
                        chunk = files[start : start + 500]
                        rows += self._db.execute(
                            "SELECT file, stamp, key FROM files WHERE file IN"
                            f" ({','.join('?' * len(chunk))})",
                            chunk,
                        ).fetchall()
                self._stamps = {file: (stamp, key) for file, stamp, key in rows}
            except sqlite3.Error:
                self.close()

    def known_key(self, file: str, stamp: str) -> str | None:
        """The content key ``file`` had when its stat was ``stamp`` (see :func:`stamp_of`),
        if the cache remembers it."""
        found = self._stamps.get(file)
        return found[1] if found is not None and found[0] == stamp else None

    def remember(self, stamps: dict[str, tuple[str, str]]) -> None:
        """Keep each file's (stamp, content key) for the next build, from the next
        :meth:`commit` on; files not in ``stamps`` are forgotten."""
        if stamps == self._stamps:
            return
        # Only the rows that changed are written (10,000 rows rewritten for one post
        # edited were a tenth of a second).
        self._stamps_gone = [file for file in self._stamps if file not in stamps]
        self._stamps_new = [
            (file, *value) for file, value in stamps.items() if self._stamps.get(file) != value
        ]
        self._stamps = dict(stamps)
        self._stamps_changed = True

    def keep(self, stamps: dict[str, tuple[str, str]], gone: Iterable[str] = ()) -> None:
        """:meth:`remember` for some files only: ``stamps`` are kept, the files ``gone``
        forgotten, every other file's stamp stays as it is."""
        self._stamps_gone = [*self._stamps_gone, *gone]
        self._stamps_new = [*self._stamps_new, *((file, *value) for file, value in stamps.items())]
        self._stamps.update(stamps)
        self._stamps_changed = True

    def get_many(self, keys: Sequence[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        if self._db is None:
            return found
        try:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, entry, crc, digest FROM posts WHERE key IN ({marks})", chunk
                )
                for key, entry, crc, digest in rows:
                    if type(entry) is not str or _entry_crc(entry) != crc:
                        continue  # damaged on disk: a miss, parsed again and stored over it
                    record, problems = _decode(entry)
                    if record is not None:
                        if self._store is None or type(digest) is not bytes:
                            raise ValueError(f"entry {key} has no body")
                        record["body"] = Body(
                            load=partial(self._store.load, key), digest=digest, rendered=True
                        )
                    found[key] = (record, problems)
        except (sqlite3.Error, ValueError, KeyError, TypeError):
            return {}
        return found

    def put(self, key: str, entry: Entry) -> None:
        self.put_encoded(key, encode_entry(entry))

    def put_encoded(self, key: str, encoded: Encoded) -> bool:
        """Queue an entry made by :func:`encode_entry`; written and committed in batches.
        True when this call wrote a batch: every entry queued so far is in the database
        and the caller may :func:`detach` their bodies."""
        if self._db is None or self.readonly:
            return False
        self._pending.append(_row(key, encoded))
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
                self._db.executemany(_INSERT, self._pending)
        except sqlite3.Error:
            self._failed = True
        self._pending.clear()

    def put_now(self, rows: Sequence[tuple[str, Encoded]]) -> bool:
        """Write and commit ``rows`` (key, :func:`encode_entry`'s) at once: a read worker
        stores the posts it parsed, so their bodies never travel to the main process
        (``posts/workers.py``). False when they could not be written. Not synced to the
        disk (a sync per chunk made the workers wait): the main process syncs the file
        meanwhile (``Writeback`` there)."""
        if self._db is None or self.readonly:
            return False
        try:
            self._db.execute("PRAGMA synchronous = OFF")
            with self._db:
                self._db.executemany(_INSERT, [_row(key, encoded) for key, encoded in rows])
        except sqlite3.Error:
            return False
        return True

    def commit(self, live_keys: Iterable[str], *, stale: Iterable[str] | None = None) -> bool:
        """Store new entries and drop the ones no current file has; True when every
        entry queued since the cache was opened is now in the database. ``stale``: the
        only keys that may have gone out of use (a build that read only the changed
        posts), so the others are not looked at."""
        if self._db is None or self.readonly:
            return False
        keep = set(live_keys)
        try:
            with self._db:
                self._flush()
                if stale is None:
                    statecache.drop_unused(self._db, "posts", "key", keep)
                else:
                    gone = [(key,) for key in set(stale) - keep]
                    self._db.executemany("DELETE FROM posts WHERE key = ?", gone)
                if self._stamps_changed:
                    gone = [(file,) for file in self._stamps_gone]
                    self._db.executemany("DELETE FROM files WHERE file = ?", gone)
                    self._db.executemany(
                        "INSERT OR REPLACE INTO files VALUES (?, ?, ?)", self._stamps_new
                    )
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
                .execute("SELECT markdown, html, body_crc FROM posts WHERE key = ?", (key,))
                .fetchone()
            )
            if row is not None and type(row[0]) is str and type(row[1]) is str:
                if _body_crc(row[0], row[1]) == row[2]:
                    return row[0], row[1]
                self._drop(key)
                raise StateError(
                    f"{self.path}: a post body stored there was damaged on disk (its checksum"
                    " does not match); it was dropped: run the build again to parse its post"
                )
        except (sqlite3.Error, OSError):
            pass
        raise StateError(
            f"{self.path}: a post body read earlier in this build is gone from the post "
            "cache (was the state folder changed by another run?); run the build again"
        )

    def _drop(self, key: str) -> None:
        """Delete the row of ``key`` (best effort), so the next build parses its post."""
        try:
            with contextlib.closing(sqlite3.connect(self.path, timeout=1)) as db, db:
                db.execute("DELETE FROM posts WHERE key = ?", (key,))
        except sqlite3.Error:
            pass

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        return self._db


def detach(record: dict[str, Any], store: BodyStore, key: str, digest: bytes | None = None) -> None:
    """Swap ``record``'s body text for a :class:`Body` read back from ``store`` on use;
    ``digest``: its HTML's :func:`html_digest`, if known (:func:`encode_entry` made it)."""
    markdown, html = record.pop("body_markdown"), record.pop("body_html")
    del markdown
    if digest is None:
        digest = html_digest(html)
    record["body"] = Body(load=lambda: store.load(key), digest=digest, rendered=True)


def body_of(record: dict[str, Any]) -> Body:
    """The body of a record: detached (see :func:`detach`) or still held in it."""
    body = record.get("body")
    if isinstance(body, Body):
        return body
    # The reader's record: its HTML is the rendering of its markdown.
    return Body(record["body_markdown"], record["body_html"], rendered=True)


def encode_entry(entry: Entry) -> Encoded:
    record, problems = entry
    markdown = html = digest = None
    if record is not None:
        markdown, html = record["body_markdown"], record["body_html"]
        record = record.copy()  # the same order as a dict made without the two
        del record["body_markdown"], record["body_html"]
        digest = html_digest(html)
    text = _ENCODER.encode({"record": record, "problems": [p.as_dict() for p in problems]})
    return text, markdown, html, digest


#: What ``json.dumps(..., ensure_ascii=False, default=str)`` builds on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def stamp_of(st: os.stat_result, context: str) -> str:
    """What identifies a post file's bytes without reading them: its size, mtime, inode
    and ctime, and the read context its key was made in."""
    return f"{context}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}"


def _decode(text: str) -> Entry:
    data = json.loads(text)
    problems = [Problem(**p) for p in data["problems"]]
    return data["record"], problems
