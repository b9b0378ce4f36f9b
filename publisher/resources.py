"""Where the files shipped with publisher live: assets/, templates/ and the example site.

In an installed wheel they sit in ``publisher/_site/``; in a source checkout (editable
install, tests) they are at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def site_root() -> Path:
    """The folder holding config.yaml, assets/, templates/ and examples/."""
    installed = _PACKAGE / "_site"
    if (installed / "config.yaml").is_file():
        return installed
    return _PACKAGE.parent


def assets() -> Path:
    return site_root() / "assets"


def templates() -> Path:
    return site_root() / "templates"


def example_config() -> Path:
    return site_root() / "config.yaml"
