"""An output file written from runs of the one it replaces (``OutputWriter.write_splice``),
at once or by a thread while the build goes on.

Copying a 70 MB feed by the kernel, syncing it, renaming it into place and freeing the
file it replaced are ~50 to 150 ms of waiting on the kernel and the disk at 10,000 posts,
all outside the GIL: a thread does them while the build lays out the next file and keeps
its caches (issue 12, one post edited). The bytes are those of a write made at once; the
new file is synced before its rename only where the boot cannot be told
(``publisher/boot.py``): elsewhere its layout keeps the boot's id instead.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from publisher.atomic import copy_range, write_all, write_atomic_with
from publisher.errors import OutputError
from publisher.stamps import Part, Stamp, stamp_of, stamp_token


def write_from(
    path: Path,
    source: int,
    parts: list[Part],
    relative: str,
    hashes: dict[str, str],
    stamps: dict[str, Stamp],
    journal: Callable[[str], None],
    *,
    replaced: list[str] | None = None,
) -> bool:
    """Replace ``path`` atomically by ``parts``: new bytes, or (offset, length) runs of the
    open file ``source``; the new file's stamp goes into ``stamps`` and ``hashes`` (its
    manifest entry: ``stamp_token``) under ``relative``, noted in the ``journal`` before
    the rename. Synced before it, but for ``replaced``: then not synced, swapped in, the
    old file left at the name appended (``atomic.write_atomic_with``). False, with nothing replaced, when
    ``source`` is shorter than its runs (not the file they were laid out for). Raises
    ``OutputError``."""

    def fill(target: int) -> None:
        for part in parts:
            if isinstance(part, bytes):
                write_all(target, part)
            else:
                copy_range(source, target, *part)
        hashes[relative] = stamp_token(stamp_of(os.fstat(target)))  # the journal's

    try:
        written = write_atomic_with(
            path,
            fill,
            mode=0o644,
            before_rename=lambda: journal(relative),
            sync=replaced is None,
            replaced=replaced,
        )
    except EOFError:
        return False
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}; check the output folder") from None
    stamps[relative] = stamp_of(written)
    hashes[relative] = stamp_token(stamps[relative])
    return True


def settle(pending: list[Pending]) -> None:
    """Wait for every file of ``pending``, taking each off the list once it is in place (a
    wait cut short, by Ctrl-C, leaves the others for the next call: the writer's
    ``remember`` waits for them before it notes what was written); raises the first
    error one of them met (any exception: one the thread met that is not the disk's, a
    bug or memory, is raised here, in the build's thread)."""
    errors = []
    while pending:
        error = pending[0].wait()
        del pending[0]
        if error is not None:
            errors.append(error)
    if errors:
        raise errors[0]


def drop(replaced: list[str]) -> None:
    """Take the file a spliced file replaced out of the output folder: delete the names in
    ``replaced`` (where ``write_from`` left it). Done before the build hears its file is in
    place, so before the build's record: a build killed after its record (the next one a
    no-op the fast path answers, with no sweep) must not leave the old feed published
    under a temporary name (tests/test_redteam_speed12.py). Cheap: the file stays open
    (``source``), so its blocks are not freed yet (:func:`free`)."""
    for name in replaced:
        with contextlib.suppress(OSError):
            os.unlink(name)


def free(source: int) -> None:
    """Close ``source``, the file a spliced file replaced, already unlinked (:func:`drop`):
    its blocks are freed now (~20 to 50 ms at 70 MB on a disk mounted with ``discard``),
    while the build goes on."""
    os.close(source)


class Pending:
    """A file written by a thread (:meth:`start`). :meth:`wait` returns once it is in place
    (or failed) and the file it replaced is gone from the output folder (:func:`drop`);
    the thread then frees that file's blocks (:func:`free`) while the build goes on."""

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.done = threading.Event()

    @classmethod
    def start(
        cls, work: Callable[[], bool], source: int, name: str, replaced: list[str]
    ) -> Pending:
        """Run ``work`` (False: the source was not the file it was said to be) in a
        thread, which then drops ``replaced`` and, once the build has been told, closes
        ``source``."""
        job = cls()

        def run() -> None:
            try:
                if not work():
                    job.error = OutputError(
                        f"{name} changed while the build wrote it; run the build again"
                    )
            except OutputError as error:
                job.error = error
            except OSError as exc:
                job.error = OutputError(f"cannot write {name}: {exc}; check the output folder")
            except BaseException as exc:
                # A thread's own exception is only printed: the build went on, exit 0,
                # and swept the file it never wrote as withdrawn (tests/test_redteam_speed5.py).
                job.error = exc
            finally:
                try:
                    drop(replaced)
                finally:
                    job.done.set()
                    free(source)

        # Not a daemon: the interpreter waits for it (the close) before it exits.
        threading.Thread(target=run, name=f"splice {name}").start()
        return job

    def wait(self) -> BaseException | None:
        self.done.wait()
        return self.error
