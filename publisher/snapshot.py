"""The stat pass of the no-op check: every input's stat, in a fixed order, and its digest.

A leaf module (the standard library only): the build (inputs.py) and the fast path that
runs before the CLI is imported (fastpath.py) take the same snapshot with the same code.

What is stat'ed is a *plan*, a list of steps made from the config by inputs.py and kept
in the record, so that the fast path repeats it without loading the config::

    ["head", label]            a fixed line (the code version and the loaded config's hash)
    ["stat", label, path]      one file's stat (None when it cannot be stat'ed)
    ["walk", prefix, path, f]  every file and folder under ``path``; ``f`` "code" keeps
                               only ``.py`` files out of ``__pycache__``
    ["lib", name]              a library's file, found as ``import name`` would find it

A walk (statwalk.py) lists each folder once per build at most: a folder whose stat (inode,
size, mtime, ctime) is the one the last record kept, and older than two seconds, is not
listed again; its recorded entries are used.
"""

from __future__ import annotations

import os
import stat
import sys
from operator import itemgetter
from struct import Struct
from struct import error as StructError

try:
    # hashlib's own blake2b (it never takes OpenSSL's), without hashlib loading OpenSSL: a
    # third of this module's import time, and the fast path's answer waits for it.
    from _blake2 import blake2b
except ImportError:  # an interpreter without CPython's module
    from hashlib import blake2b

from publisher import boot
from publisher.recordfile import TREE_FILE, read_tree, seal, sealed, tree_bytes
from publisher.statwalk import Entry, Listing, Stale, Walker, stat_or_none

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (the fast path)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = [
    "POSTS",
    "TREE_FILE",
    "Entry",
    "Listing",
    "Snapshot",
    "Stale",
    "file_hash",
    "outputs_digest",
    "read_tree",
    "seal",
    "sealed",
    "take",
    "tree_bytes",
]

#: The label prefix of the walk of the posts folder (inputs.plan): the posts finder
#: globs that walk instead of the folder (posts/listed.py).
POSTS = "post:"
#: An mtime this close to the stat pass may not tell two versions of a file apart.
RECENT_NS = 2_000_000_000


class Snapshot:
    """Every input's stat, taken before a build reads anything.

    A plain class, not a dataclass: the fast path imports this module, and dataclasses
    (with inspect and ast) would cost it more than its whole stat pass at 1,000 posts.
    """

    __slots__ = (
        "_digests",
        "_hashes",
        "entries",
        "known",
        "odd",
        "recent",
        "relisted",
        "tree",
        "walks",
    )

    def __init__(
        self,
        *,
        entries: tuple[Entry, ...],
        recent: frozenset[str],
        tree: Mapping[str, Listing] | None = None,
        relisted: int = 0,
        walks: tuple[tuple[str, int, int], ...] = (),
        odd: frozenset[str] = frozenset(),
        known: Mapping[str, Any] | None = None,
    ) -> None:
        self.entries = entries
        #: Each walk step's label prefix and the slice of ``entries`` it gave.
        self.walks = walks
        #: The prefixes of walks whose entries are not what a glob would find
        #: (statwalk.Walker.odd).
        self.odd = odd
        #: The files changed too recently for their stat to be trusted.
        self.recent = recent
        #: Each folder walked, with its stat and entries, for the next stat pass.
        self.tree: Mapping[str, Listing] = tree if tree is not None else {}
        #: The last record's tree this pass was taken with: when :attr:`tree` is the same,
        #: the tree file need not be written again (:func:`tree_bytes`).
        self.known: Mapping[str, Any] = known if known is not None else {}
        #: Folders listed although old enough to be known by their stat: a record of this
        #: snapshot would spare the next pass listing them.
        self.relisted = relisted
        #: Each digest made, by the files it hashed: the fast path, the no-op check and the
        #: record of one build ask for the same one (at 10,000 posts, ~25 ms each time).
        self._digests: dict[frozenset[str], str] = {}
        #: Each file hashed, by label: hashed once, when first asked (before the build
        #: reads it), so the record says what the build read even if it changed since.
        self._hashes: dict[str, str] = {}

    def hash_recent(self) -> None:
        """Hash the recent files now, before the build reads them: hashed when its record
        is written, after the build, a post edited while it ran would be recorded as read
        (and the next build would find nothing changed)."""
        recent = self.recent
        if not recent:
            return  # the usual case: not a walk over 30,000 entries at 10,000 posts
        for label, path, st in self.entries:
            if label in recent and st is not None and stat.S_ISREG(st.st_mode):
                self._hashes[label] = file_hash(path)

    def digest(self, hashed: frozenset[str]) -> str:
        """A digest of the stats, with the files in ``hashed`` judged by their bytes."""
        known = self._digests.get(hashed)
        if known is None:
            known = self._digests[hashed] = self._digest(hashed)
        return known

    def digest_outside(self, prefix: str) -> str | None:
        """A digest of the stats of every input whose label does not start with ``prefix``
        (the posts folder's), or None when one of them is too recent to be judged by its
        stat: what loading the config depends on (config/stored.py)."""
        lines = []
        recent = self.recent
        entries = self.entries
        # The walk of the posts folder is most of the entries: its slice is skipped whole.
        skipped = [(start, end) for walked, start, end in self.walks if walked == prefix]
        for start, end in sorted(skipped, reverse=True):
            entries = entries[:start] + entries[end:]
        for label, _, st in entries:
            if label.startswith(prefix):
                continue
            if label in recent:
                return None
            if st is None:
                lines.append(f"{label}\0-\n")
            else:
                lines.append(
                    f"{label}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\0{st.st_ctime_ns}\n"
                )
        text = "".join(lines).encode("utf-8", "surrogateescape")
        return blake2b(text, digest_size=20).hexdigest()

    def _digest(self, hashed: frozenset[str]) -> str:
        try:
            return self._packed(hashed)
        except StructError:
            # A time past 2262 or before 1677 (``touch -d 2300-01-01``): more than 64 bits of
            # nanoseconds. The same stats as lines of text, as wide as they need.
            return self._lines(hashed)

    def _packed(self, hashed: frozenset[str]) -> str:
        # Each entry's stat as 33 packed bytes, not a line of text: formatting four numbers
        # per entry was most of the digest's 18 to 30 ms at 10,000 posts (30,000 entries).
        # The labels go first, with their length: what follows is one fixed-size record
        # per label, then the hashes of the files judged by their bytes, in order.
        entries = self.entries
        labels = "\0".join(map(itemgetter(0), entries)).encode("utf-8", "surrogateescape")
        digest = blake2b(len(labels).to_bytes(8, "little"), digest_size=20, person=b"packed")
        digest.update(labels)
        pack = _STAT
        if not hashed:  # the usual case: nothing too recent, in the last record or now
            digest.update(
                b"".join(
                    [
                        _NONE
                        if st is None
                        else pack(b"s", st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
                        for _, _, st in entries
                    ]
                )
            )
            return digest.hexdigest()
        hashes = self._hashes
        records: list[bytes] = []
        judged: list[str] = []
        for label, path, st in entries:
            if st is None:
                records.append(_NONE)
            elif label in hashed and stat.S_ISREG(st.st_mode):
                if label not in hashes:
                    hashes[label] = file_hash(path)
                records.append(_HASHED)
                judged.append(hashes[label])
            elif label in hashed:  # a folder: its entries are in the digest already
                records.append(_FOLDER)
            else:
                records.append(pack(b"s", st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns))
        digest.update(b"".join(records))
        digest.update("\0".join(judged).encode("ascii"))
        return digest.hexdigest()

    def _lines(self, hashed: frozenset[str]) -> str:
        lines = []
        hashes = self._hashes
        for label, path, st in self.entries:
            if st is None:
                lines.append(f"{label}\0-\n")
            elif label in hashed and stat.S_ISREG(st.st_mode):
                if label not in hashes:
                    hashes[label] = file_hash(path)
                lines.append(f"{label}\0{hashes[label]}\n")
            elif label in hashed:  # a folder: its entries are in the digest already
                lines.append(f"{label}\0folder\n")
            else:
                lines.append(
                    f"{label}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\0{st.st_ctime_ns}\n"
                )
        text = "".join(lines).encode("utf-8", "surrogateescape")
        return blake2b(text, digest_size=20, person=b"lines").hexdigest()


#: An entry's record in the digest: a kind, then the size, mtime, inode and ctime (the
#: ctime too: an edit that keeps the size and mtime, touch -r or rsync -t, cannot keep it).
_STAT = Struct("<cQqQq").pack
_NONE = b"-" + bytes(32)  # no stat: a folder's own line, a missing file
_HASHED = b"h" + bytes(32)  # judged by its bytes: its hash follows the records
_FOLDER = b"d" + bytes(32)  # a recent folder: its entries are in the digest already


def file_hash(path: str) -> str:
    """The blake2b of a file's bytes (``hashlib.file_digest(handle, "blake2b")``)."""
    try:
        with open(path, "rb") as handle:
            digest = blake2b()
            while block := handle.read(1 << 18):
                digest.update(block)
            return digest.hexdigest()
    except OSError:
        return "-"


def _library(name: str) -> str | None:
    """Where ``import name`` finds a top-level module: ``importlib.util.find_spec(name)``'s
    origin, asking the import system's finders in turn as it does (importlib.util itself
    costs the fast path ~3 ms to import; tests/test_snapshot_digest.py holds them equal)."""
    module = sys.modules.get(name)
    if module is not None:
        spec = getattr(module, "__spec__", None)
    else:
        spec = None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            try:
                spec = find_spec(name, None, None) if find_spec is not None else None
            except (ImportError, ValueError):
                return None
            if spec is not None:
                break
    origin = getattr(spec, "origin", None)
    return origin if isinstance(origin, str) and origin else None


def _run(
    plan: list[list[str]], walker: Walker, walks: list[tuple[str, int, int]]
) -> tuple[Entry, ...]:
    out: list[Entry] = []
    del walks[:]
    for step in plan:
        kind = step[0]
        if kind == "head":
            out.append((step[1], "", None))
        elif kind == "stat":
            out.append((step[1], step[2], stat_or_none(step[2])))
        elif kind == "walk":
            start = len(out)
            walker.walk(step[2], step[1], step[3], out)
            walks.append((step[1], start, len(out)))
        elif kind == "lib":
            origin = _library(step[1])
            if origin is not None:
                out.append((f"lib:{step[1]}", origin, stat_or_none(origin)))
        else:
            raise ValueError(f"unknown step {kind!r}")
    return tuple(out)


def take(plan: list[list[str]], known: Mapping[str, Any], started_ns: int) -> Snapshot:
    """Run ``plan``; ``known`` is the last record's tree (folders not listed again)."""
    since = started_ns - RECENT_NS
    walker = Walker(known, since)
    walks: list[tuple[str, int, int]] = []
    try:
        entries = _run(plan, walker, walks)
    except Stale:
        walker = Walker({}, since)
        entries = _run(plan, walker, walks)
    recent = [label for label, _, st in entries if st is not None and st.st_mtime_ns > since]
    taken = Snapshot(
        entries=entries,
        recent=frozenset(recent),
        tree=walker.tree,
        relisted=walker.relisted,
        walks=tuple(walks),
        odd=frozenset(walker.odd),
        known=known,
    )
    taken.hash_recent()
    return taken


def record_text(data: Mapping[str, Any], taken: Snapshot) -> str:
    """inputs.json's text: ``data`` with the digest and the files hashed of ``taken`` (inputs.py
    writes it after a build, fastpath.py brings it up to date), sealed with a check of its
    own (:func:`sealed`). The tree is not in it: it is the tree file's (:func:`tree_bytes`)."""
    import json

    record = {**data, "digest": taken.digest(taken.recent), "hashed": sorted(taken.recent)}
    return json.dumps(seal(record), sort_keys=True) + "\n"


def outputs_digest(output: str, outputs: list[str]) -> str:
    """The outputs are not inputs, but a deleted or hand-edited output must be rewritten.

    Their ctime counts too: an output edited by hand may keep its size and mtime
    (``touch -r``, ``rsync -t``), and a build leaves an unchanged output alone. The boot
    counts too: a spliced output is not synced, and after a reboot its stat may be the
    same over lost bytes (boot.py), so the first build of a boot is never a no-op."""
    lines = [f"boot\0{boot.current() or ''}\n"]
    for name in outputs:
        st = stat_or_none(os.path.join(output, name))
        if st is None:
            lines.append(f"{name}\0-\n")
        else:
            lines.append(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\0{st.st_ctime_ns}\n")
    text = "".join(lines).encode("utf-8", "surrogateescape")
    return blake2b(text, digest_size=20).hexdigest()
