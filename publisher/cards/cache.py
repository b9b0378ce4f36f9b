"""The render cache: encoded cards keyed by a hash of every input, in the state folder.

A hit returns the bytes and what rendering reported, so a warm build decodes no image
and draws no text. Source images are identified by their sha256, remembered per path,
size and mtime so a warm build does not even re-read them. ``inputs.json`` keeps each
post's input hashes from the last build, so a dry run can say why a card would change.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from publisher.atomic import write_atomic
from publisher.cards.render import Note, Rendered


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _dump(data: Any) -> bytes:
    return (json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


class RenderCache:
    """Files under ``<cache_dir>/cards``; read-only when ``readonly`` (dry runs)."""

    def __init__(self, cache_dir: Path, *, readonly: bool = False) -> None:
        self.folder = cache_dir / "cards"
        self.readonly = readonly
        self._digests = _read_json(self.folder / "digests.json")
        self._digests_changed = False
        self.previous_inputs = _read_json(self.folder / "inputs.json")

    def _entry(self, key: str) -> tuple[Path, Path]:
        base = self.folder / key[:2] / key
        return base.with_suffix(".json"), base.with_suffix(".bin")

    def get(self, key: str) -> Rendered | None:
        meta_path, data_path = self._entry(key)
        meta = _read_json(meta_path)
        if not meta:
            return None
        try:
            data = data_path.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
            return None
        box = meta.get("text_box")
        return Rendered(
            data=data,
            format=meta["format"],
            width=meta["width"],
            height=meta["height"],
            layout=meta["layout"],
            alt=meta["alt"],
            text_box=(box[0], box[1], box[2], box[3]) if box else None,
            notes=tuple(Note(**n) for n in meta.get("notes", [])),
            rule=str(meta.get("rule", "default")),
        )

    def put(self, key: str, rendered: Rendered) -> None:
        if self.readonly:
            return
        meta_path, data_path = self._entry(key)
        write_atomic(data_path, rendered.data)
        meta = {
            "sha256": hashlib.sha256(rendered.data).hexdigest(),
            "format": rendered.format,
            "width": rendered.width,
            "height": rendered.height,
            "layout": rendered.layout,
            "alt": rendered.alt,
            "rule": rendered.rule,
            "text_box": list(rendered.text_box) if rendered.text_box else None,
            "notes": [
                {"field": n.field, "message": n.message, "fix": n.fix, "severity": n.severity}
                for n in rendered.notes
            ],
        }
        write_atomic(meta_path, _dump(meta))

    def digest(self, path: Path) -> str:
        """sha256 of a file's bytes, recomputed only when its size or mtime changed."""
        stat = path.stat()
        stamp = [stat.st_size, stat.st_mtime_ns]
        known = self._digests.get(str(path))
        if isinstance(known, list) and len(known) == 3 and known[:2] == stamp:
            return str(known[2])
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self._digests[str(path)] = [*stamp, digest]
        self._digests_changed = True
        return digest

    def save(self, inputs: dict[str, dict[str, str]] | None) -> None:
        """Persist the digest memo and, for a full build, every post's input hashes."""
        if self.readonly:
            return
        if self._digests_changed:
            write_atomic(self.folder / "digests.json", _dump(self._digests))
        if inputs is not None and inputs != self.previous_inputs:
            write_atomic(self.folder / "inputs.json", _dump(inputs))
