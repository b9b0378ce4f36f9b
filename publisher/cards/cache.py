"""The render cache: encoded cards keyed by a hash of every input, in the state folder.

A hit returns the bytes and what rendering reported, so a warm build decodes no image
and draws no text. Source images are identified by their sha256, remembered per path,
size, mtime, inode and ctime so a warm build does not even re-read them. Each post's input hashes from
the last full build are kept too, so a dry run can say why a card would change.

``cards.sqlite`` follows the state folder's one cache policy (:mod:`publisher.statecache`):
the key (made by ``cards/build.py``) hashes every input and the tool's version (publisher,
Pillow, ``RENDER_VERSION``, raqm, the face detector); a full build drops the cards it did
not ask for; a damaged file is rebuilt; a dry run only reads.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from publisher import statecache
from publisher.cards.render import Note, Rendered

CACHE_FILE = "cards.sqlite"
#: The layout of the file (``PRAGMA user_version``).
LAYOUT = 2
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cards (key TEXT PRIMARY KEY, meta TEXT NOT NULL,"
    " data BLOB NOT NULL)",
    # Inode and ctime too (layout 2): a picture renamed over another may keep its size
    # and mtime.
    "CREATE TABLE IF NOT EXISTS digests (path TEXT PRIMARY KEY, size INTEGER NOT NULL,"
    " mtime INTEGER NOT NULL, inode INTEGER NOT NULL, ctime INTEGER NOT NULL,"
    " digest TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS inputs (post TEXT PRIMARY KEY, components TEXT NOT NULL)",
)
#: Where earlier versions kept the cache, a file per card: deleted on the first real build.
_LEGACY_FOLDER = "cards"


class RenderCache:
    """``cards.sqlite`` in ``cache_dir``; read-only when ``readonly`` (dry runs)."""

    def __init__(self, cache_dir: Path, *, readonly: bool = False) -> None:
        self.path = cache_dir / CACHE_FILE
        self.readonly = readonly
        self._used: set[str] = set()
        self._digests: dict[str, tuple[int, int, int, int, str]] = {}
        self._new_digests: dict[str, tuple[int, int, int, int, str]] = {}
        self.previous_inputs: dict[str, Any] = {}
        self._db = statecache.open_cache(self.path, _SCHEMA, LAYOUT, readonly=readonly)
        if not readonly:
            shutil.rmtree(cache_dir / _LEGACY_FOLDER, ignore_errors=True)
        if self._db is None:
            return
        try:
            for path, *known in self._db.execute(
                "SELECT path, size, mtime, inode, ctime, digest FROM digests"
            ):
                self._digests[path] = tuple(known)
            for post, components in self._db.execute("SELECT post, components FROM inputs"):
                self.previous_inputs[post] = json.loads(components)
        except (sqlite3.Error, ValueError):
            self._damaged()

    def _damaged(self) -> None:
        """Start over with an empty file (in a dry run: go on without one)."""
        self.close()
        self._digests.clear()
        self.previous_inputs = {}
        if not self.readonly:
            statecache.discard(self.path)
            self._db = statecache.open_cache(self.path, _SCHEMA, LAYOUT, readonly=False)

    def get(self, key: str) -> Rendered | None:
        self._used.add(key)
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT meta, data FROM cards WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            meta, data = json.loads(row[0]), row[1]
            if type(data) is not bytes or hashlib.sha256(data).hexdigest() != meta.get("sha256"):
                return None
            box = meta.get("text_box")
            return Rendered(
                data=data,
                format=meta["format"],
                width=meta["width"],
                height=meta["height"],
                layout=meta["layout"],
                alt=meta["alt"],
                text_box=(box[0], box[1], box[2], box[3]) if box else None,
                notes=tuple(Note(**n) for n in meta.get("notes", [])),
                rule=str(meta.get("rule", "default")),
            )
        except (sqlite3.Error, ValueError, KeyError, TypeError, IndexError):
            return None  # rendered again, and stored again over the bad row

    def put(self, key: str, rendered: Rendered) -> None:
        self._used.add(key)
        if self.readonly or self._db is None:
            return
        meta = {
            "sha256": hashlib.sha256(rendered.data).hexdigest(),
            "format": rendered.format,
            "width": rendered.width,
            "height": rendered.height,
            "layout": rendered.layout,
            "alt": rendered.alt,
            "rule": rendered.rule,
            "text_box": list(rendered.text_box) if rendered.text_box else None,
            "notes": [
                {"field": n.field, "message": n.message, "fix": n.fix, "severity": n.severity}
                for n in rendered.notes
            ],
        }
        try:
            with self._db:  # committed card by card: a killed build keeps what it rendered
                self._db.execute(
                    "INSERT OR REPLACE INTO cards VALUES (?, ?, ?)",
                    (key, json.dumps(meta, sort_keys=True), rendered.data),
                )
        except sqlite3.Error:
            pass  # e.g. another build holds the file: the card is rendered again next time

    def digest(self, path: Path) -> str:
        """sha256 of a file's bytes, recomputed only when its stat changed."""
        stat = path.stat()
        known = self._digests.get(str(path))
        stamp = (stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns)
        if known is not None and known[:4] == stamp:
            return known[4]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self._digests[str(path)] = self._new_digests[str(path)] = (*stamp, digest)
        return digest

    def save(self, inputs: dict[str, dict[str, str]] | None) -> None:
        """Persist the new digests and, for a full build (``inputs``: every post's input
        hashes), those inputs; a full build also drops the cards it did not ask for."""
        if self.readonly or self._db is None:
            return
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO digests VALUES (?, ?, ?, ?, ?, ?)",
                    [(path, *known) for path, known in self._new_digests.items()],
                )
                if inputs is not None:
                    self._db.execute("DELETE FROM inputs")
                    self._db.executemany(
                        "INSERT INTO inputs VALUES (?, ?)",
                        [(post, json.dumps(c, sort_keys=True)) for post, c in inputs.items()],
                    )
                    statecache.drop_unused(self._db, "cards", "key", self._used)
            self._new_digests.clear()
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
