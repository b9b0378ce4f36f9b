"""Which post folders changed since the site table was kept, without a digest of each one
(issue 12: one post edited at 10,000 posts).

The table keeps, beside its rows, the stat pass's walk of the posts folder as that build
saw it: a digest of the walk's labels (every file and folder under the posts folder, in
the walk's order) and a fingerprint of each entry's stat (a hash of its size, mtime,
inode and ctime). When the labels are the same as then, the folders that changed are
those with an entry whose fingerprint differs, or with a file too recent to be judged by
its stat: two arrays compared in C, and a digest made (``table.folders``' own) only for
the folders that changed, instead of one for every folder (35 ms at 10,000 posts). A file
added, removed or renamed under the posts folder changes the labels: the build then
compares every folder's digest, as before.
"""

from __future__ import annotations

import binascii
import os
from array import array
from collections.abc import Iterable, Sequence
from itertools import compress, count
from operator import itemgetter, ne

try:
    from _blake2 import blake2b  # hashlib's own, as snapshot.py takes it
except ImportError:  # an interpreter without CPython's module
    from hashlib import blake2b

from publisher.tuples import NamedTuple

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from publisher.snapshot import Snapshot
    from publisher.statwalk import Entry

#: The label prefix of the stat pass's walk of the posts folder (inputs.plan).
POSTS = "post:"
#: A label's characters before the name in the posts folder ("post:/").
_SKIP = len(POSTS) + 1
#: The fingerprint of an entry without a stat (a folder, a broken link): ``hash()`` never
#: gives -1 in CPython (it is its error value), so no stat has it.
_NONE = -1


class Walk(NamedTuple):
    """The walk of the posts folder as one build saw it: a digest of its labels, and each
    entry's fingerprint (``array("q")`` bytes, in the walk's order)."""

    labels: str
    prints: bytes

    def text(self) -> str:
        return f"{self.labels}:{binascii.b2a_base64(self.prints, newline=False).decode()}"

    @classmethod
    def parse(cls, text: str) -> Walk | None:
        """The walk :meth:`text` wrote; None for anything else (none kept, damage)."""
        labels, colon, prints = text.partition(":")
        if not colon or len(labels) != 40:
            return None
        try:
            data = binascii.a2b_base64(prints, strict_mode=True)
        except (binascii.Error, ValueError):
            return None
        return cls(labels, data) if len(data) % 8 == 0 else None


class Taken(NamedTuple):
    """The walk of this build's stat pass, and its entries."""

    walk: Walk
    entries: Sequence[Entry]
    #: The entries' fingerprints (``walk.prints`` as an array).
    prints: array[int]
    #: Where the posts folder's entries are in the snapshot's (start, end).
    span: tuple[int, int]


def group_of(label: str) -> str:
    """The name in the posts folder that ``label`` is under (a post's folder)."""
    return label[_SKIP:].partition("/")[0]


def take(snapshot: Snapshot) -> Taken | None:
    """The walk of the posts folder in ``snapshot``; None when it has no single one."""
    spans = [(start, end) for prefix, start, end in snapshot.walks if prefix == POSTS]
    if len(spans) != 1:
        return None
    start, end = spans[0]
    entries = snapshot.entries[start:end]
    labels = "\0".join(map(itemgetter(0), entries)).encode("utf-8", "surrogateescape")
    # One hash of the four numbers per entry (a Python expression: ~7 ms at 30,000).
    prints = array(
        "q",
        [
            _NONE if st is None else hash((st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns))
            for _, _, st in entries
        ],
    )
    walk = Walk(blake2b(labels, digest_size=20).hexdigest(), prints.tobytes())
    return Taken(walk, entries, prints, (start, end))


def changed_groups(taken: Taken, kept: Walk | None, recent: Iterable[str]) -> set[str] | None:
    """The post folders whose entries changed since ``kept`` was taken, and those holding
    a ``recent`` file; None when the labels differ (or nothing was kept): every folder's
    digest is compared instead."""
    if kept is None or kept.labels != taken.walk.labels:
        return None
    before = array("q")
    before.frombytes(kept.prints)
    if len(before) != len(taken.prints):
        return None
    entries = taken.entries
    changed = {group_of(entries[i][0]) for i in compress(count(), map(ne, taken.prints, before))}
    changed.update(group_of(label) for label in recent if label.startswith(POSTS))
    return changed


def digests_of(
    entries: Sequence[Entry], groups: set[str], recent: frozenset[str]
) -> dict[str, str]:
    """The digest of each folder of ``groups`` (``table.folders``' digest of it: the same
    lines, in the same order), from the posts folder's ``entries``."""
    if not groups:
        return {}
    prefixes = tuple(f"{POSTS}/{group}" for group in groups)
    lines: dict[str, list[str]] = {group: [] for group in groups}
    for label, _, st in entries:
        if not label.startswith(prefixes):
            continue  # the usual case, decided in C
        group = group_of(label)
        if group in lines:
            lines[group].append(line_of(label, st, recent))
    return {group: digest_of(found) for group, found in lines.items() if found}


def line_of(label: str, st: os.stat_result | None, recent: frozenset[str]) -> str:
    """An entry's line in its folder's digest: ``?`` when it is judged by its bytes."""
    if st is None:
        return f"{label}\0-"
    if label in recent:
        return "?"
    return f"{label}\0{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}"


def digest_of(lines: list[str]) -> str:
    """A folder's digest from its lines; ``?`` when one of them is judged by its bytes."""
    if "?" in lines:
        return "?"
    text = "\n".join(lines).encode("utf-8", "surrogateescape")
    return blake2b(text, digest_size=16).hexdigest()
