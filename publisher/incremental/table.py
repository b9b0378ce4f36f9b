"""``site.sqlite`` in the state folder: the site as the last real build left it, compactly.

One row per post file found: where it is, its content key in the post cache, the few
fields the stages after the read need of its post (status, order, URL, what plans the
feeds, its items' key, its ``posts.json`` key) and its problems. Beside the rows: the
stat of every file under the posts folder as the build's stat pass saw it, a digest of
every other input, and how often each tag spelling was written. A build whose stat pass
differs from that only under the posts folder reads just the changed post files and
takes the rest from here (``quick.py``). Under the state folder's one cache policy
(``publisher.statecache``): a damaged file is rebuilt, a dry run never writes.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from publisher import statecache

if TYPE_CHECKING:
    from publisher.snapshot import Snapshot

TABLE_FILE = "site.sqlite"
_LAYOUT = 1
#: The label prefix of the stat pass's walk of the posts folder (inputs.plan).
POSTS = "post:"
_COLUMNS = (
    "file, label, source, key, id, url, date, date_ts, moment, updated, draft,"
    " featured, popular, origin, feed_key, categories, tags, authors, raw_tags, problems"
)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rows (file TEXT PRIMARY KEY, label TEXT NOT NULL,"
    " source TEXT NOT NULL, key TEXT, id TEXT, url TEXT, date TEXT, date_ts REAL,"
    " moment REAL, updated TEXT, draft INTEGER, featured INTEGER, popular INTEGER,"
    " origin BLOB, feed_key TEXT, categories TEXT, tags TEXT, authors TEXT,"
    " raw_tags TEXT, problems TEXT)",
)
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
    origin: bytes | None
    feed_key: str | None
    categories: str | None  # SEP-joined
    tags: str | None  # after the rules across posts, SEP-joined
    authors: str | None  # names, SEP-joined
    raw_tags: str | None  # as written (its record's), JSON list
    problems: str | None  # JSON list of Problem.as_dict(), or None


def split(text: str | None) -> tuple[str, ...]:
    return tuple(text.split(SEP)) if text else ()


def joined(values: Iterable[str]) -> str | None:
    """``values`` as one column; None when one of them holds the separator."""
    values = tuple(values)
    if any(SEP in value for value in values) or "" in values:
        return None
    return SEP.join(values)


def posts_lines(snapshot: Snapshot) -> tuple[str | None, list[str]]:
    """(a digest of every input outside the posts folder, None when one of them changed
    too recently to be judged by its stat; a line per file and folder under the posts
    folder: its label and its stat, or ``?`` when it is judged by its bytes)."""
    import hashlib

    others: list[str] = []
    lines: list[str] = []
    recent = snapshot.recent
    for label, path, st in snapshot.entries:
        if st is None:
            sig = "-"
        elif label in recent:
            if not label.startswith(POSTS):
                return None, []
            sig = "?"
        else:
            sig = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}"
        if label.startswith(POSTS):
            lines.append(f"{label}\0{sig}")
        else:
            others.append(f"{label}\0{path}\0{sig}")
    text = "\n".join(others).encode("utf-8", "surrogateescape")
    return hashlib.blake2b(text, digest_size=20).hexdigest(), lines


class Stored(NamedTuple):
    """The table as the last build left it."""

    inputs: str
    lines: list[str]
    spellings: dict[str, dict[str, int]]
    rows: list[Row]


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
            rows = [Row._make(row) for row in self._db.execute(f"SELECT {_COLUMNS} FROM rows")]
            spellings = json.loads(meta["spellings"])
            lines = meta["lines"].split("\n") if meta["lines"] else []
            if not isinstance(spellings, dict) or not isinstance(meta["inputs"], str):
                return None
            return Stored(inputs=meta["inputs"], lines=lines, spellings=spellings, rows=rows)
        except (sqlite3.Error, KeyError, ValueError, TypeError, AttributeError):
            return None

    def forget(self) -> None:
        """The last build could not keep a table: the next one reads every post."""
        if self._db is None or self.readonly:
            return
        try:
            with self._db:
                self._db.execute("DELETE FROM meta")
                self._db.execute("DELETE FROM rows")
        except sqlite3.Error:
            statecache.discard(self.path)

    def save(
        self,
        *,
        inputs: str,
        lines: list[str],
        spellings: Mapping[str, Mapping[str, int]],
        rows: Iterable[Row],
        gone: Iterable[str] | None = None,
    ) -> None:
        """Keep a build's table: ``rows`` replace the rows of their files; ``gone`` (the
        files no longer found) are dropped, or with ``gone`` None every other row."""
        if self._db is None or self.readonly:
            return
        meta = {
            "inputs": inputs,
            "lines": "\n".join(lines),
            "spellings": json.dumps(spellings, sort_keys=True, ensure_ascii=False),
            "complete": "1",
        }
        marks = ",".join("?" * len(Row._fields))
        try:
            with self._db:
                self._db.execute("DELETE FROM meta")
                if gone is None:
                    self._db.execute("DELETE FROM rows")
                else:
                    self._db.executemany("DELETE FROM rows WHERE file = ?", [(f,) for f in gone])
                self._db.executemany(f"INSERT OR REPLACE INTO rows VALUES ({marks})", rows)
                self._db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        except sqlite3.Error:
            self.close()
            statecache.discard(self.path)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


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
