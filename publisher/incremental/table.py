"""``site.sqlite`` in the state folder: the site as the last real build left it, compactly.

One row per post file found (a chunk of them one marshalled list: one load, not one per
row): where it is, its content key in the post cache, the few fields the stages after the
read need of its post (status, order, URL, what plans the
feeds, its items' key, its ``posts.json`` key) and its problems. Beside the rows: the
stat of every file under the posts folder as the build's stat pass saw it, a digest of
every other input, and how often each tag spelling was written. A build whose stat pass
differs from that only under the posts folder reads just the changed post files and
takes the rest from here (``quick.py``). Under the state folder's one cache policy
(``publisher.statecache``): a damaged file is rebuilt, a dry run never writes.
"""

from __future__ import annotations

import json
import marshal
import os
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path

from publisher import statecache
from publisher.digests import blake2b
from publisher.incremental.walk import POSTS, Walk, digest_of, line_of
from publisher.tuples import NamedTuple

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

    from publisher.snapshot import Snapshot
    from publisher.statwalk import Entry

TABLE_FILE = "site.sqlite"
_LAYOUT = 6  # 6: the rows marshalled (5: the walk of the posts folder kept beside them)
_SCHEMA = ("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",)
#: Joins a list of labels in one column: no tag, category or name holds it (checked).
SEP = "\x1f"


class Row(NamedTuple):
    """One post file. A file with no post (not read, not parsed, skipped) has only
    ``file``, ``label``, ``source``, ``key`` (when read) and ``problems``."""

    file: str
    label: str
    source: str
    key: str | None
    id: str | None
    url: str | None
    date: str | None  # isoformat
    date_ts: float | None  # the post's date as a timestamp (posts newest first)
    moment: float | None  # FeedEntry.moment (None: feeds off)
    updated: str | None  # FeedEntry.updated, isoformat
    draft: int | None
    featured: int | None
    popular: int | None
    origin: str | None  # Post.origin in hex: the post's key in posts.json's layout
    feed_key: str | None
    categories: str | None  # SEP-joined
    tags: str | None  # after the rules across posts, SEP-joined
    authors: str | None  # names, SEP-joined
    raw_tags: list[str] | None  # as written (its record's)
    problems: str | None  # JSON list of Problem.as_dict(), or None
    #: The digest of the stats of its folder's files (:func:`folders`), ``?`` when one of
    #: them was too recent to be judged by its stat.
    sig: str


def split(text: str | None) -> tuple[str, ...]:
    return tuple(text.split(SEP)) if text else ()


def joined(values: Iterable[str]) -> str | None:
    """``values`` as one column; None when one of them holds the separator (or is empty:
    the column would not split back into them)."""
    values = tuple(values)
    text = SEP.join(values)
    if "" in values or text.count(SEP) != max(len(values) - 1, 0):
        return None
    return text


def folders(snapshot: Snapshot) -> tuple[str | None, dict[str, str]]:
    """(a digest of every input outside the posts folder, None when one of them changed
    too recently to be judged by its stat; for each name in the posts folder, a digest
    of the stats of everything under it, or ``?`` when one of them is judged by its
    bytes (it changed in the last two seconds: never taken as unchanged))."""
    inputs = outside(snapshot.entries, snapshot.recent)
    if inputs is None:
        return None, {}
    under: dict[str, list[str]] = {}
    recent = snapshot.recent
    for label, _, st in snapshot.entries:
        if not label.startswith(POSTS):
            continue
        name = label[_SKIP:].partition("/")[0]
        lines = under.get(name)
        if lines is None:
            lines = under[name] = []
        lines.append(line_of(label, st, recent))
    return inputs, {name: digest_of(lines) for name, lines in under.items()}


def outside(entries: Iterable[Entry], recent: frozenset[str]) -> str | None:
    """A digest of ``entries`` outside the posts folder; None when one of them changed
    too recently to be judged by its stat."""
    others: list[str] = []
    for label, path, st in entries:
        if label.startswith(POSTS):
            continue
        if label in recent:
            return None
        sig = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}" if st else "-"
        others.append(f"{label}\0{path}\0{sig}")
    text = "\n".join(others).encode("utf-8", "surrogateescape")
    return blake2b(text, digest_size=20).hexdigest()


#: A label's characters before the name in the posts folder ("post:/").
_SKIP = len(POSTS) + 1
#: Rows per stored chunk: a build rewrites the chunks of the rows it changed.
CHUNK = 256


def group_of(label: str) -> str:
    """The name in the posts folder that ``label`` is under (a post's folder)."""
    return label[_SKIP:].partition("/")[0]


class Stored(NamedTuple):
    """The table as the last build left it: its rows, and the chunk each is stored in."""

    inputs: str
    spellings: dict[str, dict[str, int]]
    rows: list[Row]
    chunks: list[int]
    #: Which save left it: a build adding its changes to it checks that none came between.
    generation: str = ""
    #: The walk of the posts folder the rows were made from (None: compare every folder's
    #: digest with the rows' ``sig``).
    walk: Walk | None = None


class SiteTable:
    """``site.sqlite``; ``readonly`` opens it for reading only."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._db = statecache.open_cache(path, _SCHEMA, _LAYOUT, readonly=readonly)

    def load(self) -> Stored | None:
        """The stored table, or None (none, damaged, or the last build could not keep one)."""
        if self._db is None:
            return None
        try:
            meta = dict(self._db.execute("SELECT name, value FROM meta").fetchall())
            if meta.get("complete") != "1":
                return None
            if not all(_checked(meta, name) for name in meta if name.startswith(_SUMMED)):
                return None  # bytes damaged on disk may still read as valid JSON
            spellings = json.loads(meta["spellings"])
            if not isinstance(spellings, dict) or not isinstance(meta["inputs"], str):
                return None
            width = len(Row._fields)
            # Row._make without its per-row Python call, and the checks in C: 10,000 rows.
            make = partial(tuple.__new__, Row)
            rows: list[Row] = []
            chunks: list[int] = []
            for name, text in meta.items():
                if not name.startswith("rows:"):
                    continue
                if type(text) is not bytes:
                    return None
                found = marshal.loads(text)
                if not isinstance(found, list):
                    return None
                if found and (set(map(type, found)) != {tuple} or set(map(len, found)) != {width}):
                    return None
                rows.extend(map(make, found))
                chunks.extend([int(name[5:])] * len(found))
            generation = str(meta.get("generation", ""))
            walk = Walk.parse(meta.get("walk") or "")
            return Stored(meta["inputs"], spellings, rows, chunks, generation, walk)
        except (sqlite3.Error, KeyError, ValueError, TypeError, AttributeError, EOFError):
            return None

    def forget(self) -> None:
        """The last build could not keep a table: the next one reads every post."""
        if self._db is None or self.readonly:
            return
        try:
            with self._db:
                self._db.execute("DELETE FROM meta")
        except sqlite3.Error:
            # Another build holds it. The table left is still safe: what changed since it
            # was kept shows in its folder digests, and those posts are read again.
            self.close()

    def save(
        self,
        *,
        inputs: str,
        spellings: Mapping[str, Mapping[str, int]],
        chunks: Mapping[int, list[Row]],
        whole: bool,
        since: str = "",
        walk: Walk | None = None,
    ) -> None:
        """Keep a build's table: the rows of each of ``chunks`` (an empty one dropped);
        ``whole``: these are all the rows, else the other chunks stay as they are, and
        they must still be the ones of the table loaded with generation ``since``; ``walk``:
        the posts folder's walk the rows were made from."""
        encoded = encode(inputs=inputs, spellings=spellings, chunks=chunks, walk=walk)
        self.write(encoded, whole=whole, since=since)

    def write(self, encoded: Encoded, *, whole: bool, since: str = "") -> None:
        """:meth:`save` of a table already encoded (:func:`encode`)."""
        if self._db is None or self.readonly:
            return
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")  # the check and the write as one
                if not whole and self._generation() != since:
                    # Another build kept its table after this one loaded it (two builds at
                    # once): this one's rows and tag counts are not to be mixed with that
                    # one's. Its table stays, as safe as any older one (forget).
                    return
                if whole:
                    self._db.execute("DELETE FROM meta")
                self._db.executemany("DELETE FROM meta WHERE name = ?", encoded.empty)
                self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", encoded.values)
        except sqlite3.Error:
            self.close()  # another build holds it: the last table stays, as safe (forget)
        except UnicodeEncodeError:
            # A name or tag no UTF-8 text holds (a file name's undecodable bytes): this
            # site keeps no table, and every build reads every post.
            self.forget()

    def _generation(self) -> str | None:
        assert self._db is not None
        row = self._db.execute("SELECT value FROM meta WHERE name = 'generation'").fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class Encoded(NamedTuple):
    """A table as :meth:`SiteTable.write` stores it: (name, text) of each value, and the
    names of the values to drop (the chunks left empty)."""

    values: list[tuple[str, str | bytes]]
    empty: list[tuple[str]]


def encode(
    *,
    inputs: str,
    spellings: Mapping[str, Mapping[str, int]],
    chunks: Mapping[int, list[Row]],
    walk: Walk | None = None,
) -> Encoded:
    """The values of a table (:meth:`SiteTable.save`), each summed value with its CRC-32:
    no I/O, so a cold build's thread makes them while the feeds are written."""
    meta = {
        "inputs": inputs,
        "spellings": json.dumps(spellings, sort_keys=True, ensure_ascii=False),
        "complete": "1",
        "generation": os.urandom(8).hex(),
        # Always written: a table saved in part must not keep the walk of an older save.
        "walk": walk.text() if walk is not None else "",
    }
    # marshal, not JSON: the rows of 10,000 posts load in half the time (16 against 36 ms),
    # and the checksum beside each is checked before it is read (marshal is not made to
    # read damaged bytes). Its format is the interpreter's: another Python is another
    # input (inputs.py), and the build reads every post then.
    stored: dict[str, str | bytes] = {
        f"rows:{n}": marshal.dumps(list(map(tuple, rows))) for n, rows in chunks.items() if rows
    }
    summed = [(n, text) for n, text in [*meta.items(), *stored.items()] if n.startswith(_SUMMED)]
    stored.update({f"sum:{name}": _checksum(text) for name, text in summed})
    empty = [(f"{kind}rows:{n}",) for n, rows in chunks.items() if not rows for kind in _KINDS]
    return Encoded([*meta.items(), *stored.items()], empty)


#: The values kept with a checksum (``sum:`` + their name): the rows, the tag counts and
#: the walk.
_SUMMED = ("rows:", "spellings", "walk")
_KINDS = ("", "sum:")


def _checksum(text: str | bytes) -> str:
    import zlib

    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return str(zlib.crc32(data))


def _checked(meta: Mapping[str, str | bytes], name: str) -> bool:
    """Whether the value ``name`` is what was written (its checksum beside it)."""
    return meta.get(f"sum:{name}") == _checksum(meta[name])


def when(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


def folder_of(label: str) -> str:
    return label.rpartition("/")[0]


def label_of(source: str, folder: str) -> str | None:
    """The stat pass's label of ``source`` below the posts ``folder``."""
    prefix = folder if folder.endswith("/") else folder + "/"
    if not source.startswith(prefix):
        return None
    return f"{POSTS}/{source[len(prefix) :]}"


def problems_text(problems: list[dict[str, Any]]) -> str | None:
    return json.dumps(problems, ensure_ascii=False) if problems else None


def os_path(folder: str, label: str) -> str:
    """The path of the stat pass's ``label`` below the posts ``folder``."""
    return os.path.join(folder, label[len(POSTS) + 1 :])
