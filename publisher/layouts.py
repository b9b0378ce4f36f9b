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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from publisher import boot, statecache
from publisher.dataclass import dataclass, replace
from publisher.stamps import Stamp

LAYOUTS_FILE = "layouts.sqlite"
#: 2: the stamps in a table of their own (LayoutStore.stage); 3: a layout in parts.
_LAYOUT_VERSION = 3
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS files (path TEXT NOT NULL, part INTEGER NOT NULL,"
    " keys TEXT NOT NULL, lengths BLOB NOT NULL, literals BLOB NOT NULL, cuts BLOB NOT NULL,"
    " PRIMARY KEY (path, part))",
    # Apart from the parts they stamp: SQLite rewrites a whole row to change one of its
    # columns. ``gen``: drawn anew by each write of a file's parts (LayoutStore._write).
    "CREATE TABLE IF NOT EXISTS stamps (path TEXT PRIMARY KEY, stamp TEXT NOT NULL,"
    " parts INTEGER NOT NULL, gen TEXT NOT NULL)",
)
#: One statement: its rows are one state of the file, whoever writes it meanwhile.
_SELECT = "SELECT stamp, parts, gen, part, keys, lengths, literals, cuts FROM stamps"
_SELECT += " JOIN files USING (path) WHERE path = ? ORDER BY part DESC"
#: The pieces of a ``files`` row: a layout is kept in parts counted from its end, where a
#: feed's oldest items stay put, so a build rewrites the parts its change touched, not the
#: whole layout (2 MB at 10,000 posts, 4 MB written with SQLite's journal: 30 to 70 ms of
#: a one-post build's wait, issue 12).
PART = 512


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


def _bounds(count: int, part: int) -> tuple[int, int]:
    """The pieces [lo, hi) of ``part`` (0: the last ones) of a layout of ``count``."""
    hi = count - part * PART
    return max(0, hi - PART), hi


def _parts(count: int) -> int:
    return max(1, -(-count // PART))


def _part_row(layout: Layout, part: int) -> tuple[str, bytes, bytes, bytes] | None:
    """``part``'s ``files`` columns: its keys, lengths, literals (the last part, 0, also
    the final one) and their lengths; None when a key holds a newline (not keepable)."""
    lo, hi = _bounds(len(layout.keys), part)
    keys = layout.keys[lo:hi]
    if any("\n" in key for key in keys):
        return None
    literals = layout.literals[lo : hi + 1 if part == 0 else hi]
    lengths = array("q", layout.lengths[lo:hi]).tobytes()
    return "\n".join(keys), lengths, b"".join(literals), array("q", map(len, literals)).tobytes()


def _same_part(new: Layout, old: Layout, part: int) -> bool:
    """Whether ``part`` of ``new`` holds what that of ``old`` holds (compared in C)."""
    lo, hi = _bounds(len(new.keys), part)
    low, high = _bounds(len(old.keys), part)
    if hi - lo != high - low:
        return False
    end = 1 if part == 0 else 0
    return (
        new.keys[lo:hi] == old.keys[low:high]
        and new.lengths[lo:hi] == old.lengths[low:high]
        and new.literals[lo : hi + end] == old.literals[low : high + end]
    )


def _joined(rows: Sequence[tuple[object, ...]]) -> tuple[tuple[object, ...], str] | None:
    """The one ``files`` row :meth:`Layout.decode` reads, from a file's parts (``_SELECT``'s
    rows), with the file's ``gen``; None when they are not the parts of one layout as
    :func:`_part_row` cuts it (damage: a part missing or holding another's pieces)."""
    if not rows:
        return None
    stamp, parts, gen = rows[0][:3]
    if type(parts) is not int or type(gen) is not str or len(rows) != parts:
        return None
    sizes_of = []
    for row in rows:
        sizes, cut = row[5], row[7]
        if not (isinstance(sizes, bytes) and isinstance(cut, bytes)) or len(sizes) % 8:
            return None
        sizes_of.append(sizes)
    count = sum(map(len, sizes_of)) // 8
    if _parts(count) != parts:
        return None
    texts, lengths, literals, cuts = [], [], [], []
    for at, (*_, part, keys, sizes, pieces, cut) in zip(
        range(parts - 1, -1, -1), rows, strict=True
    ):
        lo, hi = _bounds(count, at)
        if part != at or type(keys) is not str or type(pieces) is not bytes:
            return None
        assert isinstance(sizes, bytes) and isinstance(cut, bytes)
        if len(sizes) // 8 != hi - lo or len(cut) // 8 != hi - lo + (at == 0):
            return None
        widths = array("q")
        widths.frombytes(cut)  # a ValueError when damaged: the caller's None
        if sum(widths) != len(pieces):  # each part's literals its own, not a neighbour's
            return None
        if hi > lo:
            if keys.count("\n") != hi - lo - 1:
                return None
            texts.append(keys)
        lengths.append(sizes)
        literals.append(pieces)
        cuts.append(cut)
    return (stamp, "\n".join(texts), b"".join(lengths), b"".join(literals), b"".join(cuts)), gen


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
        #: Each layout read or written, with the ``gen`` its rows had then: a write
        #: while they still have it rewrites only the parts that changed.
        self._known: dict[str, tuple[Layout, str]] = {}
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
            found = _joined(self._db.execute(_SELECT, (relative,)).fetchall())
        except (sqlite3.Error, ValueError):
            return None
        layout = Layout.decode(found[0]) if found is not None else None
        if found is None or layout is None:
            return None
        self._known[relative] = (layout, found[1])
        return layout if boot.trusted(layout.boot) else None

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
        try:
            self._write(laid, lambda layout: mark)
        except sqlite3.Error:
            return  # commit() writes them
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
        # Another build holding it: the stamps keep a stale layout from being used.
        with contextlib.suppress(sqlite3.Error):
            self._write(laid, lambda layout: layout.stamp_text)

    def _write(self, laid: Mapping[str, Layout], stamp: Callable[[Layout], str | None]) -> None:
        """Every layout kept replaced by ``laid``, each with the stamp column ``stamp``
        gives it (None: not kept), in one transaction. The parts of a layout whose rows
        are still the ones this store read or wrote (their ``gen``: no other build wrote
        them since) are written where they changed; else all of them."""
        assert self._db is not None
        gen = os.urandom(8).hex()
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")  # the gens read and the write as one
            held = dict(self._db.execute("SELECT path, gen FROM stamps").fetchall())
            for path in held.keys() - laid.keys():
                self._drop(path)
            self._db.execute("DELETE FROM files WHERE path NOT IN (SELECT path FROM stamps)")
            for path, layout in laid.items():
                known = self._known.pop(path, None)
                old = known[0] if known is not None and held.get(path) == known[1] else None
                if self._write_one(path, layout, stamp(layout), old, gen):
                    self._known[path] = (layout, gen)

    def _write_one(
        self, path: str, layout: Layout, stamp: str | None, old: Layout | None, gen: str
    ) -> bool:
        """``path``'s rows: the parts of ``layout`` that differ from ``old``'s (all of
        them without one) and its stamp row; False, with its rows deleted, when it is
        not kept (no stamp, a key holding a newline)."""
        assert self._db is not None
        count = _parts(len(layout.keys))
        if old is None:
            self._db.execute("DELETE FROM files WHERE path = ?", (path,))
            changed: Sequence[int] = range(count)
        else:
            self._db.execute("DELETE FROM files WHERE path = ? AND part >= ?", (path, count))
            changed = [part for part in range(count) if not _same_part(layout, old, part)]
        rows = [(part, _part_row(layout, part)) for part in changed]
        if stamp is None or any(row is None for _, row in rows):
            self._drop(path)
            return False
        self._db.executemany(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
            [(path, part, *row) for part, row in rows if row is not None],
        )
        self._db.execute(
            "INSERT OR REPLACE INTO stamps VALUES (?, ?, ?, ?)", (path, stamp, count, gen)
        )
        return True

    def _drop(self, path: str) -> None:
        assert self._db is not None
        self._db.execute("DELETE FROM files WHERE path = ?", (path,))
        self._db.execute("DELETE FROM stamps WHERE path = ?", (path,))

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
