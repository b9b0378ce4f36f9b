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
its commit, a damaged file rebuilt, a dry run reading only. Each stored item and head
carries its CRC-32, checked on every read: bytes a bad disk block changed are a miss
(rendered again), never written into a feed; SQLite itself checks none of a row's bytes. An
item's CRC begins with its id and key: a damaged index or rowid can serve one id another
post's intact row, and that row is then a miss too.
A page SQLite finds damaged ("malformed") once the items are being read or written deletes
the file: the build goes on through the connection it has (an item it cannot read is
rendered again), and the next build makes the file anew.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from itertools import compress
from operator import attrgetter, eq, itemgetter
from pathlib import Path

from publisher import statecache
from publisher.config import SiteConfig
from publisher.dataclass import fields
from publisher.digests import sha256
from publisher.feeds import formats as registry
from publisher.feeds.libxml import libxml2_key
from publisher.feeds.options import FeedOptions
from publisher.posts import fields as post_fields
from publisher.posts.bodies import damaged
from publisher.posts.model import Post
from publisher.sources import code_digest
from publisher.stamps import stamp_of

CACHE_FILE = "feeds.sqlite"
#: Seconds to wait for another build that holds the file before going on without it.
LOCK_TIMEOUT = statecache.LOCK_TIMEOUT
#: The layout of the file (``PRAGMA user_version``; see :mod:`publisher.statecache`).
#: 2: a CRC-32 with each item and head; 3: an index of (id, key); 4: an item's CRC begins
#: with its id and key (:func:`publisher.statecache.key_crc`).
LAYOUT = 4
#: A column per format registered when the layout was made; a format registered later
#: (a test's) is kept in memory for the build only.
KINDS = registry.names()

#: Rendered items: format (``rss``, ``atom``, ``json``) -> post id -> the item's bytes.
Fragments = dict[str, dict[str, bytes]]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, key TEXT NOT NULL, {})".format(
        ", ".join(f"{kind} BLOB, {kind}_crc INTEGER" for kind in KINDS)
    ),
    "CREATE TABLE IF NOT EXISTS heads (key TEXT PRIMARY KEY, shell BLOB NOT NULL, crc INTEGER)",
    # Which items a build can take, read without visiting the rows (140 MB at 10,000 posts).
    "CREATE INDEX IF NOT EXISTS items_key ON items (id, key)",
)
#: The placeholders of an ``items`` row: id, key, then each format's item and its CRC.
_ITEM_MARKS = ", ".join("?" * (2 + 2 * len(KINDS)))


def _item_row(post_id: str, key: str, items: Mapping[str, bytes]) -> tuple[object, ...]:
    """An ``items`` row: each format's bytes (None when not rendered) and their CRC-32."""
    row: list[object] = [post_id, key]
    start = statecache.key_crc(post_id, key)
    for kind in KINDS:
        blob = items.get(kind)
        row += (blob, None if blob is None else zlib.crc32(blob, start))
    return tuple(row)


def _intact(start: int, blob: object, crc: object) -> bool:
    """``blob`` is bytes and has the CRC-32 stored with it (begun at ``start``)."""
    return type(blob) is bytes and zlib.crc32(blob, start) == crc


# Every compared field of a post, so a field added to Post later is part of the key unasked,
# except the markdown: the feeds show the HTML rendered from it. The HTML is hashed as
# bytes, which is far cheaper than hashing its repr.
_POST_VALUES = attrgetter(*(f.name for f in fields(Post) if f.compare and f.name != "body"))


def _code_hash(libxml2: str) -> bytes:
    """The code part of every key: this package's source, the posts/ modules it borrows,
    the libraries' versions and ``libxml2`` (:func:`libxml2_key`: lxml.etree is not
    imported for it)."""
    # The URL rules, and the iframes the sanitizer turns into links, come from posts/.
    # Named beside fields.py, not imported: a build of prose posts loads neither.
    fields_py = Path(str(post_fields.__file__))
    borrowed = [fields_py, fields_py.with_name("mdx.py"), fields_py.with_name("components.py")]
    code = code_digest("feeds", Path(__file__).parent, ("feedgen", "lxml", "nh3"), files=borrowed)
    return sha256(code, f"\0libxml2 {libxml2}".encode()).digest()


_CODE = _code_hash(libxml2_key())


def context_key(site: SiteConfig, options: FeedOptions) -> bytes:
    """What shapes every item of a build besides the post: the code, the site, the options."""
    return sha256(_CODE, repr((site, options)).encode()).digest()


def post_key(post: Post, context: bytes) -> str:
    """The key of ``post``'s fragments in a build with ``context`` (:func:`context_key`)."""
    if post.origin is not None:
        # The reader's digest of what made the post (its file's content key, path, og
        # image and its stat, tags): as good as every field's repr and far cheaper.
        return sha256(context, b"\0origin\0", post.origin).hexdigest()
    image = None
    if post.og_image is not None:
        try:
            stat = post.og_image.stat()
            image = stamp_of(stat)
        except OSError:
            pass
    # A repr ends unambiguously; the HTML's own digest: no body is read here.
    values = repr((_POST_VALUES(post), image)).encode()
    return sha256(context, values, post.body.digest).hexdigest()


def head_key(context: bytes, kind: str, head: object, updated: datetime | None) -> str:
    """The key of a feed's head document (``rss_atom.render_head``)."""
    return sha256(context, repr((kind, head, updated)).encode()).hexdigest()


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
        self._stored_heads: set[str] = set()
        #: Items whose bytes failed their CRC after :meth:`load` counted them as hits:
        #: deleted at :meth:`commit`, so the next build renders and stores them again.
        self._damaged: set[str] = set()
        self._live_items: set[str] = set()
        self._live_heads: set[str] = set()
        self._new_items: list[tuple[object, ...]] = []
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
        self._stored_heads.clear()
        self._damaged.clear()
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
            if contents:
                self._load_items(keys, columns, targets)
            else:
                self._check_items(keys)
            for key, shell, crc in self._db.execute("SELECT key, shell, crc FROM heads"):
                if type(shell) is not bytes:
                    raise sqlite3.DatabaseError(f"head {key!r} is not a cache row")
                self._stored_heads.add(key)
                if zlib.crc32(shell) == crc:  # else a miss: rendered again, stored anew
                    self._heads[key] = shell
        except sqlite3.Error as error:
            self._rebuild(error)
            self.hits.clear()
            return {kind: {} for kind in columns}
        return found

    def _load_items(
        self, keys: Mapping[str, str], columns: list[str], targets: list[dict[str, bytes]]
    ) -> None:
        """The stored items of ``columns`` whose key holds and whose bytes are intact."""
        assert self._db is not None
        selected = ", ".join(f"{c}, {c}_crc" for c in columns)
        for post_id, key, *blobs in self._db.execute(f"SELECT id, key, {selected} FROM items"):
            self._stored_items.add(post_id)
            if keys.get(post_id) != key:
                continue
            pairs = list(zip(blobs[::2], blobs[1::2], strict=True))
            if any(type(blob) is not bytes for blob, _ in pairs):
                raise sqlite3.DatabaseError(f"item {post_id!r} is not a cache row")
            start = statecache.key_crc(post_id, key)
            if not all(_intact(start, blob, crc) for blob, crc in pairs):
                continue  # damaged on disk: a miss, rendered again and stored over it
            self.hits.add(post_id)
            for target, (blob, _) in zip(targets, pairs, strict=True):
                target[post_id] = blob

    def _check_items(self, keys: Mapping[str, str]) -> None:
        """The hits among the stored items, from the index of (id, key) alone: neither
        their bytes nor their rows are read (the rows of 10,000 posts are 140 MB, and a
        scan of them cost a one-post build 40 ms). :meth:`items` checks each item it
        reads (its type and CRC); one that fails is rendered again by the caller."""
        assert self._db is not None
        stored = self._db.execute("SELECT id, key FROM items").fetchall()
        ids = list(map(itemgetter(0), stored))
        self._stored_items.update(ids)
        # The ids whose stored key is the one wanted, picked in C (10,000 a build).
        self.hits.update(compress(ids, map(eq, map(keys.get, ids), map(itemgetter(1), stored))))

    def add_items(self, keys: Mapping[str, str], fresh: Fragments) -> None:
        """Keep ``fresh`` items of the posts in ``keys`` (id -> key) from the next
        :meth:`commit` on; ``fresh`` holds every format of the build for each of them.

        They go into the database now, uncommitted (the commit makes the whole build's
        change at once), so they need not stay in memory: :meth:`items` reads them back.
        """
        rows = [
            _item_row(post_id, key, {k: v[post_id] for k, v in fresh.items() if k in KINDS})
            for post_id, key in keys.items()
        ]
        self._damaged.difference_update(keys)
        if self._db is not None and not self.readonly:
            try:
                self._db.executemany(f"INSERT OR REPLACE INTO items VALUES ({_ITEM_MARKS})", rows)
                self._written = True
                self.hits.update(keys)
                self._hold(keys, {k: v for k, v in fresh.items() if k not in KINDS})
                return
            except sqlite3.Error as error:
                self._met(error)  # kept in memory below; the commit tries again
        self._new_items.extend(rows)
        self._hold(keys, fresh)

    def add_rows(self, rows: Sequence[tuple[str, str, Mapping[str, bytes]]]) -> bool:
        """Store items rendered ahead of the feed stage (``feeds/early.py``): (post id,
        key, format -> bytes), uncommitted until :meth:`store`. Each row's key is checked
        like any other by the next :meth:`load`, so a row whose post turned out otherwise
        is never used. False when nothing can be stored (no file, a dry run, locked)."""
        if self._db is None or self.readonly:
            return False
        values = [_item_row(i, key, items) for i, key, items in rows]
        try:
            self._db.executemany(f"INSERT OR REPLACE INTO items VALUES ({_ITEM_MARKS})", values)
        except sqlite3.Error as error:
            self._met(error)
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
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT id, key, {kind}, {kind}_crc FROM items WHERE id IN ({marks})", chunk
                )
                for post_id, key, blob, crc in rows:
                    if keys.get(post_id) != key:
                        continue
                    if _intact(statecache.key_crc(post_id, key), blob, crc):
                        found[post_id] = blob
                    else:  # damaged on disk: the caller renders it again
                        self._damaged.add(post_id)
        except sqlite3.Error as error:
            self._met(error)  # the ones not found: the caller renders them again
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
        stale_items = (self._stored_items - self._live_items) | self._damaged
        stale_heads = (self._stored_heads | set(self._heads)) - self._live_heads
        if not (self._written or self._new_items or self._new_heads or stale_items or stale_heads):
            return
        heads = [(key, shell, zlib.crc32(shell)) for key, shell in self._new_heads]
        try:
            with self._db:
                self._db.executemany(
                    f"INSERT OR REPLACE INTO items VALUES ({_ITEM_MARKS})", self._new_items
                )
                self._db.executemany("INSERT OR REPLACE INTO heads VALUES (?, ?, ?)", heads)
                self._db.executemany("DELETE FROM items WHERE id = ?", [(i,) for i in stale_items])
                self._db.executemany("DELETE FROM heads WHERE key = ?", [(k,) for k in stale_heads])
        except sqlite3.Error as error:
            self._met(error)  # or another build holds the lock: this build's output is right

    def _met(self, error: sqlite3.Error) -> None:
        """A file ``error`` says is damaged is deleted (see the module's docstring)."""
        if damaged(error) and self.path is not None and not self.readonly:
            statecache.discard(self.path)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
