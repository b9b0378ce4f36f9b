"""Rendered feed items kept between builds, so a rebuild renders only the posts that changed.

Each post's ``<item>`` (RSS), ``<entry>`` (Atom) and JSON Feed item are stored under its id
with a key: a hash of every field of the post (or of the reader's digest of what it was
made from: ``Post.origin``), its og image file's size, mtime, inode and ctime, the site,
the feed options and the code that renders them (this package's source, the URL rules it borrows, and the
publisher, feedgen, lxml, libxml2 and nh3 versions). A stored item whose key differs is
rendered again. Each RSS and Atom feed's head (the document
without its entries) is kept the same way, keyed by everything it says.

The file follows the state folder's one cache policy (:mod:`publisher.statecache`): SQLite,
keys that hash every input and the code version, rows a build did not ask for deleted at
its commit, a damaged file rebuilt, a dry run reading only.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from pathlib import Path

from lxml import etree

from publisher import statecache
from publisher.config import SiteConfig
from publisher.feeds import formats as registry
from publisher.feeds.options import FeedOptions
from publisher.posts import components as post_components
from publisher.posts import fields as post_fields
from publisher.posts import mdx as post_mdx
from publisher.posts.model import Post
from publisher.statecache import code_version

CACHE_FILE = "feeds.sqlite"
#: Seconds to wait for another build that holds the file before going on without it.
LOCK_TIMEOUT = statecache.LOCK_TIMEOUT
#: The layout of the file (``PRAGMA user_version``; see :mod:`publisher.statecache`).
LAYOUT = 1
#: A column per format registered when the layout was made; a format registered later
#: (a test's) is kept in memory for the build only.
KINDS = registry.names()

#: Rendered items: format (``rss``, ``atom``, ``json``) -> post id -> the item's bytes.
Fragments = dict[str, dict[str, bytes]]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, key TEXT NOT NULL, {})".format(
        ", ".join(f"{kind} BLOB" for kind in KINDS)
    ),
    "CREATE TABLE IF NOT EXISTS heads (key TEXT PRIMARY KEY, shell BLOB NOT NULL)",
)
# Every compared field of a post, so a field added to Post later is part of the key unasked,
# except the markdown: the feeds show the HTML rendered from it. The HTML is hashed as
# bytes, which is far cheaper than hashing its repr.
_POST_VALUES = attrgetter(*(f.name for f in fields(Post) if f.compare and f.name != "body"))


def _code_hash() -> bytes:
    # The URL rules, and the iframes the sanitizer turns into links, come from posts/.
    borrowed = [Path(str(m.__file__)) for m in (post_fields, post_mdx, post_components)]
    sources = [*sorted(Path(__file__).parent.glob("*.py")), *borrowed]
    digest = hashlib.sha256(code_version(sources, ("feedgen", "lxml", "nh3")))
    digest.update(f"\0libxml2 {etree.LIBXML_VERSION}".encode())
    return digest.digest()


_CODE = _code_hash()


def context_key(site: SiteConfig, options: FeedOptions) -> bytes:
    """What shapes every item of a build besides the post: the code, the site, the options."""
    digest = hashlib.sha256(_CODE)
    digest.update(repr((site, options)).encode())
    return digest.digest()


def post_key(post: Post, context: bytes) -> str:
    """The key of ``post``'s fragments in a build with ``context`` (:func:`context_key`)."""
    if post.origin is not None:
        # The reader's digest of what made the post (its file's content key, path, og
        # image and its stat, tags): as good as every field's repr and far cheaper.
        return hashlib.sha256(context + b"\0origin\0" + post.origin).hexdigest()
    image = None
    if post.og_image is not None:
        try:
            stat = post.og_image.stat()
            image = (stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns)
        except OSError:
            pass
    digest = hashlib.sha256(context)
    digest.update(repr((_POST_VALUES(post), image)).encode())  # a repr ends unambiguously
    digest.update(post.body.digest)  # the HTML's own digest: no body is read here
    return digest.hexdigest()


def head_key(context: bytes, kind: str, head: object, updated: datetime | None) -> str:
    """The key of a feed's head document (``rss_atom.render_head``)."""
    digest = hashlib.sha256(context)
    digest.update(repr((kind, head, updated)).encode())
    return digest.hexdigest()


class FeedCache:
    """Rendered items by post id and feed heads by key, read at once by :meth:`load`.

    ``path`` None keeps nothing; ``readonly`` (dry runs) reads but never writes. Whatever
    this build did not ask for is dropped by :meth:`commit`.
    """

    def __init__(self, path: Path | None, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._db: sqlite3.Connection | None = None
        self._heads: dict[str, bytes] = {}
        self._stored_items: set[str] = set()
        self._live_items: set[str] = set()
        self._live_heads: set[str] = set()
        self._new_items: list[tuple[str | bytes | None, ...]] = []
        #: Post ids whose stored key still holds (:meth:`load`), and new items that could
        #: not go to the database yet (no file, a dry run, a write error): by kind, by id.
        self.hits: set[str] = set()
        self._held: Fragments = {}
        self._written = False  # new items inserted, to be committed by :meth:`commit`
        self._new_heads: list[tuple[str, bytes]] = []
        if path is not None:
            self._db = statecache.open_cache(
                path, _SCHEMA, LAYOUT, readonly=readonly, timeout=LOCK_TIMEOUT
            )

    def _rebuild(self, error: Exception) -> None:
        """Start over with an empty file; in a dry run, or while another build holds the
        file, go on without a cache."""
        self.close()
        self._heads.clear()
        self._stored_items.clear()
        busy = getattr(error, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
        if self.readonly or self.path is None or busy:
            return
        statecache.discard(self.path)
        self._db = statecache.open_cache(
            self.path, _SCHEMA, LAYOUT, readonly=False, timeout=LOCK_TIMEOUT
        )

    def load(
        self, keys: Mapping[str, str], kinds: Collection[str], *, contents: bool = True
    ) -> Fragments:
        """The stored items in each of ``kinds`` of the posts in ``keys`` (id -> key) whose
        key still holds; and every stored head, for :meth:`head`. With ``contents`` False
        the items are only checked (:attr:`hits`), not read: :meth:`items` reads them."""
        self._live_items = set(keys)
        columns = [kind for kind in KINDS if kind in kinds]
        found: Fragments = {kind: {} for kind in columns}
        if self._db is None:
            return found
        targets = [found[kind] for kind in columns]
        try:
            selected = columns if contents else [f"typeof({c}) = 'blob'" for c in columns]
            rows = self._db.execute(f"SELECT {', '.join(['id', 'key', *selected])} FROM items")
            for post_id, key, *blobs in rows:
                self._stored_items.add(post_id)
                if keys.get(post_id) != key:
                    continue
                self.hits.add(post_id)
                for target, blob in zip(targets, blobs, strict=True):
                    if type(blob) is not bytes if contents else blob != 1:
                        raise sqlite3.DatabaseError(f"item {post_id!r} is not a cache row")
                    if contents:
                        target[post_id] = blob
            for key, shell in self._db.execute("SELECT key, shell FROM heads"):
                if type(shell) is not bytes:
                    raise sqlite3.DatabaseError(f"head {key!r} is not a cache row")
                self._heads[key] = shell
        except sqlite3.Error as error:
            self._rebuild(error)
            self.hits.clear()
            return {kind: {} for kind in columns}
        return found

    def add_items(self, keys: Mapping[str, str], fresh: Fragments) -> None:
        """Keep ``fresh`` items of the posts in ``keys`` (id -> key) from the next
        :meth:`commit` on; ``fresh`` holds every format of the build for each of them.

        They go into the database now, uncommitted (the commit makes the whole build's
        change at once), so they need not stay in memory: :meth:`items` reads them back.
        """
        rows = []
        for post_id, key in keys.items():
            row = [fresh[kind][post_id] if kind in fresh else None for kind in KINDS]
            rows.append((post_id, key, *row))
        if self._db is not None and not self.readonly:
            marks = ", ".join("?" * (2 + len(KINDS)))
            try:
                self._db.executemany(f"INSERT OR REPLACE INTO items VALUES ({marks})", rows)
                self._written = True
                self.hits.update(keys)
                self._hold(keys, {k: v for k, v in fresh.items() if k not in KINDS})
                return
            except sqlite3.Error:
                pass  # kept in memory below; the commit tries again
        self._new_items.extend(rows)
        self._hold(keys, fresh)

    def add_rows(self, rows: Sequence[tuple[str, str, Mapping[str, bytes]]]) -> bool:
        """Store items rendered ahead of the feed stage (``feeds/early.py``): (post id,
        key, format -> bytes), uncommitted until :meth:`store`. Each row's key is checked
        like any other by the next :meth:`load`, so a row whose post turned out otherwise
        is never used. False when nothing can be stored (no file, a dry run, locked)."""
        if self._db is None or self.readonly:
            return False
        marks = ", ".join("?" * (2 + len(KINDS)))
        values = [(i, key, *(items.get(kind) for kind in KINDS)) for i, key, items in rows]
        try:
            self._db.executemany(f"INSERT OR REPLACE INTO items VALUES ({marks})", values)
        except sqlite3.Error:
            self.close()
            return False
        return True

    def unsynced(self) -> FeedCache:
        """This connection's commits are not synced to the disk: a read worker's, which
        commits a chunk at a time (a sync each made the workers wait on the disk); the
        main process syncs the file meanwhile (``posts/workers.py``, ``Writeback``)."""
        if self._db is not None and not self.readonly:
            try:
                self._db.execute("PRAGMA synchronous = OFF")
            except sqlite3.Error:
                self.close()
        return self

    def store(self) -> bool:
        """Commit what :meth:`add_rows` stored, dropping nothing (another build may hold
        the file: then nothing is kept, and the feed stage renders the items itself).
        False when nothing could be committed."""
        if self._db is None or self.readonly:
            return False
        try:
            self._db.commit()
        except sqlite3.Error:
            self.close()  # closing rolls the rows back
            return False
        return True

    def _hold(self, keys: Mapping[str, str], fresh: Fragments) -> None:
        for kind, rendered in fresh.items():
            held = self._held.setdefault(kind, {})
            held.update((post_id, rendered[post_id]) for post_id in keys)

    def items(self, kind: str, keys: Mapping[str, str]) -> dict[str, bytes]:
        """The ``kind`` items of the posts in ``keys`` (id -> key) whose key holds, new
        ones included. A post missing from the answer (the file went away mid-build) is
        for the caller to render again."""
        held = self._held.get(kind, {})
        found = {post_id: held[post_id] for post_id in keys if post_id in held}
        wanted = [post_id for post_id in keys if post_id not in found]
        if self._db is None or kind not in KINDS:
            return found
        try:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = self._db.execute(
                    f"SELECT id, key, {kind} FROM items WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                for post_id, key, blob in rows:
                    if keys.get(post_id) == key and type(blob) is bytes:
                        found[post_id] = blob
        except sqlite3.Error:
            pass
        return found

    def head(self, key: str) -> bytes | None:
        """The head stored under ``key`` (see :func:`head_key`), if any."""
        self._live_heads.add(key)
        return self._heads.get(key)

    def add_head(self, key: str, shell: bytes) -> None:
        """Keep ``shell`` under ``key`` from the next :meth:`commit` on."""
        self._live_heads.add(key)
        self._heads[key] = shell
        self._new_heads.append((key, shell))

    def commit(self) -> None:
        """Write what this build rendered and drop what it did not ask for, atomically."""
        if self._db is None or self.readonly:
            return
        stale_items = self._stored_items - self._live_items
        stale_heads = set(self._heads) - self._live_heads
        if not (self._written or self._new_items or self._new_heads or stale_items or stale_heads):
            return
        marks = ", ".join("?" * (2 + len(KINDS)))
        try:
            with self._db:
                self._db.executemany(
                    f"INSERT OR REPLACE INTO items VALUES ({marks})", self._new_items
                )
                self._db.executemany("INSERT OR REPLACE INTO heads VALUES (?, ?)", self._new_heads)
                self._db.executemany("DELETE FROM items WHERE id = ?", [(i,) for i in stale_items])
                self._db.executemany("DELETE FROM heads WHERE key = ?", [(k,) for k in stale_heads])
        except sqlite3.Error:
            pass  # e.g. another build holds the lock: this build's output is still right

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
