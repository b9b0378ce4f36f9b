"""The layouts of the output files the last build wrote (``layouts.sqlite``), from which
the next build splices (:mod:`publisher.splicing`).

A file's :class:`Layout` is each piece's key and length, the literal bytes around them,
and the file's stamp just after it was written, with the boot that left it unsynced, if
one did (``publisher/boot.py``). :class:`LayoutStore` keeps them under the one cache
policy of :mod:`publisher.statecache`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from publisher import boot, statecache
from publisher.stamps import Stamp

LAYOUTS_FILE = "layouts.sqlite"
_LAYOUT_VERSION = 2  # 2: the stamps in a table of their own (LayoutStore.stage)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY,"
    " keys TEXT NOT NULL, lengths BLOB NOT NULL, literals BLOB NOT NULL, cuts BLOB NOT NULL)",
    # Apart from the rows of 700 KB they stamp: SQLite rewrites a whole row to change
    # one of its columns.
    "CREATE TABLE IF NOT EXISTS stamps (path TEXT PRIMARY KEY, stamp TEXT NOT NULL)",
)
_SELECT = "SELECT stamp, keys, lengths, literals, cuts FROM files JOIN stamps USING (path) "
_SELECT += "WHERE path = ?"


@dataclass(frozen=True, kw_only=True)
class Layout:
    """A file as written: ``literals[0]``, piece 0, ``literals[1]``, ..., piece n-1,
    ``literals[n]``, where piece i has the key ``keys[i]`` (the same key, the same bytes:
    a feed item's cache key, a post's origin) and is ``lengths[i]`` bytes long; and the
    file's stamp (``publisher.output.Stamp``) just after it was written (None while a
    thread still writes it: :meth:`LayoutStore.commit` takes it from the writer). An empty
    key is a piece that is never reused. ``boot``: the boot that left the file unsynced
    (``OutputWriter.unsynced``; None: synced), kept in the stamp column after the stamp:
    :meth:`LayoutStore.get` gives no layout of a file another boot left unsynced."""

    stamp: Stamp | None
    keys: tuple[str, ...]
    lengths: tuple[int, ...]
    literals: tuple[bytes, ...]
    boot: str | None = None

    @property
    def stamp_text(self) -> str | None:
        """The stamp column: ``size:mtime:inode:ctime``, then ``:boot`` when unsynced."""
        if self.stamp is None:
            return None
        text = ":".join(map(str, self.stamp))
        return text if self.boot is None else f"{text}:{self.boot}"

    def encode(self, stamp: str | None = None) -> tuple[str, str, bytes, bytes, bytes] | None:
        """The ``files`` row (without its path); ``stamp``: a stamp column that is none
        (:meth:`LayoutStore.stage`), in place of the layout's own."""
        if stamp is None and self.stamp is None:
            return None
        if any("\n" in key for key in self.keys):
            return None
        cuts = array("q", [len(literal) for literal in self.literals]).tobytes()
        if stamp is None:
            stamp = self.stamp_text or ""
        lengths = array("q", self.lengths).tobytes()
        return stamp, "\n".join(self.keys), lengths, b"".join(self.literals), cuts

    @classmethod
    def decode(cls, row: tuple[object, ...]) -> Layout | None:
        """The layout of a ``files`` row; None when the row is not one (damage)."""
        stamp, keys, lengths, literals, cuts = row
        if not (isinstance(stamp, str) and isinstance(keys, str) and isinstance(literals, bytes)):
            return None
        if not (isinstance(lengths, bytes) and isinstance(cuts, bytes)):
            return None
        fields = stamp.split(":")
        mark = fields.pop() if len(fields) == 5 else None  # the boot that left it unsynced
        try:
            size, mtime, inode, changed = map(int, fields)
            sizes, parts = array("q"), array("q")
            sizes.frombytes(lengths)
            parts.frombytes(cuts)
        except ValueError:
            return None
        names = keys.split("\n") if sizes else []
        if len(names) != len(sizes) or len(parts) != len(sizes) + 1:
            return None
        if sum(parts) != len(literals) or min(sizes, default=0) < 0 or min(parts) < 0:
            return None
        if sum(sizes) + len(literals) != size:  # not the layout of a file of that size
            return None
        pieces = _repeated(literals, parts)
        if pieces is None:
            pieces, at = [], 0
            for cut in parts:  # a plain loop: faster here than slices made in C (measured)
                pieces.append(literals[at : at + cut])
                at += cut
        return cls(
            stamp=(size, mtime, inode, changed),
            keys=tuple(names),
            lengths=tuple(sizes),
            literals=tuple(pieces),
            boot=mark,
        )


def _repeated(literals: bytes, cuts: array[int]) -> list[bytes] | None:
    """The literals, split at ``cuts``, when the ones between the first and the last are
    all the same bytes, found in C (a feed's items follow one another: empty literals;
    ``posts.json``'s entries are separated by the same comma and indent); else None."""
    inner = cuts[1:-1]
    if not inner or min(inner) != max(inner):
        return None
    start, width = cuts[0], inner[0]
    between = literals[start : start + width]
    end = start + width * len(inner)
    if literals[start:end] != between * len(inner):
        return None
    return [literals[:start], *[between] * len(inner), literals[end:]]


class LayoutStore:
    """The layouts of the files the last build wrote (``layouts.sqlite``); ``path`` None
    keeps nothing, ``readonly`` (dry runs) reads but never writes. :meth:`commit` keeps
    the layouts this build set and drops every other."""

    def __init__(self, path: Path | None, *, readonly: bool = False) -> None:
        self.readonly = readonly
        self._set: dict[str, Layout] = {}
        #: What :meth:`stage` wrote: the layouts, and the stamp column each row holds
        #: until :meth:`commit` gives it the file's.
        self._staged: tuple[dict[str, Layout], str] | None = None
        self._db = None
        if path is not None:
            self._db = statecache.open_cache(path, _SCHEMA, _LAYOUT_VERSION, readonly=readonly)

    def get(self, relative: str) -> Layout | None:
        """How the last build wrote ``relative``; None when unknown, or when that build
        left the file unsynced in another boot than this one: a power loss since may have
        left zeros under the stamp it kept (publisher/boot.py), so it is written whole."""
        if self._db is None:
            return None
        try:
            row = self._db.execute(_SELECT, (relative,)).fetchone()
        except sqlite3.Error:
            return None
        layout = Layout.decode(row) if row is not None else None
        if layout is None or not boot.trusted(layout.boot):
            return None
        return layout

    def set(self, relative: str, layout: Layout | None) -> None:
        """How this build wrote ``relative`` (None: unknown, so never spliced)."""
        if layout is None:
            self._set.pop(relative, None)
        else:
            self._set[relative] = layout

    def stage(self) -> None:
        """Write the layouts set so far, while threads still write their files
        (``OutputWriter.settle`` calls it before it waits for them): each row's stamp is
        a mark no file has, so it splices nothing until :meth:`commit` gives it its file's
        stamp. At 10,000 posts the rows are 2 MB, and their writing and syncing (20 to
        40 ms) no longer wait for the files; a build killed in between leaves layouts
        that are never used (the next build writes those files whole)."""
        if self._db is None or self.readonly or not self._set:
            return
        mark = f"staged:{os.urandom(8).hex()}"  # this build's: another's stage is not ours
        laid = dict(self._set)
        rows = [(path, *row) for path, layout in laid.items() if (row := layout.encode(mark))]
        try:
            self._replace(rows)
        except sqlite3.Error:
            return  # commit() writes them whole
        self._staged = (laid, mark)

    def commit(
        self, stamps: Mapping[str, Stamp] | None = None, unsynced: Mapping[str, str] | None = None
    ) -> None:
        """Keep the layouts set; ``stamps``: each file's stamp as the writer last saw it
        (``OutputWriter.stamps``, once settled), which a layout takes over its own, and
        ``unsynced`` the boot that left each file unsynced (``OutputWriter.unsynced``)."""
        if self._db is None or self.readonly:
            return
        laid = self._set
        if stamps is not None:
            marks = unsynced if unsynced is not None else {}
            laid = {
                path: replace(layout, stamp=stamps.get(path), boot=marks.get(path))
                for path, layout in laid.items()
            }
        staged, self._staged = self._staged, None
        same = staged is not None and staged[0].keys() == laid.keys()
        if same and staged is not None and all(staged[0][p] is self._set[p] for p in laid):
            self._stamp(laid, staged[1])  # the rows staged are these layouts'
            return
        rows = [(path, *row) for path, layout in laid.items() if (row := layout.encode())]
        # Another build holding it: the stamps keep a stale layout from being used.
        with contextlib.suppress(sqlite3.Error):
            self._replace(rows)

    def _replace(self, rows: list[tuple[str, str, str, bytes, bytes, bytes]]) -> None:
        """Every layout kept replaced by ``rows`` (path, stamp, then the ``files`` row)."""
        assert self._db is not None
        with self._db:
            self._db.execute("DELETE FROM files")
            self._db.execute("DELETE FROM stamps")
            self._db.executemany("INSERT INTO stamps VALUES (?, ?)", [r[:2] for r in rows])
            files = [(r[0], *r[2:]) for r in rows]
            self._db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?)", files)

    def _stamp(self, laid: Mapping[str, Layout], mark: str) -> None:
        """Give each staged row its file's stamp (a layout with none is dropped); a row
        another build wrote since (its mark is not ours) is left as it is."""
        assert self._db is not None
        stamped = [(o.stamp_text, p, mark) for p, o in laid.items() if o.stamp]
        gone = [(p, mark) for p, o in laid.items() if not o.stamp]
        try:
            with self._db:
                self._db.executemany(
                    "UPDATE stamps SET stamp = ? WHERE path = ? AND stamp = ?", stamped
                )
                # A layout whose file has no stamp: its stamp row goes, and with it the
                # layout (get() joins them); the 700 KB row stays until the next commit.
                self._db.executemany("DELETE FROM stamps WHERE path = ? AND stamp = ?", gone)
        except sqlite3.Error:
            pass  # the staged rows stay unused: the next build writes those files whole

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
