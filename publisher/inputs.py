"""The no-op check: one stat pass tells whether a build can change anything.

A build records, in ``inputs.json`` in the state folder, a digest of what it read and
wrote: the size, mtime, inode and ctime of every file under the posts folder (posts and their
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

Beside it, ``inputs.tree`` keeps for the next stat pass each folder's stat and entries (a
folder whose stat is unchanged is not listed again, snapshot.py), written only when a folder
was listed; every build's stat pass starts from it. The record keeps, for the fast path that
runs before the config is loaded (fastpath.py), a ``fast`` section: what the loaded config
was made of (loadtrail.py), the plan of the stat pass, and the problem lines as the CLI
prints them. A config the fast path cannot vouch for (another generator's files,
announcement templates, a file the loader read changed just before) gets no ``fast``
section: the CLI decides, as before. A no-op brings the record up to date.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path

import publisher
from publisher import fastpath, snapshot
from publisher.atomic import write_atomic
from publisher.config import Config
from publisher.dataclass import dataclass, field
from publisher.digests import blake2b
from publisher.errors import OutputError, Problem, PublisherError
from publisher.resources import assets, templates
from publisher.snapshot import Snapshot
from publisher.sweep import write_state_file

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

__all__ = ["INPUTS_FILE", "Recorded", "Snapshot", "Summary", "load", "record", "unchanged"]

INPUTS_FILE = "inputs.json"
_FORMAT = 3
#: Compiled libraries whose version changes what a build writes.
_LIBRARIES = ("cmarkgfm", "lxml", "nh3", "feedgen", "PIL", "yaml")
#: The label of the posts folder's walk: what a loaded config does not depend on
#: (config/stored.py).
_POSTS = snapshot.POSTS
#: Labels of what loading the config reads (the fast path trusts them only when older
#: than the load).
_LOADED = ("config", "card:", "layout:", "data:")


@dataclass(frozen=True, kw_only=True)
class Summary:
    """What the CLI reports of a build, kept for a no-op to report again."""

    files: int
    published: int
    drafts: int
    scheduled: int
    skipped: int
    problems: tuple[Problem, ...]


def _card_steps(config: Config) -> Iterator[list[str]]:
    """The card inputs; the loader checks the fonts, pictures and layouts even with cards
    off, so those count either way."""
    options = config.cards.options
    for path in (options.font_regular, options.font_bold, options.logo, options.author_avatar):
        if path is not None:
            yield ["stat", f"card:{path}", str(path)]
    if config.cards.enabled:
        for name in options.fallback_fonts:
            yield ["stat", f"card:{name}", name]
    if options.layouts_folder is not None:
        yield ["walk", "layout:", str(options.layouts_folder), ""]


def _head(config: Config) -> str:
    # The config's repr stands for what the config file says once loaded (paths resolved).
    head = f"{_FORMAT}\0{publisher.__version__}\0{sys.version}\0{config!r}"
    return f"head:{blake2b(head.encode('utf-8', 'surrogateescape')).hexdigest()}"


def plan(config: Config, elsewhere: Iterable[str] = ()) -> list[list[str]]:
    """What the stat pass of a build of ``config`` stats (see snapshot.py); ``elsewhere``:
    the og image files the last build's posts looked up outside the posts folder."""
    steps = [["head", _head(config)], ["stat", "config", str(config.source)]]
    steps.append(["walk", "code:", os.path.dirname(publisher.__file__), "code"])
    # Shipped layouts, fonts and templates: read by the loader and the stages.
    steps.extend(["walk", f"data:{name}", str(path), ""] for name, path in _data())
    # In a source tree, the built-in announcers are read from it (announce/registry.py).
    steps.append(["stat", "data:pyproject.toml", str(_PACKAGE.parent / "pyproject.toml")])
    steps.extend(["lib", library] for library in _LIBRARIES)
    # An installed or removed package (an announcer plugin, a new library) changes the
    # folder it lands in.
    steps.extend(["stat", f"site:{p}", p] for p in site_folders())
    steps.extend(_card_steps(config))
    # An og image outside the posts folder (a generator's assets or static folder): its
    # post's folder does not change with it, its card and feed items do.
    steps.extend(["stat", f"image:{path}", path] for path in sorted(elsewhere))
    steps.append(["walk", _POSTS, str(config.posts.folder), ""])
    return steps


_PACKAGE = Path(publisher.__file__).resolve().parent


def _data() -> tuple[tuple[str, Path], ...]:
    return (("assets", assets()), ("templates", templates()))


def site_folders() -> list[str]:
    """The folders packages are installed in, as this process finds them."""
    return [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")]


def take_snapshot(config: Config) -> Snapshot:
    """Stat every input of a build of ``config``, from the last record kept in the state
    folder (see :func:`_snapshot`)."""
    return _snapshot(config, load(config.state))


def _snapshot(config: Config, last: Recorded | None) -> Snapshot:
    """Stat every input of a build of ``config``. ``last``, the last record, gives the
    tree (a ``publish`` or ``build --json`` lists only the folders that changed too, not
    10,000 of them, 95 ms of CPU at 10,000 posts) and the og images outside the posts
    folder, stat'ed too."""
    steps = plan(config, last.elsewhere if last is not None else ())
    handed = fastpath.handed
    if handed is not None and handed[0] == steps:
        # The fast path of this run stat'ed the same inputs a moment ago, before the config
        # was read: earlier is never less safe (anything changed since then shows next time).
        fastpath.handed = None
        return handed[1]
    started = time.time_ns()
    if config.trail is not None:
        # What the loader read counts as recent from the moment it started reading.
        started = min(started, config.trail.started_ns)
    known = last.tree if last is not None else snapshot.read_tree(str(config.state))
    return snapshot.take(steps, known, started)


def outputs_digest(config: Config, outputs: Iterable[str]) -> str:
    """The outputs are not inputs, but a deleted or hand-edited output must be rewritten."""
    return snapshot.outputs_digest(str(config.output), list(outputs))


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
    #: The folders walked, for the next stat pass (snapshot.py).
    tree: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: What the fast path checks (fastpath.py); None when the build did not qualify.
    fast: Mapping[str, Any] | None = field(default=None, repr=False)
    #: The file as read, to rewrite it with a fresh digest and fast section.
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: The og image files the posts looked up outside the posts folder (:func:`plan`).
    elsewhere: tuple[str, ...] = ()

    def covers(self, now: datetime) -> bool:
        after = self.live_from is None or now >= self.live_from
        before = self.live_until is None or now < self.live_until
        return after and before


def load(state: Path) -> Recorded | None:
    """The last build's record, or None when there is none (or it is unreadable)."""
    handed = fastpath.record
    fastpath.record = None
    tree = None
    try:
        if handed is not None and handed[0] == str(state):
            data = handed[1]  # as the fast path of this run read it a moment ago
            tree = data.get("tree")  # and the tree file beside it
        else:
            data = json.loads((state / INPUTS_FILE).read_text(encoding="utf-8"))
            if not snapshot.sealed(data):
                return None  # damaged: a full build, never a wrong "nothing changed"
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
            tree=tree if isinstance(tree, dict) else snapshot.read_tree(str(state)),
            fast=data.get("fast"),
            data=data,
            elsewhere=tuple(str(path) for path in data.get("elsewhere", ())),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def forget(state: Path) -> None:
    """Drop the record: the next build is a full one."""
    (state / INPUTS_FILE).unlink(missing_ok=True)
    (state / snapshot.TREE_FILE).unlink(missing_ok=True)


def record(
    state: Path,
    config: Config,
    before: Snapshot,
    *,
    outputs: Iterable[str],
    live_from: datetime | None,
    live_until: datetime | None,
    summary: Summary,
    elsewhere: Iterable[str] = (),
) -> None:
    """Record a finished build whose inputs were ``before`` (stat'ed as it started).

    An input edited while the build ran no longer matches ``before``, so the next build
    is a full one.
    """
    listed = sorted(set(outputs))
    summary_data = {
        "files": summary.files,
        "published": summary.published,
        "drafts": summary.drafts,
        "scheduled": summary.scheduled,
        "skipped": summary.skipped,
        "problems": [p.as_dict() for p in summary.problems],
    }
    data = {
        "format": _FORMAT,
        "outputs": listed,
        "outputs_digest": outputs_digest(config, listed),
        "live_from": live_from.isoformat() if live_from else None,
        "live_until": live_until.isoformat() if live_until else None,
        "summary": summary_data,
        # Stat'ed by the next stat pass: one whose set differs from ``before``'s is no
        # no-op (its plan differs), so a new one is seen after the build that used it.
        "elsewhere": sorted(set(elsewhere)),
    }
    _write(state, config, before, data)


def _write(state: Path, config: Config, before: Snapshot, data: Mapping[str, Any]) -> None:
    """inputs.json: ``data`` with the digest and fast section of ``before``; and the tree
    file, when ``before`` listed a folder (a build that edited a post in place did not)."""
    problems = [Problem(**p) for p in data["summary"]["problems"]]
    fast = _fast(config, before, problems, data.get("elsewhere", ()))
    _write_record(state / INPUTS_FILE, snapshot.record_text({**data, "fast": fast}, before))
    if before.tree != before.known:
        try:
            write_atomic(state / snapshot.TREE_FILE, snapshot.tree_bytes(before.tree), sync=False)
        except OSError as exc:
            raise OutputError(
                f"cannot write {state / snapshot.TREE_FILE}: {exc.strerror}; check the state folder"
            ) from None


def _write_record(path: Path, text: str) -> None:
    """inputs.json whole or not at all (and not at all when it is the same), but not
    fsynced as the outputs and caches are: 1.2 MB at 10,000 posts, written after every
    build. A crash may leave the old record or a damaged one, never a wrong "nothing
    changed": the old record's digest is not the new inputs', and a damaged record is no
    record (a full build)."""
    write_state_file(path, text, sync=False)


def _fast(
    config: Config, before: Snapshot, problems: list[Problem], elsewhere: Iterable[str] = ()
) -> dict[str, Any] | None:
    """What the fast path needs to decide without loading the config, or None when this
    config is not one it can decide for."""
    trail = config.trail
    if (
        trail is None
        # A config changed after loading (dataclasses.replace) is not what the file says.
        or not {str(config.state), str(config.output)} <= {real for _, real in trail.resolved}
        or config.posts.generator != "generic"  # the generator's own files are read too
        or any(k in t.options for t in config.announce.targets for k in _TEMPLATES)
        or any(label.startswith(_LOADED) for label in before.recent)
    ):
        return None
    fast: dict[str, Any] = {
        "source": str(config.source),
        "state": str(config.state),
        "output": str(config.output),
        "code": os.path.dirname(publisher.__file__),
        "version": publisher.__version__,
        "python": sys.version,
        "site": site_folders(),
        "config": trail.digest,
        "resolved": [list(pair) for pair in trail.resolved],
        "plan": plan(config, elsewhere),
        # As the CLI prints them: errors always, the rest but with -q.
        "problems": [[p.severity == "error", f"{p.severity}: {p}"] for p in problems],
    }
    from publisher.config import stored

    kept = stored.encode(config)
    outside = before.digest_outside(_POSTS)
    if kept is not None and outside is not None:
        fast["stored"] = {**kept, "outside": outside}
    return fast


#: A target's templates are read when the config loads.
_TEMPLATES = ("template", "html_template")


def unchanged(config: Config, now: datetime) -> tuple[Snapshot, Recorded | None]:
    """The stat pass: (the snapshot, the last record when nothing changed since it)."""
    last = load(config.state)
    snapshot = _snapshot(config, last)
    if (
        last is None
        or not last.covers(now)
        or last.digest != snapshot.digest(last.hashed | snapshot.recent)
        or outputs_digest(config, last.outputs) != last.outputs_digest
    ):
        return snapshot, None
    # Nothing changed: the record is brought up to date (folders listed again, a fast
    # section now that the config file is old enough), so that the next pass is cheaper.
    with contextlib.suppress(PublisherError):  # a read-only state folder: next time then
        _write(config.state, config, snapshot, last.data)
    return snapshot, last
