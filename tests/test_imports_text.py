"""posts/text.escape is html.escape (imported without the html package's named
references), on seeded random text made mostly of the characters either one rewrites."""

from __future__ import annotations

import html
import random

import pytest

from publisher.posts.text import escape

_ALPHABET = "&<>\"'a ;#x27amp\u00e9\U0001f600\n"


@pytest.mark.parametrize("quote", [True, False])
def test_escape_is_html_escape(quote: bool) -> None:
    rng = random.Random(12)
    for _ in range(5_000):
        text = "".join(rng.choices(_ALPHABET, k=rng.randrange(0, 24)))
        assert escape(text, quote=quote) == html.escape(text, quote=quote)
    assert escape('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
