"""The only module that writes into (and deletes from) the output folder.

Every write is atomic (a temporary file in the same folder, fsync, rename), confined to
the output folder (a path from a post can never escape it), and skipped when the bytes on
disk are already the same, so a rebuild with nothing changed touches no file. In a dry
run nothing is written: the writer records what it would have done.

Withdrawn content must not stay published, so a stage that writes a whole set of files
ends with :meth:`OutputWriter.sweep`: a manifest in the state folder lists every file the
last run produced with the SHA-256 of its bytes; files listed there that this run did not
produce are deleted. A file is only deleted when it is still exactly what publisher wrote
(same hash), is a regular file (a symlink is never followed or removed) and lies inside
the output folder; anything else is left alone with a warning. With no manifest yet (the
first run after an upgrade) nothing is deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from publisher import jsontext
from publisher.atomic import write_atomic
from publisher.errors import OutputError, Problem

Status = Literal["created", "changed", "unchanged"]


@dataclass(frozen=True, kw_only=True)
class Write:
    path: str
    status: Status
    bytes: int


@dataclass(frozen=True, kw_only=True)
class Sweep:
    """What :meth:`OutputWriter.sweep` did: files deleted (or, in a dry run, that would be)."""

    deleted: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()


MANIFEST_VERSION = 1
#: ``tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp")``: eight of ``[a-z0-9_]``.
_TEMPORARY = re.compile(r"\.(.+)\.[a-z0-9_]{8}\.tmp")


@dataclass
class OutputWriter:
    root: Path
    dry_run: bool = False
    writes: list[Write] = field(default_factory=list)
    #: SHA-256 of every file written (or found unchanged) in this run, by relative path.
    hashes: dict[str, str] = field(default_factory=dict)
    #: The manifest :meth:`sweep` will keep. Each file is noted in its journal before it is
    #: renamed into place, so the files of a run killed before its sweep are still known
    #: as publisher's (and deleted once withdrawn) instead of looking hand-made.
    manifest: Path | None = None

    def target(self, relative: str) -> Path:
        """The absolute path for ``relative``, or OutputError if it would leave the folder."""
        pure = PurePosixPath(relative.replace("\\", "/"))
        if pure.is_absolute() or not pure.parts or any(p in ("..", "") for p in pure.parts):
            raise OutputError(
                f"refusing to write '{relative}': outside the output folder {self.root}"
            )
        root = self.root.resolve()
        path = root.joinpath(*pure.parts)
        # A symlink inside the output folder must not lead the write elsewhere.
        if not path.parent.resolve().is_relative_to(root) or (
            path.is_symlink() and not path.resolve().is_relative_to(root)
        ):
            raise OutputError(f"refusing to write '{relative}': it resolves outside {self.root}")
        return path

    def write_bytes(self, relative: str, data: bytes) -> Write:
        path = self.target(relative)
        status: Status = _compare(path, data)
        record = Write(path=PurePosixPath(relative).as_posix(), status=status, bytes=len(data))
        self.writes.append(record)
        self.hashes[record.path] = hashlib.sha256(data).hexdigest()
        if status == "unchanged" or self.dry_run:
            return record
        try:
            write_atomic(path, data, mode=0o644, before_rename=lambda: self._journal(record.path))
        except OSError as exc:
            raise OutputError(
                f"cannot write {path}: {exc.strerror}; check the output folder"
            ) from None
        return record

    def _journal(self, relative: str) -> None:
        if self.manifest is None:
            return
        entry = {"output": str(self.root.resolve()), "path": relative}
        line = json.dumps({**entry, "sha256": self.hashes[relative]}, sort_keys=True)
        journal = journal_of(self.manifest)
        try:
            journal.parent.mkdir(parents=True, exist_ok=True)
            with journal.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as exc:
            raise OutputError(
                f"cannot write {journal}: {exc.strerror}; check the state folder"
            ) from None

    def write_text(self, relative: str, text: str) -> Write:
        return self.write_bytes(relative, text.encode("utf-8"))

    @property
    def changed(self) -> list[Write]:
        return [w for w in self.writes if w.status != "unchanged"]

    # -- withdrawn files ---------------------------------------------------------

    def sweep(self, manifest: Path, *, undecided: Callable[[str], bool] | None = None) -> Sweep:
        """Delete what the last run produced and this one did not; record this run's files.

        ``manifest`` is a file in the state folder (one per writer: the build and the
        preview keep their own). In a dry run nothing is deleted or recorded: the result
        lists what would be deleted, except paths ``undecided`` says a dry run cannot
        judge (a card a real run would render again, whose name holds its content hash).
        """
        previous, problems = _read_manifest(manifest, self.root)
        # An unreadable manifest deletes nothing this time, as its warning says.
        known = _with_journal(previous, manifest, self.root) if not problems else {}
        deleted: list[str] = self._leftovers({*known, *self.hashes})
        for relative, digests in sorted(known.items()):
            if relative in self.hashes or (undecided is not None and undecided(relative)):
                continue
            verdict = self._stale(relative, digests)
            if verdict == "delete":
                deleted.append(relative)
            elif verdict != "gone":
                # Told once, then forgotten: a file changed by hand is the user's now.
                problems.append(_left_alone(manifest, relative, verdict))
        if not self.dry_run:
            for relative in deleted:
                self._delete(relative)
            write_state_file(manifest, render_manifest(self.root, self.hashes))
            # Everything the journal knew is now in the manifest or deleted.
            journal_of(manifest).unlink(missing_ok=True)
        return Sweep(deleted=tuple(deleted), problems=tuple(problems))

    def remember(self, manifest: Path) -> None:
        """Add this run's files to ``manifest`` without deleting anything.

        For a run that writes only some files (one card) or stopped on an error: what it
        wrote is still known, so a later full run can delete it once nothing produces it.
        """
        if self.dry_run or not self.hashes:
            return
        previous, _ = _read_manifest(manifest, self.root)
        write_state_file(manifest, render_manifest(self.root, {**previous, **self.hashes}))

    def _leftovers(self, produced: set[str]) -> list[str]:
        """Temporary files a killed run left beside the files it writes (``.atom.xml.
        k3j5x9q2.tmp``): they hold the bytes of that run, withdrawn posts included, and a
        deploy would publish them. Only the exact names :meth:`write_bytes` makes for a file
        publisher produces are matched, so no file of the user's is touched."""
        names: dict[Path, set[str]] = {}
        for relative in produced:
            try:
                path = self.target(relative)
            except OutputError:
                continue
            names.setdefault(path.parent, set()).add(path.name)
        found: list[str] = []
        root = self.root.resolve()
        for folder, own in sorted(names.items()):
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                match = _TEMPORARY.fullmatch(entry.name)
                if match and match.group(1) in own and entry.is_file(follow_symlinks=False):
                    found.append(Path(entry.path).relative_to(root).as_posix())
        return sorted(found)

    def _stale(self, relative: str, digests: set[str]) -> str:
        """ "delete", "gone", or why the file is left alone."""
        try:
            path = self.target(relative)
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
        try:
            current = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            return f"it cannot be read ({exc.strerror})"
        if current not in digests:
            return "it changed since publisher wrote it"
        return "delete"

    def _delete(self, relative: str) -> None:
        path = self.target(relative)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise OutputError(
                f"cannot delete {path}: {exc.strerror}; check the output folder's permissions"
            ) from None
        # Folders the withdrawn files leave empty (a vanished tag's feed folder) go too.
        root = self.root.resolve()
        folder = path.parent
        while folder != root and folder.is_relative_to(root):
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


def render_manifest(root: Path, hashes: dict[str, str]) -> str:
    """Deterministic: sorted keys, no time; the same files give the same bytes."""
    data = {
        "files": dict(sorted(hashes.items())),
        "output": str(root.resolve()),
        "version": MANIFEST_VERSION,
    }
    return jsontext.dumps(data, indent=1) + "\n"


def _read_manifest(manifest: Path, root: Path) -> tuple[dict[str, str], list[Problem]]:
    """The files the last run produced; empty (delete nothing) when unknown or unreadable."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, []
    except (OSError, ValueError) as exc:
        return {}, [
            Problem(
                file=str(manifest),
                field=None,
                message=f"the list of files the last build wrote cannot be read ({exc})",
                fix="nothing was deleted this time; this build writes a new list",
                severity="warning",
            )
        ]
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or data.get("version") != MANIFEST_VERSION:
        return {}, [
            Problem(
                file=str(manifest),
                field="files",
                message="is not a list of files publisher wrote",
                fix="nothing was deleted this time; this build writes a new list",
                severity="warning",
            )
        ]
    if data.get("output") != str(root.resolve()):
        # Another output folder: its files are not in this one, whatever their names.
        return {}, []
    return {str(k): str(v) for k, v in files.items()}, []


def journal_of(manifest: Path) -> Path:
    """The files a run wrote since ``manifest`` was last written, one JSON line each."""
    return manifest.with_name(manifest.name + ".journal")


def _with_journal(previous: dict[str, str], manifest: Path, root: Path) -> dict[str, set[str]]:
    """Path -> every digest publisher gave it: the manifest's, and those of runs killed
    before they could write the manifest (a torn last line is skipped)."""
    known = {relative: {digest} for relative, digest in previous.items()}
    try:
        lines = journal_of(manifest).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return known
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("output") == str(root.resolve()):
            path, digest = entry.get("path"), entry.get("sha256")
            if isinstance(path, str) and isinstance(digest, str):
                known.setdefault(path, set()).add(digest)
    return known


def _left_alone(manifest: Path, relative: str, why: str) -> Problem:
    return Problem(
        file=relative,
        field=None,
        message=f"no longer produced, but not deleted: {why}",
        fix=f"delete it by hand if it should go (listed in {manifest.name})",
        severity="warning",
    )


def write_state_file(path: Path, text: str) -> None:
    """Write a state file whole or not at all, and not at all when it is already the same."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}; check the state folder") from None


def _compare(path: Path, data: bytes) -> Status:
    """Whether ``path`` holds ``data``, read a block at a time: a feed file can be 70 MB,
    and reading it whole beside the new bytes doubled a build's peak memory (issue 12)."""
    try:
        if not path.is_file():
            return "created"
        if path.stat().st_size != len(data):
            return "changed"
        view = memoryview(data)
        with path.open("rb") as handle:
            for start in range(0, len(data), 1 << 20):
                if handle.read(1 << 20) != view[start : start + (1 << 20)]:
                    return "changed"
            return "changed" if handle.read(1) else "unchanged"
    except OSError:
        return "created"
