"""Card typography in every script: where lines break, where text is cut, which way it runs.

Line lists are checked with a fixed-width ``measure`` (no font needed); word order is
checked on drawn pixels.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from test_cards import LATIN_ONLY, build, card_image, make_post

from publisher.cards import fonts
from publisher.cards.options import CardOptions
from publisher.cards.text import ellipsize, fit, wrap
from publisher.unicode import graphemes, line_segments


def mono(text: str) -> float:
    """Every grapheme cluster 10 px wide."""
    return 10.0 * len(graphemes(text))


def test_thai_wraps_between_dictionary_words() -> None:
    title = "ภาษาไทยเป็นภาษาที่สวยงามมาก"
    words = line_segments(title)
    assert words[:3] == ["ภาษา", "ไทย", "เป็น"]
    for width in (60, 80, 100, 140):
        lines = wrap(title, width, mono)
        assert "".join(lines) == title
        # Every line ends where a word ends (the old wrapper cut Thai anywhere).
        ends = {len("".join(words[: i + 1])) for i in range(len(words))}
        position = 0
        for line in lines[:-1]:
            position += len(line)
            assert position in ends, (width, lines)


def test_a_thai_title_ends_with_more_than_one_word_when_it_can() -> None:
    title = "ภาษาไทยเป็นภาษาที่สวยงาม"  # ภาษา|ไทย|เป็น|ภาษา|ที่|สวยงาม
    greedy = wrap(title, 180, mono)
    assert greedy[-1] == "สวยงาม"  # one word alone on the last line
    fitted = fit(
        title, width=180, height=200, sizes=[20], max_lines=3, line_height=1.2,
        measure_at=lambda _: mono,
    )  # fmt: skip
    assert len(fitted.lines) == len(greedy) and "".join(fitted.lines) == title
    assert len(line_segments(fitted.lines[-1])) >= 2 and all(mono(x) <= 180 for x in fitted.lines)


def test_a_thai_title_is_cut_after_a_whole_word() -> None:
    cut = ellipsize("ภาษาไทยเป็นภาษาที่สวยงาม", 100, mono)
    assert cut.endswith("…") and mono(cut) <= 100
    assert cut.removesuffix("…") in ("ภาษาไทย", "ภาษาไทยเป็น")


def test_korean_is_never_cut_inside_a_word() -> None:
    title = "쿠버네티스 네트워크 보안을 위한 eBPF 기반 솔루션 소개"
    words = title.split(" ")
    for width in range(60, 300, 10):
        fitted = fit(
            title, width=width, height=40, sizes=[20], max_lines=2, line_height=1.2,
            measure_at=lambda _: mono,
        )  # fmt: skip
        for line in fitted.lines:
            for word in line.removesuffix("…").split(" "):
                # A word wider than the whole line may be cut (nothing else fits).
                assert word in words or mono(word + "…") > width, (width, fitted.lines)


def test_chinese_and_japanese_break_between_characters_not_before_closing_marks() -> None:
    lines = wrap("カーネルコミュニティがなぜ「BPF」に置き換えているのか。", 60, mono)
    assert all(mono(line) <= 60 for line in lines)
    assert not any(line.startswith(("。", "」", "ー")) for line in lines)
    assert not any(line.endswith("「") for line in lines)


def test_truncation_never_splits_a_cluster() -> None:
    family, flag = "👩\u200d👩\u200d👧", "🇩🇪"
    for text in (f"Launch {family}{family}{flag}", "क्षिक्षिक्षि क्षि", "각각각각 각"):
        for width in range(10, 80, 10):
            cut = ellipsize(text, width, mono)
            clusters = graphemes(cut.removesuffix("…"))
            assert all(cluster in graphemes(text) for cluster in clusters), (text, cut)


def test_hyphens_and_urls_break_after_not_before() -> None:
    assert wrap("without kube-proxy", 130, mono) == ["without kube-", "proxy"]
    lines = wrap("see https://example.org/very/long/path", 150, mono)
    assert lines[0] == "see https://"
    assert not any(line.startswith("/") for line in lines)


# --- direction, on drawn pixels -------------------------------------------------------------

REGULAR = str(CardOptions().regular_font)


def arabic_font() -> str:
    if not fonts.RAQM:
        pytest.skip("right-to-left shaping needs libraqm")
    found = [p for p in fonts.existing(fonts.DEFAULT_FALLBACKS) if 0x0645 in fonts.coverage(p)]
    if not found:
        pytest.skip("no installed font draws Arabic and U+2602 (install fonts-dejavu-core)")
    return found[0]


def drawn(text: str, direction: str, chain: tuple[str, ...], x: float = 20) -> Image.Image:
    canvas = Image.new("RGB", (900, 80), (0, 0, 0))
    fonts.draw_line(canvas, (x, 55), text, 32, chain, (255, 255, 255), direction)
    return canvas


def same(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is None


def test_a_latin_phrase_in_an_arabic_title_reads_left_to_right() -> None:
    chain = (REGULAR, arabic_font())
    phrase = "Cilium ☂ 1.10 eBPF"  # the umbrella is in the fallback font: three font runs
    line = drawn(f"مرحبا {phrase}", "rtl", chain)
    alone = drawn(phrase, "ltr", chain)
    width = round(fonts.measure(phrase, 32, chain))
    # The phrase is at the left edge, as a whole and in its own order: the old drawing
    # reversed its font runs (" 1.10 eBPF", "☂", "Cilium ").
    assert same(line.crop((0, 0, 20 + width, 80)), alone.crop((0, 0, 20 + width, 80)))
    assert line.crop((20 + width + 4, 0, 900, 80)).getbbox() is not None  # then the Arabic


def test_an_arabic_word_in_an_english_title_stays_in_place() -> None:
    chain = (REGULAR, arabic_font())
    line = drawn("Hello مرحبا world", "ltr", chain)
    hello = drawn("Hello ", "ltr", chain)
    width = round(fonts.measure("Hello", 32, chain))
    assert same(line.crop((0, 0, 20 + width, 80)), hello.crop((0, 0, 20 + width, 80)))
    # " world" follows the Arabic word, where it would be in logical order.
    start = 20 + fonts.measure("Hello مرحبا", 32, chain)
    world = drawn(" world", "ltr", chain, x=start)
    right = round(start) + 2
    assert same(line.crop((right, 0, 900, 80)), world.crop((right, 0, 900, 80)))


def test_an_arabic_title_starting_with_a_latin_name_is_right_to_left(tmp_path: Path) -> None:
    fallbacks = (arabic_font(),)
    # "Cilium هو مشروع" alone would be left to right by the first strong letter (UAX #9
    # P2); most of its words are Arabic, so the card sets it right to left (rule HL1).
    post = make_post(tmp_path, title="Cilium هو مشروع مفتوح المصدر", summary=None)
    options = replace(LATIN_ONLY, layout="text", format="png", fallback_fonts=fallbacks)
    result, _ = build(tmp_path, [post], options)
    assert result.problems == ()
    card = card_image(tmp_path, result).convert("L")
    ink = Image.eval(card.crop((0, 130, 1200, 570)), lambda v: 255 if v > 128 else 0)
    first = ink.getbbox()
    assert first is not None
    line = ink.crop((0, first[1], 1200, first[1] + 60))
    box = line.getbbox()
    assert box is not None and box[2] > 1100  # right-aligned
    assert box[0] > 300  # one line, hugging the right edge, not the left


def test_the_first_word_of_a_right_to_left_line_is_drawn_at_its_right_end() -> None:
    chain = (REGULAR, arabic_font())
    line = drawn("Cilium هو مشروع", "rtl", chain)
    width = fonts.measure("Cilium هو مشروع", 32, chain)
    start = 20 + width - fonts.measure("Cilium", 32, chain)
    word = drawn("Cilium", "ltr", chain, x=start)
    left = round(start) + 1
    assert same(line.crop((left, 0, 900, 80)), word.crop((left, 0, 900, 80)))
