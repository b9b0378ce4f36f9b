"""The no-op fast path: one stat pass tells whether a build can change anything.

A build records, in ``inputs.json`` in the state folder, a digest of what it read and
wrote: the size, mtime and inode of every file under the posts folder (posts and their
images), of the config file, of the card fonts, logo, avatar and layouts, of the publisher code
and of the compiled libraries it renders with; a hash of the loaded config; and the stat of
every output file it produced (the files ``outputs.json`` lists, see output.py). It also
records what the CLI says about the run (counts and problems) and the span of time over
which the set of published posts stays the same (until the next scheduled post is due).

The next build stats the same files. When the digest is the same, ``now`` is inside that
span and the outputs are untouched, nothing is read, decoded, rendered or written, and no
worker pool starts: the recorded summary is reported again. Anything else (a changed,
added or removed file, an edited or deleted output, a new publisher, a post coming due)
is a full build, which records afresh.

The stats are taken before the build reads anything, so a post edited while a build runs
makes the next build a full one. A file whose mtime is within two seconds of that moment
is not judged by its stat (a coarse clock, FAT's or a network share's, could give a later
edit the same mtime): the digest holds a hash of its bytes instead, and the record names
it, so the next stat pass hashes it again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from pathlib import Path

import publisher
from publisher.config import Config
from publisher.errors import Problem
from publisher.output import write_state_file

INPUTS_FILE = "inputs.json"
_FORMAT = 1
#: Compiled libraries whose version changes what a build writes.
_LIBRARIES = ("cmarkgfm", "lxml", "nh3", "feedgen", "PIL", "yaml")
#: An mtime this close to the stat pass may not tell two versions of a file apart.
_RECENT_NS = 2_000_000_000

#: (label, path, stat or None when it cannot be stat'ed), in a fixed order.
Entry = tuple[str, str, os.stat_result | None]


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """Every input's stat, taken before a build reads anything."""

    entries: tuple[Entry, ...] = field(repr=False)
    #: The files changed too recently for their stat to be trusted.
    recent: frozenset[str]

    def digest(self, hashed: frozenset[str]) -> str:
        """A digest of the stats, with the files in ``hashed`` judged by their bytes."""
        digest = hashlib.blake2b(digest_size=20)
        for label, path, st in self.entries:
            if st is None:
                line = f"{label}\0-\n"
            elif label in hashed and stat.S_ISREG(st.st_mode):
                line = f"{label}\0{_file_hash(path)}\n"
            elif label in hashed:  # a folder: its entries are in the digest already
                line = f"{label}\0folder\n"
            else:
                line = f"{label}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n"
            digest.update(line.encode("utf-8", "surrogateescape"))
        return digest.hexdigest()


def _file_hash(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "blake2b").hexdigest()
    except OSError:
        return "-"


@dataclass(frozen=True, kw_only=True)
class Summary:
    """What the CLI reports of a build, kept for a no-op to report again."""

    files: int
    published: int
    drafts: int
    scheduled: int
    skipped: int
    problems: tuple[Problem, ...]


def _stat(paths: Iterable[tuple[str, Path]]) -> Iterator[Entry]:
    for label, path in paths:
        try:
            yield label, str(path), os.stat(path)
        except OSError:
            yield label, str(path), None


def _walk(folder: Path, prefix: str) -> Iterator[Entry]:
    """Every file and folder under ``folder`` with its stat, in a fixed order; symlinks
    are followed, as the posts glob follows them."""
    try:
        top = os.stat(folder)
    except OSError:
        yield prefix, str(folder), None
        return
    stack = [(str(folder), prefix)]
    seen = {(top.st_dev, top.st_ino)}
    while stack:
        path, label = stack.pop()
        try:
            entries = sorted(os.scandir(path), key=attrgetter("name"))
        except OSError:
            continue
        for entry in entries:
            name = f"{label}/{entry.name}"
            try:
                if entry.is_dir():
                    # A folder's own stat says nothing its entries do not; only a linked
                    # one is stat'ed, so that a symlink loop is walked once.
                    yield name + "/", entry.path, None
                    if entry.is_symlink():
                        st = entry.stat()
                        if (st.st_dev, st.st_ino) in seen:
                            continue
                        seen.add((st.st_dev, st.st_ino))
                    stack.append((entry.path, name))
                    continue
                yield name, entry.path, entry.stat()
            except OSError:
                yield name, entry.path, None


def _code_files() -> Iterator[tuple[str, Path]]:
    package = Path(publisher.__file__).parent
    for root, folders, files in os.walk(package):
        folders.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = Path(root, name)
                yield f"code:{path.relative_to(package).as_posix()}", path
    for library in _LIBRARIES:
        spec = importlib.util.find_spec(library)
        if spec is not None and spec.origin:
            yield f"lib:{library}", Path(spec.origin)


def _card_files(config: Config) -> Iterator[tuple[str, Path]]:
    if not config.cards.enabled:
        return
    options = config.cards.options
    for path in (options.font_regular, options.font_bold, options.logo, options.author_avatar):
        if path is not None:
            yield f"card:{path}", path
    for name in options.fallback_fonts:
        yield f"card:{name}", Path(name)
    if options.layouts_folder is not None:
        yield from ((label, Path(p)) for label, p, _ in _walk(options.layouts_folder, "layout:"))


def take_snapshot(config: Config) -> Snapshot:
    """Stat every input of a build of ``config``."""
    started_ns = time.time_ns()
    # The config's repr stands for what the config file says once loaded (paths resolved).
    head = f"{_FORMAT}\0{publisher.__version__}\0{sys.version}\0{config!r}"
    head_hash = hashlib.blake2b(head.encode("utf-8", "surrogateescape")).hexdigest()
    entries: list[Entry] = [(f"head:{head_hash}", "", None)]
    entries.extend(_stat([("config", config.source)]))
    entries.extend(_stat(_code_files()))
    entries.extend(_stat(_card_files(config)))
    entries.extend(_walk(config.posts.folder, "post:"))
    recent = frozenset(
        label
        for label, _, st in entries
        if st is not None and st.st_mtime_ns > started_ns - _RECENT_NS
    )
    return Snapshot(entries=tuple(entries), recent=recent)


def outputs_digest(config: Config, outputs: Iterable[str]) -> str:
    """The outputs are not inputs, but a deleted or hand-edited output must be rewritten."""
    snapshot = Snapshot(
        entries=tuple(_stat((o, config.output / o) for o in outputs)), recent=frozenset()
    )
    return snapshot.digest(frozenset())


@dataclass(frozen=True, kw_only=True)
class Recorded:
    """The last build's ``inputs.json``."""

    digest: str
    #: Inputs judged by their bytes, not their stat (they were recent when recorded).
    hashed: frozenset[str]
    outputs: tuple[str, ...]
    outputs_digest: str
    #: The published posts stay the same for ``now`` in [live_from, live_until).
    live_from: datetime | None
    live_until: datetime | None
    summary: Summary

    def covers(self, now: datetime) -> bool:
        after = self.live_from is None or now >= self.live_from
        before = self.live_until is None or now < self.live_until
        return after and before


def load(state: Path) -> Recorded | None:
    """The last build's record, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads((state / INPUTS_FILE).read_text(encoding="utf-8"))
        if data.get("format") != _FORMAT:
            return None
        summary = data["summary"]
        return Recorded(
            digest=data["digest"],
            hashed=frozenset(data["hashed"]),
            outputs=tuple(data["outputs"]),
            outputs_digest=data["outputs_digest"],
            live_from=_when(data["live_from"]),
            live_until=_when(data["live_until"]),
            summary=Summary(
                files=summary["files"],
                published=summary["published"],
                drafts=summary["drafts"],
                scheduled=summary["scheduled"],
                skipped=summary["skipped"],
                problems=tuple(Problem(**p) for p in summary["problems"]),
            ),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def forget(state: Path) -> None:
    """Drop the record: the next build is a full one."""
    (state / INPUTS_FILE).unlink(missing_ok=True)


def record(
    state: Path,
    config: Config,
    before: Snapshot,
    *,
    outputs: Iterable[str],
    live_from: datetime | None,
    live_until: datetime | None,
    summary: Summary,
) -> None:
    """Record a finished build whose inputs were ``before`` (stat'ed as it started).

    An input edited while the build ran no longer matches ``before``, so the next build
    is a full one.
    """
    listed = sorted(set(outputs))
    data = {
        "format": _FORMAT,
        "digest": before.digest(before.recent),
        "hashed": sorted(before.recent),
        "outputs": listed,
        "outputs_digest": outputs_digest(config, listed),
        "live_from": live_from.isoformat() if live_from else None,
        "live_until": live_until.isoformat() if live_until else None,
        "summary": {
            "files": summary.files,
            "published": summary.published,
            "drafts": summary.drafts,
            "scheduled": summary.scheduled,
            "skipped": summary.skipped,
            "problems": [p.as_dict() for p in summary.problems],
        },
    }
    write_state_file(state / INPUTS_FILE, json.dumps(data, sort_keys=True) + "\n")


def unchanged(config: Config, now: datetime) -> tuple[Snapshot, Recorded | None]:
    """The stat pass: (the snapshot, the last record when nothing changed since it)."""
    snapshot = take_snapshot(config)
    last = load(config.state)
    if (
        last is None
        or not last.covers(now)
        or last.digest != snapshot.digest(last.hashed | snapshot.recent)
        or outputs_digest(config, last.outputs) != last.outputs_digest
    ):
        return snapshot, None
    return snapshot, last
