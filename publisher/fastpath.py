"""``publish build`` with nothing changed, answered before click and the config loader load.

The console entry point (``publisher.cli.main``) calls :func:`run` first. It answers only
a plain build (``build`` with ``-q``, ``-v``, ``--config``, ``--jobs`` or
``--detailed-exit-codes``, before or after the command's name); anything else, and any
doubt on the way, returns None and the normal CLI runs, which decides as it always did.

For that build it finds the config file as the CLI would, the state folder the last build
recorded for it (``.publisher`` beside it, or the ``state: folder`` its text names), and
the ``fast`` section of that build's ``inputs.json`` (inputs.py). The answer is "nothing
changed" only when all of these hold:

- the config file is the same file, its text and every environment variable it names are
  the same (one digest), and each path the loader resolved still resolves the same way
  (loadtrail.py): the config it would load is the one the last build used;
- publisher is the same code (the same folder, version and Python);
- the stat pass the last build recorded (snapshot.py) gives the same digest: posts, their
  images, card fonts, layouts, publisher's own code, the libraries;
- the output files are the ones the last build wrote, and ``now`` is inside the span over
  which the set of published posts stays the same.

It then prints what the normal no-op prints (the last build's problems and its summary
line) and exits with the same code. Any other plain build runs without click
(cli/plain.py: ``publisher.cli.main`` is handed the options, :data:`plain`); when the
config is the one the last build loaded (the first two points hold, and ``now`` is inside
that span), it is also handed this stat pass and the record read (:data:`handed`,
:data:`record`), and takes them instead of doing that work again. It imports the standard library only (no click, no YAML, no
publisher.config): tests/test_fastpath.py checks both that and that its answers are the
CLI's.
"""

from __future__ import annotations

import os
import re
import sys
import time

import publisher

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from publisher import loadtrail, snapshot

INPUTS_FILE = "inputs.json"
#: inputs.json's format (inputs.py writes it).
FORMAT = 3
#: The default ``state: folder``, and how a config file's text may name another one.
DEFAULT_STATE = ".publisher"
_STATE_FOLDER = re.compile(
    r"^state:[ \t]*\{[^}\n]*?\bfolder:[ \t]*['\"]?([^,'\"}\n]+?)['\"]?[ \t]*[,}]"
    r"|^state:[ \t]*(?:#[^\n]*)?\n(?:[ \t]+[^\n]*\n)*?[ \t]+folder:[ \t]*['\"]?([^'\"#\n]+?)['\"]?[ \t]*(?:#[^\n]*)?$",
    re.MULTILINE,
)

_FLAGS = {"-q": "quiet", "--quiet": "quiet", "--detailed-exit-codes": "detailed"}
_VALUED = {"--config": "config", "--jobs": "jobs"}
_JOBS = re.compile(r"[1-9][0-9]?")

#: The stat pass of a fast path that found a change, with its plan: the build the CLI then
#: runs in this process takes it as its own snapshot when its plan is the same (inputs.py),
#: instead of stat'ing every input a second time. Set only while ``publisher.cli.main``
#: hands the run over.
handed: tuple[list[list[str]], snapshot.Snapshot] | None = None
#: The options of a plain build this fast path did not answer (a UTF-8 stderr, options
#: parsed as click parses them): ``publisher.cli.main`` runs it without click
#: (cli/plain.py). Set only while it hands the run over.
plain: dict[str, Any] | None = None
#: The record the fast path read, with its state folder, set with :data:`handed`: the
#: build's own no-op check (inputs.load) takes it, and the tree read with it (its
#: ``"tree"``, never written back), instead of reading the two files again.
record: tuple[str, dict[str, Any]] | None = None
#: The config the last build loaded, as its record keeps it, and what loading it read,
#: set with :data:`handed` when nothing that config depends on changed since: the build
#: takes it instead of loading config.yaml again (config/stored.py).
stored: tuple[dict[str, Any], loadtrail.Trail] | None = None


def run(argv: list[str], *, hand_over: bool = False) -> int | None:
    """The exit code of ``publish *argv`` when it is a build with nothing to do (its
    lines printed), else None: the normal CLI must run (with ``hand_over``, the stat pass
    done here is left in :data:`handed` for it)."""
    started = time.perf_counter()
    stream = sys.stderr
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    if encoding != "utf8":
        return None  # click re-encodes such a stream: let it print
    options = parse(argv)
    if options is None or any(k[:1] == "_" and k.endswith("_COMPLETE") for k in os.environ):
        return None  # not a plain build, or click's shell completion asking
    global plain
    if hand_over:
        plain = options
    try:
        data = _unchanged(options, hand_over)
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None  # a damaged record, a file gone while looked at: the CLI decides
    if data is None:
        return None
    quiet = bool(options.get("quiet"))
    problems = data["fast"]["problems"]
    for is_error, line in problems:
        if is_error or not quiet:
            stream.write(f"{line}\n")
    if not quiet:
        s = data["summary"]
        stream.write(
            f"nothing changed since the last build ({s['files']} posts: "
            f"{s['published']} published, {s['drafts']} drafts, "
            f"{s['scheduled']} scheduled, {s['skipped']} skipped); "
            f"checked in {time.perf_counter() - started:.2f} s, nothing written\n"
        )
    stream.flush()
    if any(is_error for is_error, _ in problems):
        return 3  # report.EXIT_POSTS_SKIPPED, as unchanged_exit_code gives
    return 5 if options.get("detailed") else 0  # EXIT_NOTHING_TO_DO, EXIT_OK


def parse(argv: list[str]) -> dict[str, Any] | None:
    """The options of a plain ``build``, merged as the CLI merges them (those after the
    command's name win), or None for any other command line."""
    parts: list[dict[str, Any]] = [{}, {}]  # before and after "build"
    part = 0
    args = iter(argv)
    for arg in args:
        if arg == "build" and part == 0:
            part = 1
            continue
        name, equals, value = arg.partition("=")
        if name in _VALUED:
            if not equals:
                value = next(args, "")
            if not _valid(name, value):
                return None
            parts[part][_VALUED[name]] = value
        elif arg in _FLAGS:
            parts[part][_FLAGS[arg]] = True
        elif arg == "--verbose":
            parts[part]["verbose"] = parts[part].get("verbose", 0) + 1
        elif len(arg) > 1 and arg[0] == "-" and set(arg[1:]) <= {"q", "v"}:
            # -v, -vv, -qv: click counts each v and sets -q (-v changes nothing in a no-op).
            if "v" in arg:
                parts[part]["verbose"] = parts[part].get("verbose", 0) + arg.count("v")
            if "q" in arg:
                parts[part]["quiet"] = True
        else:
            return None  # --dry-run, --json, --now, --help, a typo: the CLI's business
    if part == 0:
        return None
    return {**parts[0], **parts[1]}


def _valid(name: str, value: str) -> bool:
    if name == "--jobs":
        return bool(_JOBS.fullmatch(value)) and int(value) <= 64
    # --config: click refuses a folder and an unreadable file; the CLI says so.
    if not value or value.startswith("-") or os.path.isdir(value):
        return False
    return not os.path.exists(value) or os.access(value, os.R_OK)


def _config_path(options: dict[str, Any]) -> str | None:
    """--config, else $PUBLISHER_CONFIG, else ./config.yaml (cli/site.py's order); the
    built-in example site (no config file) is the CLI's."""
    path = options.get("config") or os.environ.get("PUBLISHER_CONFIG")
    if path:
        return str(path)
    return "config.yaml" if os.path.isfile("config.yaml") else None


def _record(text: str, source: str) -> tuple[str, dict[str, Any]] | None:
    """The last record of a build of the config file ``source``: in ``.publisher`` beside
    it, or in a state folder its text names. The record says which config and state folder
    it was made for; a guess that is wrong finds no record, or one made for another."""
    root = os.path.dirname(source)
    folders = [DEFAULT_STATE]
    folders.extend(a or b for a, b in _STATE_FOLDER.findall(text))
    import json

    from publisher.snapshot import sealed

    for folder in folders:
        state = os.path.realpath(os.path.join(root, folder.strip()))
        try:
            with open(os.path.join(state, INPUTS_FILE), encoding="utf-8") as handle:
                data: dict[str, Any] = json.load(handle)
        except (OSError, ValueError, RecursionError):  # damaged: "[[[[..." is too deep
            continue
        fast = data.get("fast") if data.get("format") == FORMAT else None
        if fast and fast["source"] == source and fast["state"] == state and sealed(data):
            return state, data
    return None


def _unchanged(options: dict[str, Any], hand_over: bool = False) -> dict[str, Any] | None:
    """The last record, when a build now would change nothing; else None."""
    global handed, plain, record, stored
    # Imported only for a plain build: `publish build --help` loads nothing more.
    from datetime import UTC, datetime

    from publisher import loadtrail, snapshot

    path = _config_path(options)
    if path is None:
        return None
    with open(path, encoding="utf-8-sig") as handle:  # as the loader reads it
        text = handle.read()
    source = os.path.realpath(path)
    found = _record(text, source)
    if found is None:
        return None
    state, data = found
    fast = data["fast"]
    same = (
        fast["config"] == loadtrail.config_digest(text, os.environ)
        and fast["code"] == os.path.dirname(publisher.__file__)
        and fast["version"] == publisher.__version__
        and fast["python"] == sys.version
        and fast["site"] == _site_folders()
        and all(os.path.realpath(joined) == real for joined, real in fast["resolved"])
        and _covers(data, datetime.now(UTC))
    )
    if not same:
        return None
    started_ns = time.time_ns()
    # Handed to the build with the record (inputs.load), not written back with it.
    data["tree"] = tree = snapshot.read_tree(state)
    taken = snapshot.take(fast["plan"], tree, started_ns)
    if hand_over:
        handed, record = (fast["plan"], taken), (state, data)
    if (
        taken.digest(frozenset(data["hashed"]) | taken.recent) != data["digest"]
        or snapshot.outputs_digest(fast["output"], data["outputs"]) != data["outputs_digest"]
    ):
        if hand_over:
            stored = _stored(fast, taken, started_ns)
        return None
    if taken.tree != taken.known or taken.recent != frozenset(data["hashed"]):
        _refresh(state, data, taken)
    handed = plain = record = None
    return data


def _stored(
    fast: dict[str, Any], taken: snapshot.Snapshot, started_ns: int
) -> tuple[dict[str, Any], loadtrail.Trail] | None:
    """The config the last build loaded, when nothing outside the posts folder changed
    since (config/stored.py), with the trail loading it would leave; else None."""
    from publisher import loadtrail

    kept = fast.get("stored")
    if not kept or taken.digest_outside("post:") != kept["outside"]:
        return None
    resolved = tuple((str(joined), str(real)) for joined, real in fast["resolved"])
    return kept, loadtrail.Trail(started_ns=started_ns, digest=fast["config"], resolved=resolved)


def _refresh(state: str, data: dict[str, Any], taken: snapshot.Snapshot) -> None:
    """Bring the record up to date, as the CLI's no-op does: files no longer recent are
    known by their stat again, and folders listed this time are not listed the next."""
    import contextlib
    from pathlib import Path

    from publisher import snapshot
    from publisher.atomic import write_atomic

    # A read-only state folder: the record stays as it was, and still holds.
    with contextlib.suppress(OSError):
        if taken.recent != frozenset(data["hashed"]):
            text = snapshot.record_text(data, taken)
            write_atomic(Path(state, INPUTS_FILE), text.encode())
        if taken.tree != taken.known:
            # Not synced: a damaged tree file fails its CRC, and is no tree (inputs.py).
            tree = snapshot.tree_bytes(taken.tree)
            write_atomic(Path(state, snapshot.TREE_FILE), tree, sync=False)


def _site_folders() -> list[str]:
    """Where packages are installed (inputs.site_folders): another list, other packages."""
    return [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")]


def _covers(data: dict[str, Any], now: datetime) -> bool:
    """``now`` is in [live_from, live_until): the published posts are the same."""
    from datetime import datetime

    live_from, live_until = data["live_from"], data["live_until"]
    after = live_from is None or now >= datetime.fromisoformat(live_from)
    before = live_until is None or now < datetime.fromisoformat(live_until)
    return after and before
