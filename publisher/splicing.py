"""Output files written from the files the last build wrote: only what changed is new.

A feed file or ``posts.json`` is a run of literal bytes (its head, the separators, its
tail) around one piece per post. Its :class:`Layout` (each piece's key and length, the
literals, and the file's stamp just after it was written) is kept in ``layouts.sqlite``
in the state folder (:class:`LayoutStore`, under the one cache policy of
:mod:`publisher.statecache`). The next build lays out the new file, and
:func:`splice_parts` says which runs of the old file it is made of and which new bytes go
between them; ``OutputWriter.write_splice`` copies the runs (by the kernel) only when the
file on disk still has the stamp the layout names. At 10,000 posts one post edited no
longer reads back and writes 140 MB of feed items and 6 MB of ``posts.json`` from Python
(issue 12); anything unexpected writes the whole file, as before.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import accumulate, chain, compress, count
from operator import ne
from pathlib import Path

from publisher import statecache
from publisher.dataclass import dataclass, replace
from publisher.output import OutputWriter, Part
from publisher.staged import laid_out
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
    key is a piece that is never reused."""

    stamp: Stamp | None
    keys: tuple[str, ...]
    lengths: tuple[int, ...]
    literals: tuple[bytes, ...]

    def encode(self, stamp: str | None = None) -> tuple[str, str, bytes, bytes, bytes] | None:
        """The ``files`` row (without its path); ``stamp``: a stamp column that is none
        (:meth:`LayoutStore.stage`), in place of the layout's own."""
        if stamp is None and self.stamp is None:
            return None
        if any("\n" in key for key in self.keys):
            return None
        cuts = array("q", [len(literal) for literal in self.literals]).tobytes()
        if stamp is None:
            stamp = ":".join(map(str, self.stamp or ()))
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
        try:
            size, mtime, inode, changed = map(int, stamp.split(":"))
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
        if len(parts) > 2 and not any(parts[1:-1]):
            # A feed's items follow one another: its head, empty literals, its tail.
            pieces = [literals[: parts[0]], *[b""] * (len(parts) - 2), literals[parts[0] :]]
        else:
            pieces, at = [], 0
            for cut in parts:  # a plain loop: faster here than slices made in C (measured)
                pieces.append(literals[at : at + cut])
                at += cut
        return cls(
            stamp=(size, mtime, inode, changed),
            keys=tuple(names),
            lengths=tuple(sizes),
            literals=tuple(pieces),
        )


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
        if self._db is None:
            return None
        try:
            row = self._db.execute(_SELECT, (relative,)).fetchone()
        except sqlite3.Error:
            return None
        return Layout.decode(row) if row is not None else None

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

    def commit(self, stamps: Mapping[str, Stamp] | None = None) -> None:
        """Keep the layouts set; ``stamps``: each file's stamp as the writer last saw it
        (``OutputWriter.stamps``, once settled), which a layout takes over its own."""
        if self._db is None or self.readonly:
            return
        laid = self._set
        if stamps is not None:
            laid = {path: replace(layout, stamp=stamps.get(path)) for path, layout in laid.items()}
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
        stamped = [(":".join(map(str, o.stamp)), p, mark) for p, o in laid.items() if o.stamp]
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


def template(render: Callable[[list[bytes]], bytes], mark: bytes, count: int) -> list[bytes] | None:
    """The literal bytes of a document of ``count`` pieces, from ``render`` given ``count``
    marks; None when the marks do not come out as they went in (a renderer that does more
    than put each piece's bytes in place)."""
    pieces = render([mark] * count).split(mark)
    return pieces if len(pieces) == count + 1 else None


def write_whole(
    writer: OutputWriter,
    relative: str,
    data: bytes,
    literals: Sequence[bytes] | None,
    keys: Sequence[str],
    lengths: Sequence[int],
) -> Layout | None:
    """Write ``data``; its layout, when it is laid out as ``literals`` around pieces of
    ``lengths``."""
    writer.write_bytes(relative, data)
    stamp = writer.stamps.get(relative)
    if literals is None or stamp is None or len(lengths) != len(keys):
        return None
    if not laid_out(data, literals, lengths):
        return None
    return Layout(stamp=stamp, keys=tuple(keys), lengths=tuple(lengths), literals=tuple(literals))


def write_spliced(
    writer: OutputWriter,
    relative: str,
    old: Layout | None,
    literals: Sequence[bytes],
    keys: Sequence[str],
    fresh: Callable[[list[int]], Sequence[bytes]],
) -> Layout | None:
    """Write ``relative`` laid out as ``literals`` around the pieces ``keys``, from the
    file ``old`` describes: pieces and literals it has are copied from it, the pieces at
    the positions it lacks come from ``fresh`` (given those positions). None, with
    nothing written, when there is no old layout or the file is no longer that one."""
    if old is None:
        return None
    keys, literals = tuple(keys), tuple(literals)
    old_keys, old_lengths = old.keys, old.lengths
    # The pieces and literals the old file has in the same places at its start and at its
    # end are one run each; only the pieces between (where the change is) are looked at.
    head, tail = _same_ends(old, literals, keys)
    places = _places(old, head, len(old_keys) - tail, keys[head : len(keys) - tail])
    if places is None:  # a piece between comes from the old file's ends: every place
        places = _places(old, 0, len(old_keys), keys)
        assert places is not None
        starts = (_literal_start(old, head), _literal_start(old, len(old_keys) - tail))
        places = (places[0], places[1], starts)
    literal_at, pieces, (head_end, tail_start) = places
    end = _literal_start(old, len(old_keys)) + len(old.literals[-1])
    stop = len(keys) - tail if tail else len(keys) + 1
    missing = [i for i in range(head, min(stop, len(keys))) if keys[i] not in pieces]
    made = dict(zip(missing, fresh(missing), strict=True))
    parts: list[Part] = []
    lengths: list[int] = []
    run: list[int] = []  # the open run of the old file: [start, end]

    def copy(start: int, length: int) -> None:
        if run and run[1] == start:
            run[1] += length
            return
        close()
        run[:] = [start, start + length]

    def close() -> None:
        if run:
            parts.append((run[0], run[1] - run[0]))
            run.clear()

    if head:
        copy(0, head_end)
        lengths.extend(old_lengths[:head])
    for index in range(head, stop):
        literal = literals[index]
        if literal:
            at = run[1] if run else 0 if index == 0 else -1
            if literal_at.get(at) == literal:
                copy(at, len(literal))
            else:
                close()
                parts.append(literal)
        if index == len(keys):
            break
        found = pieces.get(keys[index]) if index not in made else None
        if found is not None:
            copy(*found)
            lengths.append(found[1])
        else:
            close()
            parts.append(made[index])
            lengths.append(len(made[index]))
    if tail:
        copy(tail_start, end - tail_start)
        lengths.extend(old_lengths[len(old_keys) - tail :])
    close()
    if old.stamp is None or writer.write_splice(relative, parts, previous=old.stamp) is None:
        return None
    stamp = writer.stamps.get(relative)  # None while a thread writes it (overlap)
    return Layout(stamp=stamp, keys=tuple(keys), lengths=tuple(lengths), literals=tuple(literals))


#: Old literals by their offset, old pieces by key (offset, length), and where the old
#: literals at the first and the last place looked at start.
Places = tuple[dict[int, bytes], dict[str, tuple[int, int]], tuple[int, int]]


def _places(old: Layout, first: int, last: int, wanted: Sequence[str]) -> Places | None:
    """Where the old file's literals ``first`` to ``last`` and pieces ``first`` to
    ``last - 1`` are, built in C (zip, accumulate), not in a loop of the site's size:
    at 10,000 posts, one post edited, two pieces and three literals instead of 20,000.
    None when a ``wanted`` key is an old piece outside them (the caller asks for all)."""
    sizes = old.lengths
    start = _literal_start(old, first)
    # ends[2i]: where literal first + i starts, ends[2i + 1]: piece first + i; then the end.
    cuts = zip(map(len, old.literals[first : last + 1]), (*sizes[first:last], 0), strict=True)
    ends = list(accumulate(chain.from_iterable(cuts), initial=start))
    literal_at = dict(zip(ends[0:-1:2], old.literals[first : last + 1], strict=True))
    places = zip(ends[1:-2:2], sizes[first:last], strict=True)
    pieces = dict(zip(old.keys[first:last], places, strict=True))
    pieces.pop("", None)  # an empty key is never reused
    if first or last < len(old.keys):
        outside = (k for k in wanted if k and k not in pieces)
        if any(k in old.keys for k in outside):
            return None
    return literal_at, pieces, (start, ends[-3])


def _literal_start(old: Layout, index: int) -> int:
    """Where the old file's literal ``index`` starts."""
    return sum(map(len, old.literals[:index])) + sum(old.lengths[:index])


def _same_ends(old: Layout, literals: tuple[bytes, ...], keys: tuple[str, ...]) -> tuple[int, int]:
    """(how many pieces at the start, how many at the end) ``keys`` and ``literals`` have
    as ``old`` has them: the same keys (none empty), the same literals before each (and
    after the last, at the end). The two never overlap."""
    most = min(len(keys), len(old.keys))
    head = min(_common(keys, old.keys, most), _common(literals, old.literals, most))
    if "" in keys[:head]:
        head = keys.index("")
    room = most - head
    tail = _common(reversed(keys), reversed(old.keys), room)
    tail = min(tail, max(0, _common(reversed(literals), reversed(old.literals), room + 1) - 1))
    if "" in keys[len(keys) - tail :]:
        tail = 0  # a piece never reused is rare: the loop takes the end then
    return head, tail


def _common(a: Iterable[object], b: Iterable[object], most: int) -> int:
    """The length of the longest common start of ``a`` and ``b``, at most ``most`` (which
    is at most the length of each): the first pair that differs, found in C, without a
    slice of either (10,000 keys a file)."""
    differ = compress(count(), map(ne, a, b))
    return min(next(differ, most), most)
