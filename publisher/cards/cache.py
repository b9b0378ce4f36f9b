"""The render cache: encoded cards keyed by a hash of every input, in the state folder.

A hit returns the bytes and what rendering reported, so a warm build decodes no image
and draws no text. Source images are identified by their sha256, remembered per path,
size, mtime, inode and ctime so a warm build does not even re-read them. Each post's input hashes from
the last full build are kept too, so a dry run can say why a card would change.

The files the stage wrote are remembered the same way (``outputs``: each one's stamp and
the sha256 of its bytes), so a card whose key is unchanged and whose file is still the one
written is neither read from the cache nor read back from the output folder
(:meth:`~publisher.output.OutputWriter.keep`): a build with nothing changed reads only
the cards' descriptions (:meth:`RenderCache.stored`), never their bytes.

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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Any

from publisher import statecache
from publisher.cards.job import Note, Rendered
from publisher.output import Stamp
from publisher.stamps import stamp_of

CACHE_FILE = "cards.sqlite"
#: The layout of the file (``PRAGMA user_version``). 3: the ``outputs`` table.
LAYOUT = 3
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cards (key TEXT PRIMARY KEY, meta TEXT NOT NULL,"
    " data BLOB NOT NULL)",
    # Inode and ctime too (layout 2): a picture renamed over another may keep its size
    # and mtime.
    "CREATE TABLE IF NOT EXISTS digests (path TEXT PRIMARY KEY, size INTEGER NOT NULL,"
    " mtime INTEGER NOT NULL, inode INTEGER NOT NULL, ctime INTEGER NOT NULL,"
    " digest TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS inputs (post TEXT PRIMARY KEY, components TEXT NOT NULL)",
    # Each file the stage wrote (its absolute path), its stamp and the sha256 of its bytes.
    "CREATE TABLE IF NOT EXISTS outputs (path TEXT PRIMARY KEY, size INTEGER NOT NULL,"
    " mtime INTEGER NOT NULL, inode INTEGER NOT NULL, ctime INTEGER NOT NULL,"
    " sha256 TEXT NOT NULL)",
    # An answer that is costly to find (the face detector's version: importing OpenCV),
    # by what it depends on (its files' stamps).
    "CREATE TABLE IF NOT EXISTS answers (question TEXT PRIMARY KEY, depends TEXT NOT NULL,"
    " answer TEXT NOT NULL)",
)
#: Where earlier versions kept the cache, a file per card: deleted on the first real build.
_LEGACY_FOLDER = "cards"


@dataclass(frozen=True, kw_only=True)
class Stored:
    """A card as the cache describes it, without its bytes: all that publishing a card
    whose file is already in place needs (``sha256`` and ``size`` are its bytes')."""

    sha256: str
    size: int
    format: str
    width: int
    height: int
    layout: str
    alt: str
    text_box: tuple[int, int, int, int] | None
    notes: tuple[Note, ...]
    rule: str


def describe(rendered: Rendered) -> Stored:
    """A freshly rendered card's description (its bytes hashed once, here)."""
    return Stored(
        sha256=hashlib.sha256(rendered.data).hexdigest(),
        size=len(rendered.data),
        format=rendered.format,
        width=rendered.width,
        height=rendered.height,
        layout=rendered.layout,
        alt=rendered.alt,
        text_box=rendered.text_box,
        notes=rendered.notes,
        rule=rendered.rule,
    )


class RenderCache:
    """``cards.sqlite`` in ``cache_dir``; read-only when ``readonly`` (dry runs)."""

    def __init__(self, cache_dir: Path, *, readonly: bool = False) -> None:
        self.path = cache_dir / CACHE_FILE
        self.readonly = readonly
        self._used: set[str] = set()
        self._digests: dict[str, tuple[int, int, int, int, str]] = {}
        self._new_digests: dict[str, tuple[int, int, int, int, str]] = {}
        self._outputs: dict[str, tuple[Stamp, str]] = {}
        self._new_outputs: dict[str, tuple[Stamp, str]] = {}
        self._used_outputs: set[str] = set()
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
            for path, size, mtime, inode, ctime, sha256 in self._db.execute(
                "SELECT path, size, mtime, inode, ctime, sha256 FROM outputs"
            ):
                self._outputs[path] = ((size, mtime, inode, ctime), sha256)
        except (sqlite3.Error, ValueError):
            self._damaged()

    def _damaged(self) -> None:
        """Start over with an empty file (in a dry run: go on without one)."""
        self.close()
        self._digests.clear()
        self._outputs.clear()
        self.previous_inputs = {}
        if not self.readonly:
            statecache.discard(self.path)
            self._db = statecache.open_cache(self.path, _SCHEMA, LAYOUT, readonly=False)

    def stored(self, key: str) -> Stored | None:
        """The card cached under ``key``, described without reading its bytes (SQLite
        knows a blob's length without reading it); None when there is none."""
        self._used.add(key)
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT meta, length(data) FROM cards WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            meta = json.loads(row[0])
            box = meta.get("text_box")
            return Stored(
                sha256=str(meta["sha256"]),
                size=int(row[1]),
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

    def data(self, key: str, stored: Stored) -> bytes | None:
        """The bytes of the card ``stored`` describes; None when they are not its own."""
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT data FROM cards WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        data = row[0] if row is not None else None
        if type(data) is not bytes or hashlib.sha256(data).hexdigest() != stored.sha256:
            return None
        return data

    def get(self, key: str) -> Rendered | None:
        """The card cached under ``key`` with its bytes (checked against their hash)."""
        stored = self.stored(key)
        data = self.data(key, stored) if stored is not None else None
        if stored is None or data is None:
            return None
        return Rendered(
            data=data,
            format=stored.format,
            width=stored.width,
            height=stored.height,
            layout=stored.layout,
            alt=stored.alt,
            text_box=stored.text_box,
            notes=stored.notes,
            rule=stored.rule,
        )

    def put(self, key: str, rendered: Rendered, stored: Stored | None = None) -> None:
        """Cache ``rendered`` under ``key`` (``stored``: its description, if made)."""
        self._used.add(key)
        if self.readonly or self._db is None:
            return
        stored = stored or describe(rendered)
        meta = {
            "sha256": stored.sha256,
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

    def remembered(
        self,
        question: str,
        depends: str,
        answer: Callable[[], str],
        lasting: Callable[[str], bool] = lambda _: True,
    ) -> str:
        """``answer()``, from the last build that asked ``question`` when what it
        ``depends`` on is the same, else found now and kept (not in a dry run, nor an
        answer that is not ``lasting``)."""
        if self._db is not None:
            try:
                row = self._db.execute(
                    "SELECT answer FROM answers WHERE question = ? AND depends = ?",
                    (question, depends),
                ).fetchone()
                if row is not None:
                    return str(row[0])
            except sqlite3.Error:
                pass
        found = answer()
        if not self.readonly and self._db is not None and lasting(found):
            try:
                with self._db:
                    self._db.execute(
                        "INSERT OR REPLACE INTO answers VALUES (?, ?, ?)",
                        (question, depends, found),
                    )
            except sqlite3.Error:
                pass
        return found

    def written(self, path: str) -> tuple[Stamp, str] | None:
        """The stamp and sha256 of the file at ``path`` (absolute) when the stage last
        wrote or found it, or None."""
        return self._outputs.get(path)

    def wrote(self, path: str, stamp: Stamp, sha256: str) -> None:
        """Remember the file at ``path`` (absolute) as it is now, for the next build."""
        self._used_outputs.add(path)
        if self._outputs.get(path) != (stamp, sha256):
            self._outputs[path] = self._new_outputs[path] = (stamp, sha256)

    def digest(self, path: Path) -> str:
        """sha256 of a file's bytes, recomputed only when its stat changed. OSError for
        anything but a regular file (a FIFO put in a font's place would hang the read)."""
        stat = path.stat()
        if not S_ISREG(stat.st_mode):
            raise OSError(f"{path} is not a regular file")
        known = self._digests.get(str(path))
        stamp = stamp_of(stat)
        if known is not None and known[:4] == stamp:
            return known[4]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self._digests[str(path)] = self._new_digests[str(path)] = (*stamp, digest)
        return digest

    def save(self, inputs: dict[str, dict[str, str]] | None) -> None:
        """Persist the new digests and output stamps and, for a full build (``inputs``:
        every post's input hashes), those inputs; a full build also drops the cards it did
        not ask for and the output files it did not write or find."""
        if self.readonly or self._db is None:
            return
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO digests VALUES (?, ?, ?, ?, ?, ?)",
                    [(path, *known) for path, known in self._new_digests.items()],
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?, ?)",
                    [(path, *st, sha) for path, (st, sha) in self._new_outputs.items()],
                )
                if inputs is not None:
                    self._db.execute("DELETE FROM inputs")
                    self._db.executemany(
                        "INSERT INTO inputs VALUES (?, ?)",
                        [(post, json.dumps(c, sort_keys=True)) for post, c in inputs.items()],
                    )
                    statecache.drop_unused(self._db, "cards", "key", self._used)
                    statecache.drop_unused(self._db, "outputs", "path", self._used_outputs)
            self._new_digests.clear()
            self._new_outputs.clear()
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
