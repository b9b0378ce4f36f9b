"""The compiled renderer (cmark-gfm) against the one it replaced (markdown-it-py).

Every post of examples/blog and of the sample corpus (../shared/corpus beside the checkout;
skipped when absent; PUBLISHER_CORPUS points elsewhere) goes through the whole body
pipeline with each renderer and then through the feed sanitizer: the HTML must be the
same, or differ only in the ways listed in EXPLAINED, each with its reason.

Also: the renderer stays linear on the inputs that make markdown parsers slow (the
hostile-post tests cover the passes before it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from publisher.errors import PostError
from publisher.feeds.items import clean_html
from publisher.posts import body, frontmatter, mdx

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("PUBLISHER_CORPUS", REPO.parent / "shared" / "corpus"))
PAGE = "https://blog.example.org/2024/post/"

_reference = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _reference_html(markdown: str) -> str:
    """The body pipeline with markdown-it-py in the middle: the same passes before (MDX
    embeds kept, components stripped) and after, so only the renderers are compared."""
    expanded = mdx.expand(markdown, (), ())
    return body.absolutize(_reference.render(body.strip_mdx(expanded.markdown)), PAGE)


def _same_strikethrough(html: str) -> str:
    # markdown-it writes ~~x~~ as <s>; cmark-gfm as <del>, which is what the GFM spec
    # says. Both survive the sanitizer and look the same in a reader.
    return html.replace("<s>", "<del>").replace("</s>", "</del>")


def _tight_list(html: str) -> str:
    # A list item whose blank line is followed only by link reference definitions:
    # markdown-it counts the blank line and makes the list loose (<li><p>...</p></li>),
    # cmark (the CommonMark reference implementation) does not, since the definitions
    # are not blocks. Only the paragraph wrapping in list items differs (the file has
    # other, truly loose lists, so the wrapping is dropped on both sides).
    return html.replace("<li>\n<p>", "<li>").replace("</p>\n</li>", "</li>")


#: File name (as it ends) -> what both renderings of it are compared after.
EXPLAINED: dict[str, Callable[[str], str]] = {
    "hugo-kubernetes-blog/content/en/blog/_posts/2025/change-to-kubernetes-slack.md": (
        _same_strikethrough
    ),
    "mkdocs-material-blog/docs/blog/posts/search-better-faster-smaller.md": _tight_list,
}


def _bodies(root: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted(root.rglob("*.md*")):
        if path.suffix not in (".md", ".mdx"):
            continue
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(root).as_posix()
        try:
            found.append((relative, frontmatter.split(text, relative)[1]))
        except PostError:  # a README without frontmatter: all of it is body
            found.append((relative, text))
    return found


def _check(root: Path) -> int:
    explained_seen = 0
    for name, markdown in _bodies(root):
        new = clean_html(body.to_html(markdown, PAGE), PAGE)
        old = clean_html(_reference_html(markdown), PAGE)
        fix = next((f for key, f in EXPLAINED.items() if name.endswith(key)), None)
        if fix is not None:
            assert new != old, f"{name}: listed as different but is not; remove it"
            old = clean_html(fix(_reference_html(markdown)), PAGE)
            new = clean_html(fix(body.to_html(markdown, PAGE)), PAGE)
            explained_seen += 1
        assert new == old, name
    return explained_seen


def test_examples_blog_renders_as_before() -> None:
    assert _check(REPO / "examples" / "blog") == 0


def test_sample_corpus_renders_as_before() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent: the parity test needs it beside the checkout")
    assert _check(CORPUS) == len(EXPLAINED)


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("~~gone~~ ~kept~", "<p><del>gone</del> ~kept~</p>\n"),
        (
            "| a | b |\n|:--|--:|\n| 1 | 2 |\n",
            '<table>\n<thead>\n<tr>\n<th style="text-align: left">a</th>\n'
            '<th style="text-align: right">b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n'
            '<td style="text-align: left">1</td>\n<td style="text-align: right">2</td>\n'
            "</tr>\n</tbody>\n</table>\n",
        ),
        # Raw HTML passes the renderer; the feed sanitizer removes what must go.
        (
            "<div class=x>hi</div>\n\n<script>x()</script>\n",
            "<div class=x>hi</div>\n<script>x()</script>\n",
        ),
        # No GFM autolinks: markdown-it did not make bare URLs links either.
        ("see https://example.org now", "<p>see https://example.org now</p>\n"),
        ("a\x00b", "<p>a\ufffdb</p>\n"),
        ("a\ud800b", "<p>a\ufffdb</p>\n"),
    ],
    ids=["strikethrough", "table", "raw-html", "no-autolink", "nul", "lone-surrogate"],
)
def test_renderer_features(markdown: str, html: str) -> None:
    assert body.render(markdown) == html


def test_urls_are_still_made_absolute() -> None:
    out = body.to_html("[a](../x/) ![i](pic.png)\n\n<img src=b.png>\n", PAGE)
    assert 'href="https://blog.example.org/2024/x/"' in out
    assert 'src="https://blog.example.org/2024/post/pic.png"' in out
    assert 'src="https://blog.example.org/2024/post/b.png"' in out


# --- linear on hostile input ----------------------------------------------------------------


def _growth(make: Callable[[int], str], base: int) -> float:
    """Time at 8x ``base`` relative to 1x (best of 3 each). CPU time of this process, not
    wall time: other jobs on a shared machine take the cores, not this process's work."""
    times = []
    for factor in (1, 8):
        text = make(base * factor)
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            body.render(text)
            best = min(best, time.process_time() - started)
        times.append(best)
    return times[1] / times[0]


#: Inputs that made some markdown parser superlinear: markdown-it's Rust port takes
#: seconds on a few thousand reference definitions, markdown-it-py on "![" runs.
HOSTILE: dict[str, tuple[Callable[[int], str], int]] = {
    "reference-definitions": (lambda n: "[a]: b\n" * n, 20_000),
    "empty-definitions": (lambda n: "[a]:\n" * n, 20_000),
    "image-openers": (lambda n: "![" * n, 20_000),
    "link-openers": (lambda n: "[" * n + "a" + "](b)" * n, 10_000),
    "emphasis": (lambda n: "*a_" * n, 20_000),
    "nested-quotes": (lambda n: ">" * n + " a", 20_000),
    "nested-lists": (lambda n: "".join("  " * min(i, 50) + "- a\n" for i in range(n)), 10_000),
    "table-rows": (lambda n: "|a|b|\n|-|-|\n" + "|1|2|\n" * n, 20_000),
    "html-openers": (lambda n: "<a " * n, 20_000),
    "backticks": (lambda n: "".join("`" * (k % 50 + 1) + "x" for k in range(n)), 10_000),
}


@pytest.mark.parametrize(("make", "base"), HOSTILE.values(), ids=HOSTILE.keys())
def test_renderer_grows_linearly(make: Callable[[int], str], base: int) -> None:
    # Linear: 8x the input is ~8x the time; quadratic would be ~64x. Generous slack
    # and a second try absorb a busy machine.
    ratios = [_growth(make, base)]
    if ratios[0] >= 24:
        ratios.append(_growth(make, base))
    assert min(ratios) < 24, ratios
