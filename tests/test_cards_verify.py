"""Red team for issue 14: cards checked from the outside, the way a reviewer would.

Each test here failed before the fix beside it. Sources are drawn with Pillow in the test; the
cards are checked by decoding them and by reading the meta tags and ``og/manifest.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from test_cards import LATIN_ONLY, SITE, encoded, make_post, photo, save_image

from publisher.cards import build_cards
from publisher.cards.meta import public_url
from publisher.output import OutputWriter

# --- the site URL is part of every image URL ----------------------------------------------


@pytest.mark.parametrize(
    ("site_url", "expected"),
    [
        ("https://bücher.example/blog", "https://xn--bcher-kva.example/blog/og/x.jpg"),
        ("https://blog.example.org/über uns", "https://blog.example.org/%C3%BCber%20uns/og/x.jpg"),
        ("https://blog.example.org/a%20b", "https://blog.example.org/a%20b/og/x.jpg"),
        ("https://me@bücher.example:8080/", "https://me@xn--bcher-kva.example:8080/og/x.jpg"),
        ("https://[::1]:8000/b", "https://[::1]:8000/b/og/x.jpg"),
        ("https://blog.example.org", "https://blog.example.org/og/x.jpg"),
    ],
)
def test_the_site_url_part_of_an_image_url_is_encoded_too(site_url: str, expected: str) -> None:
    assert public_url(site_url, "og/x.jpg") == expected


def test_og_image_is_ascii_when_the_site_url_is_not(tmp_path: Path) -> None:
    post_id = "2024-05-17-café"
    path = save_image(tmp_path, "hero.png", encoded(photo(1400, 800), "PNG"), post_id)
    site = replace(SITE, url="https://bücher.example/mein blog")
    result = build_cards(
        site,
        [make_post(tmp_path, post_id, image=path)],
        LATIN_ONLY,
        output=OutputWriter(tmp_path / "public", dry_run=False),
        cache_dir=tmp_path / "state",
        jobs=1,
        dry_run=False,
        root=tmp_path,
    )
    (card,) = result.cards
    assert card.url.startswith("https://xn--bcher-kva.example/mein%20blog/og/2024-05-17-caf%C3%A9.")
    public = tmp_path / "public" / "og"
    html = (public / f"{post_id}.html").read_text(encoding="utf-8")
    for name in ('property="og:image"', 'name="twitter:image"'):
        (value,) = re.findall(rf'<meta {name} content="([^"]*)"', html)
        assert value == card.url and value.isascii() and " " not in value
    manifest = json.loads((public / "manifest.json").read_text(encoding="utf-8"))
    assert manifest[post_id]["url"] == card.url
