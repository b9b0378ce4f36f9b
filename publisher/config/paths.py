"""Paths written in config.yaml, resolved against its folder.

The site's repository may come from a pull request, which must not point the posts, the
output, the state or a template at files elsewhere through a planted symbolic link. A path
written with '..' in config.yaml is the owner's choice and is kept.
"""

from __future__ import annotations

import os
from pathlib import Path

from publisher.loadtrail import resolve
from publisher.schema import Where


def planted_link(root: Path, path: Path) -> bool:
    """``path`` is written inside ``root`` but a symbolic link on the way leads out of it."""
    return Path(os.path.normpath(path)).is_relative_to(root) and not (
        path.resolve().is_relative_to(root.resolve())
    )


def folder(written: str, root: Path, where: Where) -> Path:
    """``root / written``, resolved; a planted link leading out of ``root`` is a problem."""
    resolved = resolve(root / written)
    if planted_link(root, root / written):
        where.error(
            f"'{written[:80]}' is a symbolic link (or inside one) leading outside the folder "
            "of config.yaml; not used; replace the link with the folder itself"
        )
    return resolved
