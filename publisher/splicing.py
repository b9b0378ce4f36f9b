"""Output files written from the files the last build wrote: only what changed is new.

A feed file or ``posts.json`` is a run of literal bytes (its head, the separators, its
tail) around one piece per post. Its :class:`Layout` (each piece's key and length, the
literals, and the file's stamp just after it was written) is kept in ``layouts.sqlite``
in the state folder (:mod:`publisher.layouts`). The next build lays out the new file, and
:func:`splice_parts` says which runs of the old file it is made of and which new bytes go
between them; ``OutputWriter.write_splice`` copies the runs (by the kernel) only when the
file on disk still has the stamp the layout names. At 10,000 posts one post edited no
longer reads back and writes 140 MB of feed items and 6 MB of ``posts.json`` from Python
(issue 12); anything unexpected writes the whole file, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate, chain, compress, count
from operator import ne

from publisher.layouts import LAYOUTS_FILE, Layout, LayoutStore
from publisher.output import OutputWriter, Part
from publisher.staged import laid_out

__all__ = ["LAYOUTS_FILE", "Layout", "LayoutStore", "template", "write_spliced", "write_whole"]


def template(
    render: Callable[[list[bytes]], bytes], mark: bytes, count: int, *, repeats: bool = False
) -> list[bytes] | None:
    """The literal bytes of a document of ``count`` pieces, from ``render`` given ``count``
    marks; None when the marks do not come out as they went in (a renderer that does more
    than put each piece's bytes in place). ``repeats``: the renderer puts the same bytes
    between any two pieces (a feed renderer's ``CONCATENATES``): the literals are those of
    three pieces, the middle ones repeated, when those two are the same (rendering 10,000
    marks cost a one-post build about 5 ms a feed file at 10,000 posts)."""
    if repeats and count > 3:
        three = template(render, mark, 3)
        if three is not None and three[1] == three[2]:
            return [three[0], *[three[1]] * (count - 1), three[3]]
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
    if old is None or old.stamp is None:
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
    if writer.write_splice(relative, parts, previous=old.stamp, mark=old.boot) is None:
        return None
    stamp = writer.stamps.get(relative)  # None while a thread writes it (overlap)
    return Layout(
        stamp=stamp,
        keys=tuple(keys),
        lengths=tuple(lengths),
        literals=tuple(literals),
        boot=writer.unsynced.get(relative),
    )


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
