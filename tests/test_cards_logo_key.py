"""A logo or author avatar replaced in place redraws the cards (found red-teaming issue 15).

The render cache keyed both pictures by their path alone (inside the card options), so a
new logo under the same name left every card drawn with the old one, in a subprocess as
much as in this process, while a fresh state folder drew the new one; the no-op fast path
(publisher/inputs.py) did not stat the avatar at all. Their bytes are now inputs of both.
"""

from __future__ import annotations

from pathlib import Path

import pytest
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


@pytest.mark.parametrize(
    "cards",
    [
        "cards:\n  logo: logo.png\n  colors:\n    background: '#203040'\n",
        "cards:\n  author:\n    show: true\n    avatar: logo.png\n",
    ],
    ids=["logo", "avatar"],
)
def test_a_picture_replaced_under_the_same_name_redraws_the_card(cards: str, site: Site) -> None:
    site.config(site.config_path.read_text(encoding="utf-8") + cards)
    site.post("a", "title: A post about logos\ndate: 2024-01-02\nauthors: [Ada]")
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
    fresh.post("a", "title: A post about logos\ndate: 2024-01-02\nauthors: [Ada]")
    _logo(fresh.root / "logo.png", "blue")
    assert _build(fresh) == blue
