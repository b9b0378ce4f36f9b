"""Withdrawn content must not stay published: the files the last run produced and this
one did not are deleted, while each is still exactly what publisher wrote
(:meth:`publisher.output.OutputWriter.sweep`).

A manifest in the state folder lists every file the last run produced with the SHA-256 of
its bytes (a spliced file, with its stamp). A file is only deleted when it is still that
file (same hash or stamp), is a regular file (a symlink is never followed or removed) and
lies inside the output folder; anything else is left alone with a warning. With no
manifest yet (the first run after an upgrade) nothing is deleted.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from publisher.atomic import write_atomic
from publisher.dataclass import dataclass
from publisher.digests import sha256
from publisher.errors import OutputError, Problem
from publisher.manifest import journal_of, read_manifest, render_manifest, with_journal
from publisher.stamps import stamp_of, stamp_token

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from publisher.output import OutputWriter


@dataclass(frozen=True, kw_only=True)
class Sweep:
    """What :meth:`OutputWriter.sweep` did: files deleted (or, in a dry run, that would be)."""

    deleted: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()


#: ``tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp")``: eight of ``[a-z0-9_]``.
_TEMPORARY = re.compile(r"\.(.+)\.[a-z0-9_]{8}\.tmp")


def sweep(
    writer: OutputWriter, manifest: Path, *, undecided: Callable[[str], bool] | None = None
) -> Sweep:
    """Delete what the last run produced and this one did not; record this run's files.

    ``manifest`` is a file in the state folder (one per writer: the build and the
    preview keep their own). In a dry run nothing is deleted or recorded: the result
    lists what would be deleted, except paths ``undecided`` says a dry run cannot
    judge (a card a real run would render again, whose name holds its content hash).
    """
    previous, problems = read_manifest(manifest, writer.root)
    # An unreadable manifest deletes nothing this time, as its warning says.
    known = with_journal(previous, manifest, writer.root) if not problems else {}
    deleted: list[str] = _leftovers(writer, {*known, *writer.hashes})
    for relative, digests in sorted(known.items()):
        if relative in writer.hashes or (undecided is not None and undecided(relative)):
            continue
        verdict = _stale(writer, relative, digests)
        if verdict == "delete":
            deleted.append(relative)
        elif verdict != "gone":
            # Told once, then forgotten: a file changed by hand is the user's now.
            problems.append(_left_alone(manifest, relative, verdict))
    if not writer.dry_run:
        for relative in deleted:
            _delete(writer, relative)
        write_state_file(manifest, render_manifest(writer.root, writer.hashes))
        # Everything the journal knew is now in the manifest or deleted.
        journal_of(manifest).unlink(missing_ok=True)
        _drop_state_leftovers(manifest.parent, writer.started)
    return Sweep(deleted=tuple(deleted), problems=tuple(problems))


def _drop_state_leftovers(folder: Path, started: int) -> None:
    """Delete the temporary files a killed run left in the state folder
    (``.outputs.json.k3j5x9q2.tmp``): every such name there is publisher's, and one
    changed since this build began is another build's at work. Best effort."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if _TEMPORARY.fullmatch(entry.name) and _left_over(entry, started):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def remember(writer: OutputWriter, manifest: Path) -> None:
    """Add this run's files to ``manifest`` without deleting anything.

    For a run that writes only some files (one card) or stopped on an error: what it
    wrote is still known, so a later full run can delete it once nothing produces it.
    """
    if writer.dry_run or not writer.hashes:
        return
    previous, _ = read_manifest(manifest, writer.root)
    write_state_file(manifest, render_manifest(writer.root, {**previous, **writer.hashes}))


def _leftovers(writer: OutputWriter, produced: set[str]) -> list[str]:
    """Temporary files a killed run left beside the files it writes (``.atom.xml.
    k3j5x9q2.tmp``): they hold the bytes of that run, withdrawn posts included, and a
    deploy would publish them. Only the exact names :meth:`write_bytes` makes for a file
    publisher produces are matched, so no file of the user's is touched."""
    names: dict[Path, set[str]] = {}
    for relative in produced:
        try:
            path = writer.target(relative)
        except OutputError:
            continue
        names.setdefault(path.parent, set()).add(path.name)
    found: list[str] = []
    root = writer.root.resolve()
    for folder, own in sorted(names.items()):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            match = _TEMPORARY.fullmatch(entry.name)
            if match and match.group(1) in own and _left_over(entry, writer.started):
                found.append(Path(entry.path).relative_to(root).as_posix())
    return sorted(found)


def drop_leftovers(writer: OutputWriter, relative: str) -> None:
    """Delete the temporary files beside ``relative`` whatever their age: a worker of
    this build died making it (``feeds/splice.py``). Best effort."""
    if writer.dry_run:
        return
    try:
        path = writer.target(relative)
        entries = list(os.scandir(path.parent))
    except (OSError, OutputError):
        return
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if match and match.group(1) == path.name and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                Path(entry.path).unlink()


def _left_over(entry: os.DirEntry[str], started: int) -> bool:
    """A regular file last changed before this build began. One changed since is another
    build's at work beside this one (a read worker's feed file waiting to be renamed in,
    a spliced file's): deleting it failed that build (tests/test_redteam_speed5.py)."""
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_ctime_ns < started


def _stale(writer: OutputWriter, relative: str, digests: set[str]) -> str:
    """ "delete", "gone", or why the file is left alone."""
    try:
        path = writer.target(relative)
    except OutputError:
        return "it is outside the output folder"
    try:
        info = path.lstat()
    except FileNotFoundError:
        return "gone"
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file (a symlink or folder is never followed or removed)"
    stamp = stamp_of(info)
    if stamp_token(stamp) in digests:
        return "delete"  # a spliced file, still as written (see write_splice)
    try:
        current = sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    if current not in digests:
        return "it changed since publisher wrote it"
    return "delete"


def _delete(writer: OutputWriter, relative: str) -> None:
    path = writer.target(relative)
    try:
        path.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(
            f"cannot delete {path}: {exc.strerror}; check the output folder's permissions"
        ) from None
    # Folders the withdrawn files leave empty (a vanished tag's feed folder) go too.
    root = writer.root.resolve()
    folder = path.parent
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            break
        folder = folder.parent


def _left_alone(manifest: Path, relative: str, why: str) -> Problem:
    return Problem(
        file=relative,
        field=None,
        message=f"no longer produced, but not deleted: {why}",
        fix=f"delete it by hand if it should go (listed in {manifest.name})",
        severity="warning",
    )


def write_state_file(path: Path, text: str, *, sync: bool = True) -> None:
    """Write a state file whole or not at all, and not at all when it is already the same
    (``sync``: see :func:`publisher.atomic.write_atomic_with`)."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    try:
        write_atomic(path, data, sync=sync)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}; check the state folder") from None
