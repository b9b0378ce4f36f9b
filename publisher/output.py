"""The only module that writes into (and deletes from) the output folder.

Every write is atomic (a temporary file in the same folder, fsync, rename; a spliced file
is not synced where the boot is known, and trusted only in that boot: publisher/boot.py),
confined to the output folder (a path from a post can never escape it), and skipped when the bytes on
disk are already the same, so a rebuild with nothing changed touches no file. A stage that
remembers what it wrote (the stamp of each file and the hash of its bytes) can skip even
the read: :meth:`OutputWriter.keep` trusts a file whose stamp is unchanged. In a dry run
nothing is written: the writer records what it would have done.

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
import json
import os
import stat
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path, PurePosixPath

from publisher.atomic import write_atomic
from publisher.boot import current as boot_id
from publisher.dataclass import dataclass, field
from publisher.digests import sha256
from publisher.errors import OutputError
from publisher.manifest import journal_of
from publisher.spliced import Pending, drop, free, settle, write_from
from publisher.stamps import (
    Part,
    Stamp,
    Status,
    compare_file,
    parts_match,
    stamp_of,
    stamp_token,
)
from publisher.sweep import Sweep, remember, sweep, write_state_file


@dataclass(frozen=True, kw_only=True)
class Write:
    path: str
    status: Status
    bytes: int


@dataclass(frozen=True, kw_only=True)
class Made:
    """A file another process made (``feeds/parallel.py``): its bytes' status against the
    file there, their hash and size; ``temp``, the temporary file beside the target that
    holds them (None: unchanged, not written); ``found``, the stamp of the unchanged file
    it compared; ``lengths``, each piece's length when the file is laid out as its maker
    was told (else None)."""

    status: Status
    sha256: str
    size: int
    temp: str | None
    found: Stamp | None
    lengths: tuple[int, ...] | None


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
    #: a later build may splice a file whose stamp is still this one (:meth:`write_splice`)
    #: or keep it unread (:meth:`keep`).
    stamps: dict[str, Stamp] = field(default_factory=dict)
    #: Spliced files are written by a thread while the build goes on (publisher/spliced.py):
    #: their stamps and hashes are known after :meth:`settle`.
    overlap: bool = False
    #: This boot's id (publisher/boot.py): a spliced file is then renamed into place
    #: without waiting for the disk, and noted in :attr:`unsynced`. None (the system does
    #: not say which boot this is): every file is synced before its rename.
    boot: str | None = field(default_factory=boot_id)
    #: The files whose bytes may not be on the disk yet, by relative path, with the boot
    #: that left them so (this one: spliced now, or by the last build and found
    #: unchanged). Their layouts keep the mark (publisher/splicing.py), so no build of
    #: another boot splices from them. A file written whole, or found holding its bytes by
    #: a comparison, is synced (:meth:`_stamp`) and not listed.
    unsynced: dict[str, str] = field(default_factory=dict)
    #: When this writer began (ns since the epoch): a temporary file made since then is
    #: another build's, at work beside this one (publisher/sweep.py), not a leftover.
    started: int = field(default_factory=time.time_ns)
    _pending: list[Pending] = field(default_factory=list, init=False, repr=False, compare=False)
    #: Work :meth:`settle` does before it waits for the spliced files (:meth:`meanwhile`).
    _meanwhile: list[Callable[[], None]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )
    #: ``root`` resolved, and whether each folder written into resolves inside it: each
    #: resolved once per writer (one build), not once per file. Resolving took a third
    #: of a build of 1,000 unchanged cards (issue 12).
    _resolved: tuple[Path, Path] | None = field(default=None, init=False, repr=False, compare=False)
    _inside: dict[Path, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def folder(self) -> Path:
        """``root`` resolved (once: see ``_resolved``)."""
        if self._resolved is None or self._resolved[0] != self.root:
            self._resolved = (self.root, self.root.resolve())
            self._inside.clear()
        return self._resolved[1]

    def target(self, relative: str) -> Path:
        """The absolute path for ``relative``, or OutputError if it would leave the folder."""
        pure = PurePosixPath(relative.replace("\\", "/"))
        if pure.is_absolute() or not pure.parts or any(p in ("..", "") for p in pure.parts):
            raise OutputError(
                f"refusing to write '{relative}': outside the output folder {self.root}"
            )
        root = self.folder
        path = root.joinpath(*pure.parts)
        inside = self._inside.get(path.parent)
        if inside is None:
            inside = self._inside[path.parent] = path.parent.resolve().is_relative_to(root)
        # A symlink inside the output folder must not lead the write elsewhere.
        if not inside or (path.is_symlink() and not path.resolve().is_relative_to(root)):
            raise OutputError(f"refusing to write '{relative}': it resolves outside {self.root}")
        return path

    def write_bytes(self, relative: str, data: bytes) -> Write:
        path = self.target(relative)
        status, found = compare_file(path, data)
        record = Write(path=PurePosixPath(relative).as_posix(), status=status, bytes=len(data))
        self.writes.append(record)
        self.hashes[record.path] = sha256(data).hexdigest()
        self.unsynced.pop(record.path, None)
        if status == "unchanged" or self.dry_run:
            if found is not None:
                self._stamp(record.path, path, found)
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

    def adopt(self, relative: str, made: Made, *, at: int | None = None) -> Write:
        """Note ``relative`` as :meth:`write_bytes` would have written it, from what another
        process did (``feeds/parallel.py``): compared the bytes of hash ``made.sha256``
        with the file there and, when they differ, wrote them to ``made.temp`` beside it
        (synced), which is journaled and renamed into place here. ``at``: the position of
        the write in :attr:`writes` (the order a serial build writes in)."""
        path = self.target(relative)
        record = Write(path=PurePosixPath(relative).as_posix(), status=made.status, bytes=made.size)
        self.writes.insert(len(self.writes) if at is None else at, record)
        self.hashes[record.path] = made.sha256
        self.unsynced.pop(record.path, None)
        if made.temp is None:
            if made.found is not None:
                self._stamp(record.path, path, made.found)
            return record
        try:
            self._journal(record.path)
            os.replace(made.temp, path)
            written = os.lstat(path)
        except OSError as exc:
            Path(made.temp).unlink(missing_ok=True)
            raise OutputError(
                f"cannot write {path}: {exc.strerror}; check the output folder"
            ) from None
        self.stamps[record.path] = stamp_of(written)
        return record

    def write_splice(
        self, relative: str, parts: list[Part], *, previous: Stamp, mark: str | None = None
    ) -> Write | None:
        """Write ``relative`` made of ``parts``: new bytes, or (offset, length) runs copied
        by the kernel from the file there now, which must be the one this writer's stamp
        ``previous`` names (a file publisher wrote and nobody touched since; ``mark``: the
        boot that left it unsynced, if one did, see :attr:`unsynced`). None, with nothing
        done, when it is not: the caller writes the whole bytes instead.

        A feed of 10,000 posts is 70 MB: one post edited rewrites it from its old self
        with a few system calls, and neither the old nor the new bytes pass through Python
        (issue 12). Its manifest entry is its stamp, not a hash of bytes never read."""
        path = self.target(relative)
        try:
            source = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        replaced: list[str] = []  # where the file replaced is left, to be freed (spliced.py)
        try:
            st = os.fstat(source)
            if not stat.S_ISREG(st.st_mode) or stamp_of(st) != previous:
                return None
            size = sum(len(p) if isinstance(p, bytes) else p[1] for p in parts)
            same = size == st.st_size and parts_match(source, parts)
            status: Status = "unchanged" if same else "changed"
            record = Write(path=PurePosixPath(relative).as_posix(), status=status, bytes=size)
            if same or self.dry_run:
                self.hashes[record.path] = stamp_token(previous)
                self.stamps[record.path] = previous
                self.writes.append(record)
                self._left(record.path, mark)  # still the bytes that boot left unsynced
                return record

            into = (record.path, self.hashes, self.stamps, self._journal)
            # Synced only where no boot id can vouch for the bytes after a crash: a 70 MB
            # file's fsync was 40 to 50 ms of a one-post build's wait (issue 12).
            sync = self.boot is None
            work = partial(
                write_from, path, source, parts, *into, replaced=None if sync else replaced
            )
            self._left(record.path, self.boot)
            if self.overlap:
                # The thread closes it: noted before it starts, so a Ctrl-C between its
                # start and here never closes it a second time (then maybe another file).
                handed, source = source, -1
                self._pending.append(Pending.start(work, handed, str(path), replaced))
            elif not work():
                return None
        finally:
            if source >= 0:
                try:
                    drop(replaced)
                finally:
                    free(source)
        self.writes.append(record)
        return record

    def settle(self) -> None:
        """Wait for the spliced files still being written (:attr:`overlap`); raises the
        first error one of them met. The work given to :meth:`meanwhile` is done first,
        when there is anything to wait for (else it is dropped: the caller does it
        after, as it would have)."""
        work, self._meanwhile = self._meanwhile, []
        if self._pending:
            for call in work:
                call()
        settle(self._pending)

    def meanwhile(self, work: Callable[[], None]) -> None:
        """Have the next :meth:`settle` do ``work`` before it waits for the threads writing
        spliced files, while they copy and sync (the layouts of the files: written
        while the disk syncs 140 MB of feeds at 10,000 posts, publisher/splicing.py)."""
        self._meanwhile.append(work)

    def holds(
        self, relative: str, sha256: str, *, size: int, previous: tuple[Stamp, str] | None
    ) -> bool:
        """Whether the file at ``relative`` is still the one a build wrote (or found) with
        stamp ``previous[0]`` and bytes of hash ``previous[1]``, and ``sha256`` and
        ``size`` are those of the bytes this build would write: the same bytes, known
        without reading them. False when ``previous`` is None.

        The stamp is the file's size, mtime, inode and ctime: an edit by hand, a
        truncation, a rename over it or a ``touch -r`` moves at least one (a tool can set
        the mtime back, never the ctime)."""
        if previous is None or previous[1] != sha256 or previous[0][0] != size:
            return False
        try:
            found = os.lstat(self.target(relative))
        except OSError:
            return False
        return stat.S_ISREG(found.st_mode) and stamp_of(found) == previous[0]

    def keep(
        self, relative: str, sha256: str, *, size: int, previous: tuple[Stamp, str] | None
    ) -> Write | None:
        """Note ``relative`` as unchanged without reading it when it :meth:`holds` the
        bytes; None, with nothing done, when it does not: the caller writes the bytes.
        A build with nothing changed used to read back and hash every card it had
        written (issue 12)."""
        if previous is None or not self.holds(relative, sha256, size=size, previous=previous):
            return None
        record = Write(path=PurePosixPath(relative).as_posix(), status="unchanged", bytes=size)
        self.writes.append(record)
        self.hashes[record.path] = sha256
        self.stamps[record.path] = previous[0]
        return record

    def _left(self, relative: str, mark: str | None) -> None:
        """Note ``relative`` as left unsynced by the boot ``mark`` (None: synced)."""
        if mark is None:
            self.unsynced.pop(relative, None)
        else:
            self.unsynced[relative] = mark

    def _stamp(self, relative: str, path: Path, read: Stamp) -> None:
        """Note the stamp of a file found to hold the bytes: only when it is still ``read``,
        the stamp of what was read (not a symlink, not changed since). Synced first (a
        no-op for a file already on the disk): the bytes compared may be a spliced file's
        that the last build left unsynced, and a stamp noted here is trusted in any boot."""
        if self.dry_run:
            with contextlib.suppress(OSError):
                if stamp_of(path.lstat()) == read:
                    self.stamps[relative] = read
            return
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return
        try:
            if stamp_of(os.fstat(fd)) == read:
                os.fsync(fd)
                self.stamps[relative] = read
        except OSError:
            return  # no stamp: no later build trusts the file unread
        finally:
            os.close(fd)

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

    def sweep(self, manifest: Path, *, undecided: Callable[[str], bool] | None = None) -> Sweep:
        """Delete what the last run produced and this one did not; record this run's
        files in ``manifest`` (``publisher/sweep.py``)."""
        self.settle()
        return sweep(self, manifest, undecided=undecided)

    def remember(self, manifest: Path) -> None:
        """Add this run's files to ``manifest`` without deleting anything: for a run that
        writes only some files (one card) or stopped on an error (``publisher/sweep.py``)."""
        with contextlib.suppress(OutputError):
            self.settle()  # an error of its own is not the one the run stopped on
        remember(self, manifest)


__all__ = [
    "Made",
    "OutputWriter",
    "Part",
    "Stamp",
    "Status",
    "Sweep",
    "Write",
    "stamp_of",
    "write_state_file",
]
