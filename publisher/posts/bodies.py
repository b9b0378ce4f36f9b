"""Post bodies read back from the post cache (``cache.sqlite``) when they are used.

A record the post cache holds (or a read worker stored there) gets a
:class:`~publisher.posts.model.Body` that reads its text back through a
:class:`BodyStore` on each use, so only the bodies being rendered are in memory (issue 12).
Each body carries a CRC-32, checked when it is read: a damaged one is dropped and stops
the build with a message to run it again (the next build parses its post afresh).

A body SQLite cannot read back (a damaged page of the file: "database disk image is
malformed", text that is no longer UTF-8, the file gone) is made again from its post file
like a body-less row's, so the build that meets the damage goes on; a damaged file is
deleted (:func:`statecache.discard`, the state folder's policy: a cache, rebuilt by the
next build), a row SQLite can still delete is dropped.

A row stored without its body (a read worker's whose feed items were made as it parsed:
``PostCache.put_now``) has its body made again when asked for: the post file read and
parsed again by what the build's read hands in (``posts/reread.py``), used only when the
file still has the bytes of the row's key and the HTML the digest the row keeps.
"""

from __future__ import annotations

import contextlib
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path

from publisher import statecache
from publisher.errors import StateError
from publisher.posts.model import Body, html_digest

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any, NoReturn

#: (key, the HTML's digest) -> the body ``(markdown, html)`` of a row stored without it,
#: made again from its post file; raises StateError when it cannot be (``reread.py``).
Reread = Callable[[str, bytes], tuple[str, str]]


#: The cache files this process deleted as damaged: a row gone from one was not taken by
#: another run, and its body is made again (a file a later cache of the build made anew).
_DISCARDED: set[Path] = set()


def damaged(error: BaseException) -> bool:
    """Whether ``error`` says a file's pages are damaged (SQLite's ``SQLITE_CORRUPT``,
    ``SQLITE_NOTADB``), not that it is busy, locked, full or gone."""
    name = getattr(error, "sqlite_errorname", None)
    return isinstance(error, sqlite3.DatabaseError) and str(name).startswith(
        ("SQLITE_CORRUPT", "SQLITE_NOTADB")
    )


def discard(path: Path) -> None:
    """Delete the damaged cache file at ``path`` (its journal too): the connections of
    this build that have it open still read it; the next build makes it anew."""
    _DISCARDED.add(path)
    statecache.discard(path)


def entry_crc(key: str, entry: str) -> int:
    return zlib.crc32(entry.encode("utf-8", "surrogatepass"), statecache.key_crc(key))


def body_crc(key: str, markdown: object, html: object) -> int | None:
    """The CRC-32 of a body stored under ``key``; None for a row with none or one not of text."""
    if type(markdown) is not str or type(html) is not str:
        return None
    crc = zlib.crc32(markdown.encode("utf-8", "surrogatepass"), statecache.key_crc(key))
    # = crc32(key + NUL + markdown + NUL + html), without joining the texts
    return zlib.crc32(html.encode("utf-8", "surrogatepass"), zlib.crc32(b"\0", crc))


class BodyStore:
    """Reads post bodies back from the cache file, through one connection per
    :class:`PostCache` (so per build), opened on first use: a cache file deleted and
    rebuilt by a later build in the same process is read through a connection of its own.
    Pickled (to a worker process) it is just the path.
    """

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly  # a dry run's: never writes, never deletes
        self._db: sqlite3.Connection | None = None
        #: What makes a body stored without its text again (:meth:`PostCache.reads_with`).
        self.reread: Reread | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "readonly": self.readonly, "_db": None, "reread": None}

    def load(self, key: str, digest: bytes | None = None) -> tuple[str, str]:
        """``(markdown, html)`` of the record stored under ``key``; ``digest``: its HTML's
        :func:`html_digest`, if the caller knows it (checks a body made again)."""
        try:
            row = (
                self._connection()
                .execute("SELECT markdown, html, body_crc, digest FROM posts WHERE key = ?", (key,))
                .fetchone()
            )
        except (sqlite3.Error, OSError) as error:
            return self._unreadable(key, digest, error)
        if row is not None and row[0] is None and row[1] is None and type(row[3]) is bytes:
            return self._again(key, row[3])
        if row is not None and type(row[0]) is str and type(row[1]) is str:
            if body_crc(key, row[0], row[1]) == row[2]:
                return row[0], row[1]
            self._damaged(key)
        if row is None and self.path in _DISCARDED and self.reread is not None:
            return self._again(key, digest)  # the file was deleted as damaged and made anew
        raise StateError(
            f"{self.path}: a post body read earlier in this build is gone from the post "
            "cache (was the state folder changed by another run?); run the build again"
        )

    def mend(self, error: BaseException) -> bool:
        """Whether ``error`` says the file is damaged; it is then deleted (not in a dry run:
        a dry run goes on without it too)."""
        if not damaged(error):
            return False
        if not self.readonly:
            discard(self.path)
        return True

    def _unreadable(self, key: str, digest: bytes | None, error: BaseException) -> tuple[str, str]:
        """The body of ``key``, whose row SQLite could not read (``error``): made again
        from its post file, the damage cleared for the next build (the file deleted, or
        the row dropped)."""
        if digest is None:
            digest = self._digest(key)
        if not self.mend(error):  # the row's bytes (not UTF-8), a lock, the file gone
            self._drop(key)  # best effort
        if self.reread is None:  # not asked for by a read: never so in a build
            raise StateError(
                f"{self.path}: a post body stored there could not be read ({error}); run"
                " the build again"
            )
        return self._again(key, digest)

    def _digest(self, key: str) -> bytes | None:
        """The digest a row keeps of its HTML, if it can be read (before the body's
        columns: a damaged body's overflow pages are not walked)."""
        try:
            row = (
                self._connection()
                .execute("SELECT digest FROM posts WHERE key = ?", (key,))
                .fetchone()
            )
        except (sqlite3.Error, OSError):
            return None
        return row[0] if row is not None and type(row[0]) is bytes else None

    def _again(self, key: str, digest: bytes | None) -> tuple[str, str]:
        """The body of a row stored without it (or not readable), made again from its
        post file; its HTML checked against ``digest``, when known (else the file's bytes,
        those of the row's key, are the check: the parse is the one the row was made by)."""
        if self.reread is None:  # not asked for by a read: never so in a build
            self._drop(key)
            raise StateError(
                f"{self.path}: a post body stored there without its text was asked for"
                " outside a read of the posts; it was dropped: run the build again"
            )
        body = self.reread(key, digest or b"")  # (the reader does not look at it)
        if digest is not None and html_digest(body[1]) != digest:
            # Not the HTML the reader made when the row was stored: never used.
            self._drop(key)
            raise StateError(
                f"{self.path}: a post read again for its body gave other HTML than when"
                " it was stored; its entry was dropped: run the build again"
            )
        return body

    def _damaged(self, key: str) -> NoReturn:
        """Drop the row of ``key`` and stop the build: its body cannot be used."""
        self._drop(key)
        raise StateError(
            f"{self.path}: a post body stored there was damaged on disk (its checksum"
            " does not match); it was dropped: run the build again to parse its post"
        )

    def _drop(self, key: str) -> None:
        """Delete the row of ``key`` (best effort), so the next build parses its post."""
        if self.readonly:
            return
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
    record["body"] = Body(load=lambda: store.load(key, digest), digest=digest, rendered=True)


def body_of(record: dict[str, Any]) -> Body:
    """The body of a record: detached (see :func:`detach`) or still held in it."""
    body = record.get("body")
    if isinstance(body, Body):
        return body
    # The reader's record: its HTML is the rendering of its markdown.
    return Body(record["body_markdown"], record["body_html"], rendered=True)
