"""A content-hash cache of parsed posts, so a rebuild only re-reads what changed.

Keyed by a hash of the file's bytes and of everything that shapes the result (the read context and
the code version), under the state folder's one cache policy (:mod:`publisher.statecache`: SQLite,
unused rows dropped at commit, a damaged file rebuilt, dry runs read-only). Each file's stat is
kept with its key, so a file whose size, mtime, inode and ctime have not changed is not even read
(:func:`stamp_of`).

The cache is also where post bodies live during a build: a record read from it (or written to it)
gets a :class:`~publisher.posts.model.Body` that reads its text back on use, so only the bodies
being rendered are in memory (issue 12: at 10,000 posts they were most of a build's peak memory).

Each row's entry and body carry a CRC-32 begun with the row's key (a damaged index or rowid can
serve a key another's intact row), checked when read (SQLite checks none of a row's bytes): a
damaged entry is a miss (parsed again), a damaged body dropped (``bodies.py``). A damaged page
("malformed") met anywhere deletes the file; the build goes on without it, a body made again from
its post file.

A read worker whose posts' feed items were rendered as it parsed them (``feeds/early.py``)
stores their entries without their bodies (:meth:`PostCache.put_now`): the body then goes
to a feed only through those items, and is needed again only when an item must be
rendered anew (rare: a tag spelled otherwise across the site, a lost feed item). Its post
file is then read and parsed again (``posts/reread.py``), and the body used only when the
file still has the bytes of the row's key and the HTML the row's digest (issue 12: 120 MB
less to write at 10,000 posts, about 20 us of a worker's CPU per post).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path

from publisher import statecache
from publisher.digests import blake2b, sha256
from publisher.errors import Problem
from publisher.posts.bodies import BodyStore as BodyStore
from publisher.posts.bodies import body_crc as _body_crc
from publisher.posts.bodies import body_of as body_of
from publisher.posts.bodies import detach as detach
from publisher.posts.bodies import entry_crc as _entry_crc
from publisher.posts.model import Body, html_digest
from publisher.sources import code_digest

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)
if TYPE_CHECKING:
    from typing import Any

    from publisher.posts.bodies import Reread

#: The reader's own source and the libraries that shape a parse: a cache written by
#: other code is never reused, even between two commits that share a version number.
_CODE = code_digest(
    "posts", Path(__file__).parent, ("cmarkgfm", "lxml", "PyYAML", "ftfy"), recursive=True
)


def fingerprint(*parts: object) -> str:
    digest = blake2b(_CODE, digest_size=16)
    for part in parts:
        digest.update(b"\0" + repr(part).encode())
    return digest.hexdigest()


def content_key(raw: bytes, context: str) -> str:
    """Key of one file's parse: its bytes, its location and the read context."""
    # SHA-256 (OpenSSL's, with the CPU's SHA instructions) hashes a post in half the time
    # of blake2b (issue 12: a cold build's main process hashes every post file). The key
    # keeps its 40 hex digits.
    digest = sha256(context.encode(), b"\0", raw)  # not b"\0" + raw: a copy of every post
    return digest.hexdigest()[:40]


Entry = tuple[dict[str, "Any"] | None, list[Problem]]  # quoted: typing is not imported at run time
#: An entry as stored: (record and problems as JSON without the body, markdown, HTML,
#: the HTML's digest). The body has columns of its own, so an unchanged post's row is
#: read without decoding (or even fetching) its text.
Encoded = tuple[str, str | None, str | None, bytes | None]

#: ``PRAGMA user_version`` of the layout below; a file with another is emptied first.
SCHEMA_VERSION = 6  # 4: CRC-32s; 5: a row's body may be NULL; 6: CRCs begin with the key
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
#: (index, the HTML's digest) of the entries of a read stored here (:meth:`PostCache.finish`).
Stored = list[tuple[int, bytes | None]]


def _row(key: str, encoded: Encoded) -> Row:
    """The row of ``_INSERT`` storing ``encoded`` under ``key``, its CRCs made."""
    entry, markdown, html, digest = encoded
    crc, body_crc = _entry_crc(key, entry), _body_crc(key, markdown, html)
    return (key, entry, markdown, html, digest, crc, body_crc)


def _row_without_body(key: str, encoded: Encoded) -> Row:
    """:func:`_row` without the body (NULL, and its CRC): read again if asked for."""
    entry, markdown, html, digest = encoded
    if type(markdown) is not str or type(html) is not str or digest is None:
        return _row(key, encoded)
    return (key, entry, None, None, digest, _entry_crc(key, entry), None)


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
        self._stale: list[str] = []  # drop_stale's
        self._store = BodyStore(path, readonly=readonly) if path is not None else None
        if path is None:
            return
        # The state folder's one cache policy (publisher/statecache.py).
        self._db = statecache.open_cache(
            path, _SCHEMA, SCHEMA_VERSION, readonly=readonly, threads=True
        )
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
            except sqlite3.Error as error:
                self._lost(error)
                self.close()

    def empty(self) -> bool:
        """Whether the cache holds no post and no stamp (a cold build's: all parsed)."""
        if self._db is None or self.readonly or self._stamps:
            return False
        try:
            return self._db.execute("SELECT 1 FROM posts LIMIT 1").fetchone() is None
        except sqlite3.Error:
            return False

    def known_key(self, file: str, stamp: str) -> str | None:
        """The content key ``file`` had at the stat ``stamp`` (:func:`stamp_of`), if kept."""
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

    def drop_stale(self, keys: Iterable[str]) -> None:
        """The next :meth:`commit` drops the entries of ``keys`` that are not live."""
        self._stale = [*self._stale, *keys]

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
                    if type(entry) is not str or _entry_crc(key, entry) != crc:
                        continue  # damaged on disk: a miss, parsed again and stored over it
                    record, problems = _decode(entry)
                    if record is not None:
                        if self._store is None or type(digest) is not bytes:
                            raise ValueError(f"entry {key} has no body")
                        load = partial(self._store.load, key, digest)
                        record["body"] = Body(load=load, digest=digest, rendered=True)
                    found[key] = (record, problems)
        except (sqlite3.Error, ValueError, KeyError, TypeError) as error:
            self._lost(error)  # the records found so far: their bodies are made again
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
        except sqlite3.Error as error:
            self._failed = True
            self._lost(error)
        self._pending.clear()

    def put_now(self, rows: Sequence[tuple[str, Encoded]], *, bodies: bool = True) -> bool:
        """Write and commit ``rows`` (key, :func:`encode_entry`'s) at once: a read worker
        stores the posts it parsed, so their bodies never travel to the main process
        (``posts/workers.py``). False when they could not be written. Not synced (a sync
        per chunk made the workers wait): the main process syncs the file (``Writeback``).
        ``bodies`` False: left out (their feed items are made; see the module's docstring)."""
        if self._db is None or self.readonly:
            return False
        make = _row if bodies else _row_without_body
        try:
            self._db.execute("PRAGMA synchronous = OFF")
            with self._db:
                self._db.executemany(_INSERT, [make(key, encoded) for key, encoded in rows])
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
            with self._db:  # one transaction, the entries with the rest: each is four syncs
                self._db.executemany(_INSERT, self._pending)
                if stale is None:
                    statecache.drop_unused(self._db, "posts", "key", keep)
                else:
                    gone = [(key,) for key in {*stale, *self._stale} - keep]
                    self._db.executemany("DELETE FROM posts WHERE key = ?", gone)
                if self._stamps_changed:
                    gone = [(file,) for file in self._stamps_gone]
                    self._db.executemany("DELETE FROM files WHERE file = ?", gone)
                    self._db.executemany(
                        "INSERT OR REPLACE INTO files VALUES (?, ?, ?)", self._stamps_new
                    )
        except sqlite3.Error as error:
            self._failed = True
            self._lost(error)
        self._pending.clear()
        return not self._failed

    def finish(
        self,
        stamps: dict[str, tuple[str, str]],
        keys: Sequence[str],
        *,
        some: bool,
        done: tuple[Sequence[Entry | None], Stored],
    ) -> Callable[[], None]:
        """The end of a read: each file's stamp kept (``some``: the read had only these
        files, the others stay as they are), the entries of ``keys`` committed, and the
        bodies of the entries stored here (``done``: every entry, and (index, digest) of
        those) dropped once they are in. With none to drop (a parallel read's workers
        stored theirs), committed by a thread: its sync waits on the disk while the
        rules across posts run (5 to 15 ms, more on a busy disk, issue 12). Returns what
        waits for it: nothing else may use this cache until then."""
        entries, stored = done
        if some:
            self.keep(stamps)
        else:
            self.remember(stamps)
        stale = () if some else None
        if stored or self._db is None:
            if self.commit(keys, stale=stale):
                self.detach(entries, keys, stored)
            return lambda: None
        errors: list[BaseException] = []

        def run() -> None:
            try:
                self.commit(keys, stale=stale)
            except BaseException as error:  # raised by the caller's wait
                errors.append(error)

        thread = threading.Thread(target=run, name="post cache commit")
        thread.start()

        def wait() -> None:
            thread.join()
            if errors:
                raise errors[0]

        return wait

    def detach(self, entries: Sequence[Entry | None], keys: Sequence[str], stored: Stored) -> None:
        """Drop the bodies of the ``stored`` entries from memory, now that they are in the
        cache (issue 12): read back from it when used. Empties ``stored``."""
        store = self.store()
        for index, digest in stored:
            entry = entries[index]
            if store is not None and entry is not None and entry[0] is not None:
                detach(entry[0], store, keys[index], digest)
        stored.clear()

    def store(self) -> BodyStore | None:
        """Where records this cache holds can read their bodies back, if anywhere."""
        return self._store if self._db is not None else None

    def reads_with(self, reread: Reread) -> None:
        """What reads a post again when a body stored without its text is asked for
        (``read_posts`` hands it the files it found: ``posts/reread.py``)."""
        if self._store is not None:
            self._store.reread = reread

    def _lost(self, error: BaseException) -> None:
        """A file ``error`` says is damaged is deleted: this build goes on without it."""
        if self._store is not None and self._store.mend(error):
            self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


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
