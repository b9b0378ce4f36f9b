"""The ``cards:`` options that name files (fonts, logo, avatar, layouts folder).

Each is resolved against the folder of config.yaml (and recorded for the no-op fast path,
loadtrail.py); a symbolic link a pull request planted to lead outside that folder is
refused, and a picture is checked by its first bytes. Split from cards/options.py, which
reads the rest of the section.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from publisher.loadtrail import resolve
from publisher.schema import Convert, Invalid, Where


def file_path(base: Path, *, folder: bool = False) -> Convert:
    """A file (or folder) relative to config.yaml that exists and stays inside its folder."""

    def convert(value: Any, where: Where) -> Path:
        if not isinstance(value, str) or not value.strip():
            raise Invalid("must be a path relative to config.yaml")
        path = resolve(base / value.strip())
        written = Path(os.path.normpath(base / value.strip()))
        if written.is_relative_to(base) and not path.is_relative_to(base.resolve()):
            # A link planted by a pull request must not put a file of the runner's
            # (a private picture, say) on every card.
            raise Invalid(
                f"'{value}' is a symbolic link (or inside one) leading outside the folder "
                "of config.yaml; replace the link with the file itself"
            )
        if (folder and not path.is_dir()) or (not folder and not path.is_file()):
            kind, other = ("folder", "a file") if folder else ("file", "a folder")
            if path.exists():
                raise Invalid(f"'{value}' is {other}, not a {kind}; give the {kind}'s path")
            raise Invalid(f"{kind} '{value}' does not exist; give a path relative to config.yaml")
        return path

    return convert


#: The first bytes of the formats the card renderer reads (AVIF: an ISO media ``ftyp`` box).
_PICTURE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")


def picture(base: Path) -> Convert:
    """A picture file (logo, avatar) the renderer can read, checked by its first bytes.

    Without this a text file or an SVG named ``logo.png`` is reported once per card, as
    many times as the site has posts, instead of once here.
    """
    as_file = file_path(base)

    def convert(value: Any, where: Where) -> Path:
        path: Path = as_file(value, where)
        try:
            with path.open("rb") as handle:
                head = handle.read(16)
        except OSError as exc:
            raise Invalid(
                f"'{value}' cannot be read ({exc.strerror}); check its permissions"
            ) from None
        if head.startswith(_PICTURE_MAGIC) or head[8:12] == b"WEBP" or head[4:8] == b"ftyp":
            return path
        if head.lstrip().startswith(b"<"):
            raise Invalid(f"'{value}' is an SVG drawing, which cards cannot draw; export it as PNG")
        raise Invalid(
            f"'{value}' is not a PNG, JPEG, WebP, GIF or AVIF picture (by its first bytes); "
            "save it as PNG or JPEG"
        )

    return convert


def font_files(base: Path) -> Convert:
    def convert(value: Any, where: Where) -> tuple[str, ...]:
        listed = [value] if isinstance(value, str) else value
        if not isinstance(listed, list) or not all(isinstance(v, str) for v in listed):
            raise Invalid("must be a list of font file paths; one path a line, each after '- '")
        # Missing fallbacks are allowed: CI and a laptop have different fonts.
        return tuple(str(resolve(base / v)) if not Path(v).is_absolute() else v for v in listed)

    return convert
