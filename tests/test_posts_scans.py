"""The reader's quick scans (issue 12, cold CPU) decide as the line walks they skip would.

``strip_mdx`` hands a body with no fence and no line that may start an import/export
straight to the JSX stripper, and ``author_from_body`` skips its line walk when none of the
author line's words is in the body in any case. Seeded random bodies built from the
pieces that matter (fences, statements, JSX, author lines in every style, the non-ASCII
letters a case-insensitive match folds to ASCII) must give what the walks give.
"""

from __future__ import annotations

import random

import pytest

from publisher.posts import fields, jsx

PIECES = (
    "plain prose line",
    "",
    "```js",
    "```",
    "~~~",
    "    ```",
    "import x from 'y'",
    "import {",
    "  a,",
    "} from 'z'",
    "export const meta = {}",
    "export default function",
    "importance of things",
    " import indented",
    "<Note>inside</Note>",
    "<BlogAuthor {...authors.x} />",
    "{/* comment */}",
    "text with `code <b>` span",
    "style={{color: 'red'}}",
    "_Author: Jane Doe, Isovalent_",
    "**_Author: A & B, Org_**",
    "##### Author: X, Org",
    "Written by Sam Lee",
    "WRITTEN BY: SAM",
    "Posted by [Kim](https://example.org), Org",
    "*written by* the team that built it",
    "Wr\u0131tten by Dotless",
    "Wr\u0130tten by Dotted",
    "Po\u017fted by Long S",
    "AUTHORS: A and B",
    "line ending in two spaces  ",
    "line ending in backslash\\",
    "# Heading",
    "caf\u00e9 \u65e5\u672c \U0001f600",
)


def bodies(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["\n".join(rng.choices(PIECES, k=rng.randint(0, 30))) for _ in range(count)]


@pytest.mark.parametrize("seed", range(3))
def test_strip_mdx_shortcut_gives_what_the_line_walk_gives(seed: int) -> None:
    shortcut = 0
    for text in bodies(seed, 1500):
        assert jsx.strip_mdx(text) == jsx._strip_lines(text), text
        shortcut += "```" not in text and "~~~" not in text and not jsx._may_hold_statement(text)
    assert shortcut > 20


@pytest.mark.parametrize("seed", range(3))
def test_author_scan_gives_what_the_line_walk_gives(seed: int) -> None:
    skipped = 0
    for text in bodies(100 + seed, 1500):
        assert fields.author_from_body(text) == fields._author_line(text), text
        skipped += not fields._may_name_author(text)
    assert skipped > 20


@pytest.mark.parametrize("letter", ["\u0130", "\u0131", "\u017f"])
def test_letters_that_fold_to_ascii_still_find_the_author_line(letter: str) -> None:
    text = {"\u017f": "Po\u017fted by Kim", "\u0130": "Wr\u0130tten by Kim"}.get(
        letter, "Wr\u0131tten by Kim"
    )
    assert fields.author_from_body(f"{text}\n\nBody.") == fields._author_line(f"{text}\n\nBody.")
    assert fields.author_from_body(f"{text}\n\nBody.")  # the regex does match these


def test_the_fold_list_is_every_non_ascii_letter_the_match_folds() -> None:
    import re

    letters = set("authorswrittenpostedby")
    folds = {
        chr(c)
        for c in range(0x80, 0x30000)
        if not 0xD800 <= c < 0xE000
        for letter in letters
        if re.fullmatch(letter, chr(c), re.IGNORECASE)
    }
    assert folds == set(fields._FOLDS_TO_ASCII)


MDX_PIECES = (
    "plain line",
    "",
    "  indented plain",
    "```",
    "~~~~",
    "````md",
    "<YoutubeIframe embedId='dQw4w9WgXcQ' />",
    '<iframe src="https://player.vimeo.com/video/1" width="1"></iframe>',
    '<iframe src="javascript:alert(1)"></iframe>',
    "<BlogAuthor {...authors.jane} />",
    "<Tabs>",
    "  <TabItem value='a'>",
    "    indented *markdown* inside",
    "  </TabItem>",
    "</Tabs>",
    "<div markdown>",
    "</div>",
    "text with <b>inline</b> html",
    "<ImageGallery images={['a.png', 'b.png']} />",
    "<Note",
    "  title='unclosed'",
    "a < b and c > d",
    "<!-- comment -->",
)


@pytest.mark.parametrize("seed", range(4))
def test_mdx_expand_copies_plain_lines_as_its_line_walk_does(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publisher.posts import mdx

    rng = random.Random(300 + seed)
    texts = ["\n".join(rng.choices(MDX_PIECES, k=rng.randint(0, 30))) for _ in range(600)]
    authors = (("jane", "Jane Doe", "https://example.org/jane"),)
    fast = [mdx.expand(text, authors, ("Jane Doe",)) for text in texts]
    monkeypatch.setattr(mdx._Expansion, "plain_lines", lambda self, i: i)
    assert fast == [mdx.expand(text, authors, ("Jane Doe",)) for text in texts]
