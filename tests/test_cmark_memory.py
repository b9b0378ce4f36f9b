"""publisher.posts.cmark: cmark-gfm's output, without the C memory cmarkgfm leaks (issue 12)."""

from __future__ import annotations

from pathlib import Path

import cmarkgfm  # type: ignore[import-untyped]
import pytest

from publisher.posts import body, cmark

SAMPLES = [
    "",
    "# Title\n\nSome *text* with `code` and a [link](x.html).\n",
    "| a | b |\n|---|---|\n| ~~gone~~ | <b>raw</b> |\n",
    "- one\n- two\n\n  nested para\n\n```py\nprint(1)\n```\n",
    "caf\u00e9 \u2014 \u2019quoted\u2019 \U0001f680\n",
]


@pytest.mark.parametrize("markdown", SAMPLES)
def test_same_html_as_the_cmarkgfm_wrapper(markdown: str) -> None:
    expected = cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=body._OPTIONS, extensions=list(body._EXTENSIONS)
    )
    assert cmark.to_html(markdown, body._OPTIONS, body._EXTENSIONS) == expected


def _resident_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads /proc (Linux)")
def test_rendering_many_posts_does_not_grow_memory() -> None:
    # ~5 KB of markdown; the leaking wrapper kept ~26 KB of C memory per call, so 2,000
    # calls grew the process by ~50 MB. Generous bound: a fifth of that.
    markdown = "\n\n".join(
        f"Paragraph {k} with **bold** and a [link](p{k}.html). " * 8 for k in range(12)
    )
    markdown += "\n\n| a | b |\n|---|---|\n| x | ~~y~~ |\n"
    for _ in range(200):  # warm up allocator pools
        body.render(markdown)
    before = _resident_mb()
    for _ in range(2000):
        body.render(markdown)
    assert _resident_mb() - before < 10


#: Documents whose state a reused parser must not carry into the next one: link
#: reference definitions, an open table, an open fenced block, a footnote-like line.
SEQUENCE = [
    "[a]: https://one.example\n\nSee [a] and [b].\n",
    "See [a] and [b] again: no definitions here.\n",
    "| x | y |\n|---|---|\n| 1 | 2 |",
    "| not | a table |\n",
    "```\nan unclosed fence",
    "after the fence\n\n[b]: https://two.example\n",
    "[b] and [a]\n",
    "",
    "* a list\n* with ~~strike~~",
    "1. ordered\n",
]


def test_one_parser_renders_a_sequence_as_a_new_parser_per_document() -> None:
    import random

    rng = random.Random(7)
    documents = SEQUENCE * 3
    rng.shuffle(documents)
    for markdown in documents + SAMPLES:
        expected = cmarkgfm.markdown_to_html_with_extensions(
            markdown, options=body._OPTIONS, extensions=list(body._EXTENSIONS)
        )
        assert cmark.to_html(markdown, body._OPTIONS, body._EXTENSIONS) == expected, markdown
