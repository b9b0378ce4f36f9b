"""``outputs.json`` in the state folder: every file the last build wrote, with its digest
(SHA-256 of its bytes, or for a spliced file its stamp: see ``OutputWriter.write_splice``),
and the journal of files written since, by runs killed before their sweep."""

from __future__ import annotations

import json
from pathlib import Path

from publisher import jsontext
from publisher.errors import Problem

MANIFEST_VERSION = 1


def render_manifest(root: Path, hashes: dict[str, str]) -> str:
    """Deterministic: sorted keys, no time; the same files give the same bytes."""
    data = {
        "files": dict(sorted(hashes.items())),
        "output": str(root.resolve()),
        "version": MANIFEST_VERSION,
    }
    return jsontext.dumps(data, indent=1) + "\n"


def read_manifest(manifest: Path, root: Path) -> tuple[dict[str, str], list[Problem]]:
    """The files the last run produced; empty (delete nothing) when unknown or unreadable."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, []
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: "[[[[..."
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


def with_journal(previous: dict[str, str], manifest: Path, root: Path) -> dict[str, set[str]]:
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
        except (ValueError, RecursionError):
            continue
        if isinstance(entry, dict) and entry.get("output") == str(root.resolve()):
            path, digest = entry.get("path"), entry.get("sha256")
            if isinstance(path, str) and isinstance(digest, str):
                known.setdefault(path, set()).add(digest)
    return known
