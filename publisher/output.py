"""The only module that writes into (and deletes from) the output folder.

Every write is atomic (a temporary file in the same folder, fsync, rename), confined to
the output folder (a path from a post can never escape it), and skipped when the bytes on
disk are already the same, so a rebuild with nothing changed touches no file. In a dry
run nothing is written: the writer records what it would have done.

Withdrawn content must not stay published, so a stage that writes a whole set of files
ends with :meth:`OutputWriter.sweep`: a manifest in the state folder lists every file the
last run produced with the SHA-256 of its bytes (a spliced file, see
:meth:`OutputWriter.write_splice`, with its stamp); files listed there that this run did not
produce are deleted. A file is only deleted when it is still exactly what publisher wrote
(same hash), is a regular file (a symlink is never followed or removed) and lies inside
the output folder; anything else is left alone with a warning. With no manifest yet (the
first run after an upgrade) nothing is deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from publisher.atomic import copy_range, write_all, write_atomic, write_atomic_with
from publisher.errors import OutputError, Problem
from publisher.manifest import journal_of, read_manifest, render_manifest, with_journal

Status = Literal["created", "changed", "unchanged"]
#: A file this build wrote, as its stat tells it: (size, mtime, inode, ctime; in ns). No
#: edit keeps all four: a tool that restores the mtime still moves the ctime.
Stamp = tuple[int, int, int, int]
#: A spliced file's parts: new bytes, or (offset, length) of the file it replaces.
Part = bytes | tuple[int, int]


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
    #: The stamp of every file written (or found unchanged) in this run, by relative path:
    #: a later build may splice a file whose stamp is still this one (:meth:`write_splice`).
    stamps: dict[str, Stamp] = field(default_factory=dict)

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
            if status == "unchanged":
                self._stamp(record.path, path)
            return record
        try:
            written = write_atomic(
                path, data, mode=0o644, before_rename=lambda: self._journal(record.path)
            )
        except OSError as exc:
            raise OutputError(
                f"cannot write {path}: {exc.strerror}; check the output folder"
            ) from None
        self.stamps[record.path] = stamp_of(written)
        return record

    def write_splice(self, relative: str, parts: list[Part], *, previous: Stamp) -> Write | None:
        """Write ``relative`` made of ``parts``: new bytes, or (offset, length) runs copied
        by the kernel from the file there now, which must be the one this writer's stamp
        ``previous`` names (a file publisher wrote and nobody touched since). None, with
        nothing done, when it is not: the caller writes the whole bytes instead.

        A feed of 10,000 posts is 70 MB: one post edited rewrites it from its old self
        with a few system calls, and neither the old nor the new bytes pass through Python
        (issue 12). Its manifest entry is its stamp, not a hash of bytes never read."""
        path = self.target(relative)
        try:
            source = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        try:
            st = os.fstat(source)
            if not stat.S_ISREG(st.st_mode) or stamp_of(st) != previous:
                return None
            size = sum(len(p) if isinstance(p, bytes) else p[1] for p in parts)
            same = size == st.st_size and _same(source, parts)
            status: Status = "unchanged" if same else "changed"
            record = Write(path=PurePosixPath(relative).as_posix(), status=status, bytes=size)
            if same or self.dry_run:
                self.hashes[record.path] = _token(previous)
                self.stamps[record.path] = previous
                self.writes.append(record)
                return record

            def fill(target: int) -> None:
                for part in parts:
                    if isinstance(part, bytes):
                        write_all(target, part)
                    else:
                        copy_range(source, target, *part)
                self.hashes[record.path] = _token(stamp_of(os.fstat(target)))  # the journal's

            try:
                written = write_atomic_with(
                    path, fill, mode=0o644, before_rename=lambda: self._journal(record.path)
                )
            except EOFError:
                return None  # shorter than its stamp said: not the file it names
            except OSError as exc:
                raise OutputError(
                    f"cannot write {path}: {exc.strerror}; check the output folder"
                ) from None
        finally:
            os.close(source)
        self.stamps[record.path] = stamp_of(written)
        self.hashes[record.path] = _token(self.stamps[record.path])
        self.writes.append(record)
        return record

    def _stamp(self, relative: str, path: Path) -> None:
        with contextlib.suppress(OSError):
            self.stamps[relative] = stamp_of(path.lstat())

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
        previous, problems = read_manifest(manifest, self.root)
        # An unreadable manifest deletes nothing this time, as its warning says.
        known = with_journal(previous, manifest, self.root) if not problems else {}
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
        previous, _ = read_manifest(manifest, self.root)
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
        stamp = stamp_of(info)
        if _token(stamp) in digests:
            return "delete"  # a spliced file, still as written (see write_splice)
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


def _same(source: int, parts: list[Part]) -> bool:
    """Whether ``parts`` make the bytes of ``source`` (of their size): new bytes equal to
    what is there (an item rendered again as it was), runs copied from where they are."""
    at = 0
    for part in parts:
        if isinstance(part, bytes):
            if os.pread(source, len(part), at) != part:
                return False
            at += len(part)
        elif part[0] != at:
            return False
        else:
            at += part[1]
    return True


def stamp_of(st: os.stat_result) -> Stamp:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def _token(stamp: Stamp) -> str:
    """A spliced file's manifest entry, in place of a hash of bytes never read: its size
    and mtime, as inputs.py and the post cache trust a file's stat (an edit moves the
    mtime). Not its inode and ctime, which a rename (a killed run's file), a copy that
    keeps times or a cache restored in CI change: a withdrawn feed must still be deleted
    then. (A splice itself asks for all four: ``write_splice``.)"""
    return f"stat:{stamp[0]}:{stamp[1]}"


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
