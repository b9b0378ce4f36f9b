"""Hostile card inputs: image formats, sizes, pixel bombs, card text, and ``check_cards``.

Every image is generated here; the big ones are sparse files or a few bytes of header
that claim a huge size. Each hostile post must cost one clear Problem line for that post
while the other posts still get their cards.
"""

from __future__ import annotations

import html
import io
import os
import random
import re
import struct
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, features

from publisher.cards import CardOptions, build_cards, parse_card_options
from publisher.cards.check import check_cards
from publisher.cards.images import FORMATS, SourceImageError, open_source, probe
from publisher.cards.text import break_units, clean_text, graphemes
from publisher.config import SiteConfig
from publisher.errors import Problem
from publisher.output import OutputWriter
from publisher.posts.model import Author, Post

SITE = SiteConfig(
    title="Test Blog",
    url="https://blog.example.org",
    description="Notes",
    language="en-US",
    timezone="UTC",
    author=None,
)
OPTIONS = CardOptions(fallback_fonts=())


def encoded(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def picture(width: int = 1300, height: int = 700) -> Image.Image:
    return Image.linear_gradient("L").resize((width, height)).convert("RGB")


def make_post(
    root: Path,
    post_id: str,
    *,
    image: Path | None = None,
    image_url: str | None = None,
    title: str = "A post",
    frontmatter: dict[str, Any] | None = None,
) -> Post:
    source = root / "posts" / post_id / "index.md"
    source.parent.mkdir(parents=True, exist_ok=True)
    return Post(
        id=post_id,
        source=source,
        url=f"https://blog.example.org/{post_id}/",
        page_url=f"https://blog.example.org/{post_id}/",
        path=None,
        external_url=None,
        title=title,
        summary="A summary.",
        date=datetime(2024, 5, 17, tzinfo=UTC),
        updated=None,
        og_image=image,
        og_image_url=image_url,
        categories=(),
        tags=(),
        authors=(Author(name="Ada"),),
        is_featured=False,
        is_popular=False,
        draft=False,
        body_markdown="",
        body_html="",
        frontmatter=frontmatter or {},
    )


def image_post(root: Path, post_id: str, name: str, data: bytes) -> Post:
    path = root / "posts" / post_id / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return make_post(root, post_id, image=path)


def build(root: Path, posts: list[Post], options: CardOptions = OPTIONS) -> Any:
    return build_cards(
        SITE,
        posts,
        options,
        output=OutputWriter(root / "public"),
        cache_dir=root / "state",
        jobs=1,
        root=root,
    )


def by_post(problems: tuple[Problem, ...] | list[Problem]) -> dict[str, Problem]:
    found: dict[str, Problem] = {}
    for problem in problems:
        key = problem.file.split("/")[1]
        assert key not in found, f"two problems for {key}: {problems}"
        found[key] = problem
    return found


def huge_jpeg(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header claims ``width`` x ``height``."""
    data = bytearray(encoded(picture(16, 16), "JPEG"))
    at = data.index(b"\xff\xc0")  # SOF0: length(2) precision(1) height(2) width(2)
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def eps() -> bytes:
    data = encoded(picture(20, 10), "EPS")
    assert Image.open(io.BytesIO(data)).format == "EPS"  # Pillow alone would open it
    return data


# --- formats ----------------------------------------------------------------------------------


def test_the_allow_list() -> None:
    assert {"JPEG", "PNG", "WEBP", "GIF"} <= set(FORMATS)
    assert set(FORMATS) <= {"JPEG", "PNG", "WEBP", "GIF", "AVIF"}
    assert ("AVIF" in FORMATS) == bool(features.check("avif"))


REFUSED: list[tuple[str, Callable[[], bytes]]] = [
    ("tiff", lambda: encoded(picture(), "TIFF")),
    ("bmp", lambda: encoded(picture(), "BMP")),
    ("ico", lambda: encoded(picture(64, 64), "ICO")),
    ("pcx", lambda: encoded(picture(), "PCX")),
    ("tga", lambda: encoded(picture(), "TGA")),
    ("ppm", lambda: encoded(picture(), "PPM")),
    ("eps", eps),
]
if features.check_codec("jpg_2000"):
    REFUSED.append(("jp2", lambda: encoded(picture(), "JPEG2000")))


@pytest.mark.parametrize(("name", "make"), REFUSED, ids=[r[0] for r in REFUSED])
def test_other_formats_are_refused_by_content(
    tmp_path: Path, name: str, make: Callable[[], bytes]
) -> None:
    # Named .png on purpose: the decoder is chosen by content, and must be refused by it.
    posts = [image_post(tmp_path, "a-odd", "cover.png", make()), make_post(tmp_path, "b-fine")]
    result = build(tmp_path, posts)
    assert len(result.cards) == 2
    (problem,) = result.problems
    assert problem.file == "posts/a-odd/index.md" and problem.field == "ogImage"
    assert "is not in a supported format (only JPEG, PNG, WebP, GIF" in problem.message
    assert "save it as PNG or JPEG" in (problem.fix or "")


def test_svg_says_what_to_do(tmp_path: Path) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    result = build(tmp_path, [image_post(tmp_path, "a-svg", "logo.svg", svg)])
    (problem,) = result.problems
    assert "is an SVG drawing, which is not supported as a card image" in problem.message
    assert "export it as a PNG or JPEG" in (problem.fix or "")


# --- sizes -------------------------------------------------------------------------------------


def test_a_2kb_jpeg_claiming_65000_pixels_square(tmp_path: Path) -> None:
    data = huge_jpeg(65000, 65000)
    assert len(data) < 2048
    posts = [image_post(tmp_path, "a-bomb", "cover.jpg", data), make_post(tmp_path, "b-fine")]
    result = build(tmp_path, posts)
    assert len(result.cards) == 2
    problem = by_post(result.problems)["a-bomb"]
    assert problem.severity == "error"
    assert "too large to decode safely (65000x65000" in problem.message
    assert "cards.max_pixels" in (problem.fix or "")


def test_the_pixel_cap_is_the_configured_one(tmp_path: Path) -> None:
    data = encoded(picture(2000, 1000), "PNG")
    with pytest.raises(SourceImageError, match=r"\(2000x1000; the limit is 1,000,000 pixels\)"):
        open_source(data, need=(1200, 630), max_pixels=1_000_000)
    # Below Pillow's own guard, above ours: the header is enough to refuse it.
    path = tmp_path / "wide.png"
    path.write_bytes(data)
    with pytest.raises(SourceImageError, match="too large"):
        probe(path, max_bytes=10**9, max_pixels=1_000_000)
    assert probe(path, max_bytes=10**9, max_pixels=2_000_000).size == (2000, 1000)
    assert Image.MAX_IMAGE_PIXELS != 1_000_000  # the process-wide guard is restored


def test_a_1_gib_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "posts" / "a-huge" / "cover.jpg"
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        handle.write(encoded(picture(), "JPEG"))
        handle.truncate(1024**3)  # sparse: costs no disk, but stat says 1 GiB
    posts = [make_post(tmp_path, "a-huge", image=path), make_post(tmp_path, "b-fine")]
    result = build(tmp_path, posts)
    assert len(result.cards) == 2
    problem = by_post(result.problems)["a-huge"]
    assert problem.severity == "error"
    assert "is 1,073,741,824 bytes, over the 30,000,000-byte limit" in problem.message
    assert "cards.max_image_bytes" in (problem.fix or "")


def test_the_file_cap_is_configurable(tmp_path: Path) -> None:
    options, problems = parse_card_options({"max_image_bytes": "50 KB", "fonts": {}})
    assert problems == [] and options.max_image_bytes == 50_000
    data = encoded(Image.effect_noise((400, 400), 80).convert("RGB"), "PNG")
    assert len(data) > 50_000
    result = build(
        tmp_path,
        [image_post(tmp_path, "a-post", "cover.png", data)],
        CardOptions(fallback_fonts=(), max_image_bytes=50_000),
    )
    assert "over the 50,000-byte limit" in result.problems[0].message


def test_a_fifo_is_not_opened(tmp_path: Path) -> None:
    path = tmp_path / "posts" / "a-fifo" / "cover.png"
    path.parent.mkdir(parents=True)
    os.mkfifo(path)  # reading it would block the build forever
    result = build(tmp_path, [make_post(tmp_path, "a-fifo", image=path)])
    (problem,) = result.problems
    assert "is not a regular file" in problem.message


# --- card text is linear -------------------------------------------------------------------------


def _best_of(runs: int, work: Callable[[], object]) -> float:
    """The least CPU time of ``runs`` runs: other jobs on a shared machine stretch the
    wall clock (a 1x run slowed by a busy moment failed the 8x ratio), not the CPU time."""
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


HOSTILE_MARKDOWN = {
    "brackets": "[",
    "images": "![",
    "links": "[a](",
    "nested": "[a]((x",
    "strong": "**a ",
    "em": "_a ",
    "strike": "~~a ",
    "code": "`",
    "comments": "<!--",
    "tags": "<a ",
}
HOSTILE_CLUSTERS = {
    "zwj-flags": "\U0001f1e6\u200d",  # one endless cluster: ZWJ glues everything
    "marks": "e\u0301\u0301",
    "one-word": "ab",  # one unbreakable unit
}


def _grows_linearly(work: Callable[[str], object], piece: str) -> None:
    """1x, 2x, 4x, 8x input: linear work grows ~8x; the old regexes grew ~64x."""
    base = 3000
    times = [_best_of(5, lambda k=k: work(piece * (base * k // len(piece)))) for k in (1, 2, 4, 8)]
    floor = max(times[0], 1e-3)  # below a millisecond the clock's noise dominates
    assert times[3] / floor < 24, times


@pytest.mark.parametrize("piece", HOSTILE_MARKDOWN.values(), ids=HOSTILE_MARKDOWN.keys())
def test_clean_text_is_linear(piece: str) -> None:
    _grows_linearly(clean_text, piece)


@pytest.mark.parametrize("piece", HOSTILE_CLUSTERS.values(), ids=HOSTILE_CLUSTERS.keys())
def test_line_breaking_is_linear(piece: str) -> None:
    _grows_linearly(lambda text: (graphemes(text), break_units(text)), piece)


# The regexes clean_text used before it was made linear: the reference its scanners must
# agree with on every input (they were quadratic, so only short inputs are compared).
_OLD = [
    (re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--.*?-->", re.S), ""),
    (re.compile(r"^\s{0,3}#{1,6}\s+"), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"`+([^`]+)`+"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"), r"\1"),
]
_TOKENS = ["[", "]", "(", ")", "![", "**", "__", "*", "_", "~~", "`", "<a ", ">", "<b>"]
_TOKENS += ["<!--", "-->", "x", "é", " ", "\n", "&amp;", "#"]


def _old_markup(text: str) -> str:
    for pattern, replacement in _OLD:
        text = pattern.sub(replacement, text)
    return text


def test_the_linear_scanners_strip_exactly_what_the_old_regexes_did() -> None:
    rng = random.Random(20261130)
    for _ in range(20_000):
        text = "".join(rng.choice(_TOKENS) for _ in range(rng.randrange(1, 14)))
        expected = " ".join(html.unescape(_old_markup(text)).split())
        assert clean_text(text) == expected, repr(text)


def test_a_48_kb_title_gets_a_card(tmp_path: Path) -> None:
    title = "**a " * 12_000
    result = build(tmp_path, [make_post(tmp_path, "a-long", title=title)])
    (card,) = result.cards
    assert card.bytes > 0 and result.problems == ()


# --- check_cards: everything the stage would refuse, without rendering ------------------------


def test_check_cards_reports_what_the_build_would(tmp_path: Path) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
    posts = [
        make_post(tmp_path, "a-layout", frontmatter={"ogLayout": "heor"}),
        make_post(tmp_path, "b-focus", frontmatter={"ogImageFocus": "middle"}),
        image_post(tmp_path, "c-svg", "drawing.png", svg),
        image_post(tmp_path, "d-tiff", "scan.tiff", encoded(picture(), "TIFF")),
        image_post(tmp_path, "e-bomb", "cover.jpg", huge_jpeg(65000, 65000)),
        make_post(tmp_path, "f-missing", image=tmp_path / "posts" / "f-missing" / "gone.png"),
        make_post(tmp_path, "g-metadata", image_url="http://169.254.169.254/latest/"),
        make_post(tmp_path, "h-ftp", image_url="ftp://example.org/x.png"),
        image_post(tmp_path, "i-fine", "cover.png", encoded(picture(), "PNG")),
        make_post(tmp_path, "j-remote", image_url="https://images.example.org/x.png"),
        make_post(tmp_path, "k-localhost", image_url="http://localhost:8080/x.png"),
    ]
    checked = by_post(check_cards(OPTIONS, posts, root=tmp_path))
    assert sorted(checked) == [
        "a-layout",
        "b-focus",
        "c-svg",
        "d-tiff",
        "e-bomb",
        "f-missing",
        "g-metadata",
        "h-ftp",
        "k-localhost",
    ]
    assert "card layout 'heor' does not exist" in checked["a-layout"].message
    assert "hero" in (checked["a-layout"].fix or "")
    assert "is not a focal point" in checked["b-focus"].message
    assert "SVG" in checked["c-svg"].message
    assert "not in a supported format" in checked["d-tiff"].message
    assert "too large to decode safely" in checked["e-bomb"].message
    assert checked["e-bomb"].severity == "error"
    assert "does not exist" in checked["f-missing"].message
    assert "169.254.169.254 is a link-local address" in checked["g-metadata"].message
    assert "only http and https" in checked["h-ftp"].message
    assert "localhost is a loopback address" in checked["k-localhost"].message

    # The build says the same about the same posts (it also fetches, which check does not).
    built = by_post(build(tmp_path, [p for p in posts if not p.og_image_url], OPTIONS).problems)
    for post_id, problem in built.items():
        same = checked[post_id]
        assert (same.field, same.message, same.severity) == (
            problem.field,
            problem.message,
            problem.severity,
        )


def test_check_cards_reports_fonts_and_logo_of_the_config(tmp_path: Path) -> None:
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"not a font")
    logo = tmp_path / "logo.svg"
    logo.write_bytes(b"<svg/>")
    options = CardOptions(fallback_fonts=(), font_bold=not_a_font, logo=logo)
    problems = check_cards(options, [], root=tmp_path, config_file="config.yaml")
    fields = {p.field: p for p in problems}
    assert set(fields) == {"cards.fonts.bold", "cards.logo"}
    assert all(p.file == "config.yaml" for p in problems)
    assert "SVG" in fields["cards.logo"].message


def test_check_cards_reads_headers_only(tmp_path: Path) -> None:
    path = tmp_path / "posts" / "a-huge" / "cover.jpg"
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        handle.write(encoded(picture(), "JPEG"))
        handle.truncate(1024**3)
    fine = image_post(tmp_path, "b-fine", "cover.jpg", encoded(picture(6000, 4000), "JPEG"))
    problems = check_cards(
        OPTIONS, [make_post(tmp_path, "a-huge", image=path), fine], root=tmp_path
    )
    assert [p.file.split("/")[1] for p in problems] == ["a-huge"]


@pytest.mark.parametrize(
    ("cards", "expected"),
    [
        ({"layout": "heor"}, "cards.layout: card layout 'heor' not found; did you mean 'hero'?"),
        ({"layout": "mine", "layouts_folder": "layouts"}, "cards.layout: mine.yaml: text.bx"),
    ],
)
def test_layout_mistakes_fail_when_the_config_loads(
    tmp_path: Path, cards: dict[str, str], expected: str
) -> None:
    (tmp_path / "layouts").mkdir()
    (tmp_path / "layouts" / "mine.yaml").write_text(
        "title: {size: [40, 60]}\ntext: {bx: [0, 0, 10, 10]}\n", encoding="utf-8"
    )
    _, problems = parse_card_options(cards, root=tmp_path)
    assert any(line.startswith(expected) for line in problems), problems
