"""The feed items' URL shortcuts (issue 12, cold CPU) give what the general path gives.

``absolute_url`` joins a plain relative path (a cover image beside the post) to a plain
folder URL by concatenation instead of ``urljoin`` + ``normalize_url``, and an image's
path relative to its post is cut from the strings instead of ``PurePath.relative_to``.
Seeded random values, most of them awkward on purpose, are checked against the general
path (written out here as it was).
"""

from __future__ import annotations

import random
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin

import pytest

from publisher.feeds import items
from publisher.posts.fields import FieldProblem, normalize_url


def general(url: str, base: str | None) -> str:
    """``absolute_url`` without its shortcuts past the first (as it was)."""
    if items._CLEAN_ABSOLUTE.fullmatch(url):
        return url
    url = items.xml_text(url).strip()
    if base is not None:
        url = urljoin(base, url)
    try:
        return normalize_url(url)
    except FieldProblem:
        return url


BASES = (
    "https://blog.example.org/blog/post-1/",
    "http://h:8080/a/b/",
    "https://h:99999/x/",
    "https://h/",
    "https://h/a//b/",
    "https://h/a/./b/",
    "https://h/a/../b/",
    "https://h/.hidden/",
    "https://h/a;p/",
    "https://h/a?q=1/",
    "https://h/a#f/",
    "https://H.org/a/",
    "HTTPS://h/a/",
    "https://h/%7Euser/caf%C3%A9/",
    "https://h/a b/",
    "https://h/a",
    "ftp://h/a/",
    "https://[::1]/a/",
)
PARTS = ("a", "b.png", "/", ".", "..", "%20", "%zz", "~", "-", "_", "é", " ", "?", "#", ";", ":")


@pytest.mark.parametrize("seed", range(3))
def test_relative_urls_join_as_urljoin_and_normalize_url_do(seed: int) -> None:
    rng = random.Random(seed)
    shortcut = 0
    for _ in range(5000):
        url = "".join(rng.choices(PARTS, k=rng.randint(1, 7)))
        base = rng.choice(BASES)
        assert items.absolute_url(url, base) == general(url, base), (url, base)
        shortcut += bool(items._PLAIN_RELATIVE(url) and items._PLAIN_BASE(base))
    assert shortcut > 100  # the shortcut was taken often enough to mean something


def test_the_cover_image_beside_a_post_takes_the_shortcut() -> None:
    base = "https://blog.example.org/blog/post-00001/"
    assert items._PLAIN_BASE(base) and items._PLAIN_RELATIVE("cover.png")
    assert items.absolute_url("cover.png", base) == base + "cover.png"
    assert items.absolute_url("img/../cover.png", base) == base + "cover.png"  # the long way


@pytest.mark.parametrize(
    ("image", "source"),
    [
        ("/site/posts/a/cover.png", "/site/posts/a/index.md"),
        ("/site/posts/a/img/x y.png", "/site/posts/a/index.md"),
        ("/site/posts/ab/cover.png", "/site/posts/a/index.md"),
        ("/site/static/cover.png", "/site/posts/a/index.md"),
        ("/cover.png", "/index.md"),
        ("cover.png", "index.md"),
        ("a/cover.png", "a/index.md"),
        ("/site/posts/a", "/site/posts/a/index.md"),
    ],
)
def test_an_image_path_relative_to_its_post_is_what_pathlib_says(image: str, source: str) -> None:
    try:
        expected = PurePosixPath(image).relative_to(PurePosixPath(source).parent).as_posix()
    except ValueError:
        expected = PurePosixPath(image).name
    assert items._relative_path(Path(image), Path(source)) == expected


#: The characters XML 1.0 allows, as the feeds first wrote the rule: xml_text (and the
#: narrower regex it uses) must remove exactly the others.
KEPT_ONLY = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

XML_PIECES = (
    "a",
    " ",
    "\t",
    "\n",
    "\r",
    "\x00",
    "\x08",
    "\x0b",
    "\x0c",
    "\x1f",
    "\x7f",
    "\x80",
    "\x9f",
    "\xa0",
    "\xbf",
    "é",
    "\u2019",
    "\ud7ff",
    "\ud800",
    "\udfff",
    "\ue000",
    "\uefff",
    "\uf000",
    "\ufeff",
    "\ufffd",
    "\ufffe",
    "\uffff",
    "\U00010000",
    "\U0010ffff",
    "\ud55c\uad6d\uc5b4",
)


@pytest.mark.parametrize("seed", range(3))
def test_xml_text_shortcut_removes_what_the_regex_removes(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(4000):
        text = "".join(rng.choices(XML_PIECES, k=rng.randint(0, 12)))
        assert items.xml_text(text) == KEPT_ONLY.sub("", text), repr(text)


def test_xml_text_shortcut_on_every_character() -> None:
    for point in range(0x110000):  # every character, beside plain text
        text = f"ab{chr(point)}"
        assert items.xml_text(text) == KEPT_ONLY.sub("", text), hex(point)
