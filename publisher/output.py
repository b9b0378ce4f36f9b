"""The only module that writes into the output folder.

Every write is atomic (a temporary file in the same folder, fsync, rename), confined to
the output folder (a path from a post can never escape it), and skipped when the bytes on
disk are already the same, so a rebuild with nothing changed touches no file. In a dry
run nothing is written: the writer records what it would have done.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from publisher.errors import OutputError

Status = Literal["created", "changed", "unchanged"]


@dataclass(frozen=True, kw_only=True)
class Write:
    path: str
    status: Status
    bytes: int


@dataclass
class OutputWriter:
    root: Path
    dry_run: bool = False
    writes: list[Write] = field(default_factory=list)

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
        try:
            old = path.read_bytes() if path.is_file() else None
        except OSError:
            old = None
        status: Status = "created" if old is None else ("unchanged" if old == data else "changed")
        record = Write(path=PurePosixPath(relative).as_posix(), status=status, bytes=len(data))
        self.writes.append(record)
        if status == "unchanged" or self.dry_run:
            return record
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(temp, 0o644)
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise OutputError(
                f"cannot write {path}: {exc.strerror}; check the output folder"
            ) from None
        return record

    def write_text(self, relative: str, text: str) -> Write:
        return self.write_bytes(relative, text.encode("utf-8"))

    @property
    def changed(self) -> list[Write]:
        return [w for w in self.writes if w.status != "unchanged"]
