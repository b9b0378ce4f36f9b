"""A logo replaced in place redraws the cards that show it (found red-teaming issue 15).

The render cache keyed the logo by its path alone (inside the card options), so a new
logo under the same name left every card drawn with the old one, in a subprocess as much
as in this process; a fresh state folder drew the new one. Its bytes are now an input.
"""

from __future__ import annotations

from pathlib import Path

from cli_run import publish
from PIL import Image

from conftest import Site


def _cards(site: Site) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((site.root / "public" / "og").glob("*.jpg"))}


def _build(site: Site) -> dict[str, bytes]:
    result = publish("build", "--jobs", "1", cwd=site.root)
    assert result.returncode == 0, result.stderr
    return _cards(site)


def _logo(path: Path, colour: str) -> None:
    # Same size and same byte count for every colour: only the content tells them apart.
    Image.new("RGBA", (200, 80), colour).save(path)


def test_a_logo_replaced_under_the_same_name_redraws_the_card(site: Site) -> None:
    site.config(
        site.config_path.read_text(encoding="utf-8")
        + "cards:\n  logo: logo.png\n  colors:\n    background: '#203040'\n"
    )
    site.post("a", "title: A post about logos\ndate: 2024-01-02")
    logo = site.root / "logo.png"
    _logo(logo, "red")
    red = _build(site)
    assert _build(site) == red  # nothing changed: nothing redrawn
    _logo(logo, "blue")
    blue = _build(site)
    assert blue != red
    # The same card a build from an empty state folder draws with the blue logo.
    fresh = Site(site.root / "fresh")
    fresh.config_path.write_text(site.config_path.read_text(encoding="utf-8"), encoding="utf-8")
    fresh.post("a", "title: A post about logos\ndate: 2024-01-02")
    _logo(fresh.root / "logo.png", "blue")
    assert _build(fresh) == blue
