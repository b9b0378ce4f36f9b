"""publisher.unicode against Unicode's own test files, and the cases cards and messages meet.

The test files are Unicode 15.0's ``GraphemeBreakTest.txt`` and ``LineBreakTest.txt``
(tests/data/unicode/, gzipped, Unicode license header kept), as shipped in Debian's
``unicode-data`` 15.0.0 package. ICU implements a later Unicode (17 in ICU 78), whose rules
changed in a few places since 15.0: those cases are listed below, each with the rule that
changed, and any other disagreement fails.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icu4py.breakers import CharacterBreaker, LineBreaker

from publisher import unicode
from publisher.unicode import (
    graphemes,
    line_segments,
    paragraph_direction,
    visual_runs,
)

DATA = Path(__file__).parent / "data" / "unicode"

#: Test lines (the part before ``#``) that ICU answers differently, by the reason.
GRAPHEME_DEVIATIONS = {
    # ICU 78 and the `regex` package both end the cluster after the ZWJ here, while
    # Unicode 15.0 (and uniseg's Unicode 16) join it by GB11. A ZWJ between two of these
    # dingbats is no emoji sequence anyone writes; real ZWJ sequences are tested below.
    "GB11 for U+2701": ("÷ 2701 × 200D × 2701 ÷",),
}
LINE_DEVIATIONS = {
    # LB20a (Unicode 16.0): no break after a hyphen that starts a word ("-5", "-foo").
    "LB20a word-initial hyphen": (
        "× 002D ÷ 0023 ÷", "× 002D × 0308 ÷ 0023 ÷", "× 002D ÷ 05D0 ÷",
        "× 002D × 0308 ÷ 05D0 ÷", "× 002D ÷ 00A7 ÷", "× 002D × 0308 ÷ 00A7 ÷",
        "× 002D ÷ 50005 ÷", "× 002D × 0308 ÷ 50005 ÷", "× 002D ÷ 0E01 ÷",
        "× 002D × 0308 ÷ 0E01 ÷",
    ),
    # LB15c/LB15d and LB25 (Unicode 15.1 and 16.0): a full stop or comma before a digit
    # is a decimal point (".35", ",0"), kept with the number; a space before it may break.
    "LB15c/LB15d/LB25 decimal point": (
        "× 002C ÷ 0030 ÷", "× 002C × 0308 ÷ 0030 ÷",
        "× 0065 × 0071 × 0075 × 0061 × 006C × 0073 × 0020 × 002E ÷ 0033 × 0035 × 0020 ÷ 0063 × 0065 × 006E × 0074 × 0073 ÷",
        "× 0061 × 002E ÷ 0032 × 0020 ÷", "× 0061 × 002E ÷ 0032 × 0020 ÷ 0915 ÷",
        "× 0061 × 002E ÷ 0032 × 0020 ÷ 672C ÷", "× 0061 × 002E ÷ 0032 × 3000 ÷ 672C ÷",
        "× 0061 × 002E ÷ 0032 × 3000 ÷ 307E ÷", "× 0061 × 002E ÷ 0032 × 3000 ÷ 0033 ÷",
        "× 0041 × 002E ÷ 0031 × 0020 ÷ BABB ÷",
        "× BD24 ÷ C5B4 × 002E × 0020 ÷ 0041 × 002E ÷ 0032 × 0020 ÷ BCFC ÷",
        "× BD10 ÷ C694 × 002E × 0020 ÷ 0041 × 002E ÷ 0033 × 0020 ÷ BABB ÷",
        "× C694 × 002E × 0020 ÷ 0041 × 002E ÷ 0034 × 0020 ÷ BABB ÷",
        "× 0061 × 002E ÷ 0032 × 3000 ÷ 300C ÷",
    ),
    # LB15a/LB15b (Unicode 15.1) replaced LB15: only an initial or final quotation mark
    # (Pi, Pf) glues to an opening bracket across spaces, not the ASCII '"'; and « » now
    # follow those rules.
    "LB15a/LB15b quotation marks": (
        "× 0022 × 0020 × 2329 ÷", "× 0022 × 0308 × 0020 × 2329 ÷",
        "× 0022 × 0020 × 0028 ÷", "× 0022 × 0308 × 0020 × 0028 ÷",
        "× 0061 × 006D × 0062 × 0069 × 0067 × 0075 × 0028 × 00AB × 0020 ÷ 0308 × 0020 ÷ 00BB × 0029 ÷ 0028 × 0065 × 0308 × 0029 ÷",
        "× 0061 × 006D × 0062 × 0069 × 0067 × 0075 × 00AB × 0020 × 0028 × 0020 × 0308 × 0020 × 0029 × 0020 ÷ 00BB × 0028 × 0065 × 0308 × 0029 ÷",
        "× 0061 × 006D × 0062 × 0069 × 0067 × 0075 × 007B × 00AB × 0020 ÷ 0308 × 0020 ÷ 00BB × 007D ÷ 0028 × 0065 × 0308 × 0029 ÷",
        "× 0061 × 006D × 0062 × 0069 × 0067 × 0075 × 00AB × 0020 × 007B × 0020 × 0308 × 0020 × 007D × 0020 ÷ 00BB × 0028 × 0065 × 0308 × 0029 ÷",
    ),
    # LB21a (Unicode 16.0): after "Hebrew letter + hyphen" only a non-Hebrew letter is
    # glued; a Hebrew letter may start the next line.
    "LB21a Hebrew hyphen": ("× 05D0 × 002D × 05D0 ÷",),
}  # fmt: skip


def cases(name: str) -> Iterator[tuple[str, str, list[int]]]:
    """``(test line, text, break positions)`` for each test in a Unicode test file."""
    with gzip.open(DATA / name, "rt", encoding="utf-8") as lines:
        for line in lines:
            body = line.partition("#")[0].strip()
            if not body:
                continue
            text: list[str] = []
            breaks: list[int] = []
            for token in body.split():
                if token == "÷":
                    breaks.append(len(text))
                elif token != "×":
                    text.append(chr(int(token, 16)))
            yield body, "".join(text), breaks


def ends(pieces: list[str]) -> list[int]:
    out, position = [], 0
    for piece in pieces:
        position += len(piece)
        out.append(position)
    return out


def disagreements(name: str, split: Callable[[str], list[str]], start: list[int]) -> set[str]:
    wrong = set()
    for body, text, breaks in cases(name):
        if start + ends(split(text)) != breaks:
            wrong.add(body)
    return wrong


def test_graphemes_follow_unicodes_test_file() -> None:
    # The grapheme test marks a break before the first character too.
    wrong = disagreements("GraphemeBreakTest-15.0.0.txt.gz", graphemes, [0])
    known = {body for bodies in GRAPHEME_DEVIATIONS.values() for body in bodies}
    assert wrong == known
    assert sum(1 for _ in cases("GraphemeBreakTest-15.0.0.txt.gz")) == 602


def test_line_breaks_follow_unicodes_test_file() -> None:
    # Raw ICU, not line_segments: the Korean and dash tailorings are not UAX #14's defaults.
    def icu(text: str) -> list[str]:
        return list(unicode._pieces(LineBreaker, text))

    wrong = disagreements("LineBreakTest-15.0.0.txt.gz", icu, [])
    known = {body for bodies in LINE_DEVIATIONS.values() for body in bodies}
    assert wrong == known
    assert sum(1 for _ in cases("LineBreakTest-15.0.0.txt.gz")) == 7654


def test_the_ascii_shortcut_gives_icus_answer() -> None:
    ascii_text = "".join(chr(c) for c in range(128)) + "a\r\nb\n\rc"
    assert graphemes(ascii_text) == list(unicode._pieces(CharacterBreaker, ascii_text))


@pytest.mark.parametrize(
    ("text", "clusters"),
    [
        ("a👩\u200d👩\u200d👧b", ["a", "👩\u200d👩\u200d👧", "b"]),
        ("🇩🇪🇫🇷", ["🇩🇪", "🇫🇷"]),
        ("e\u0301x", ["e\u0301", "x"]),
        ("👍🏽!", ["👍🏽", "!"]),
        ("각", ["각"]),  # precomposed syllable
        ("\u1100\u1161\u11a8", ["\u1100\u1161\u11a8"]),  # the same syllable as jamo
        ("क्षि", ["क्षि"]),  # Devanagari conjunct (GB9c, Unicode 15.1)
        ("\r\n\n", ["\r\n", "\n"]),
        ("1\ufe0f\u20e3#", ["1\ufe0f\u20e3", "#"]),  # keycap
        ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", ["🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"]),
    ],
)  # fmt: skip
def test_graphemes(text: str, clusters: list[str]) -> None:
    assert graphemes(text) == clusters


def test_a_lone_surrogate_is_its_own_cluster() -> None:
    # A YAML "\ud800" escape gives a string ICU refuses; it is cut like U+FFFD.
    assert graphemes("a\ud800e\u0301") == ["a", "\ud800", "e\u0301"]
    assert line_segments("ab \ud800 cd") == ["ab ", "\ud800 ", "cd"]


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        # Korean breaks between words only (keep-all), also next to Latin and brackets.
        ("쿠버네티스 네트워크 보안", ["쿠버네티스 ", "네트워크 ", "보안"]),
        ("쿠버네티스(Kubernetes) 보안과 eBPF를", ["쿠버네티스(Kubernetes) ", "보안과 ", "eBPF를"]),
        # Thai has no spaces between words: ICU's dictionary finds them.
        ("ภาษาไทยเป็นภาษาที่สวยงาม", ["ภาษา", "ไทย", "เป็น", "ภาษา", "ที่", "สวยงาม"]),
        # Chinese and Japanese break between characters, never before 。 or 」.
        ("Hello 世界。「日本」ok", ["Hello ", "世", "界。", "「日", "本」", "ok"]),
        ("カーネル、その理由", ["カー", "ネ", "ル、", "そ", "の", "理", "由"]),
        # After a hyphen inside a word, and in URLs after / (never before).
        ("without kube-proxy", ["without ", "kube-", "proxy"]),
        ("https://example.org/a/b", ["https://", "example.org/", "a/", "b"]),
        # An emoji ZWJ sequence is one piece; so is a number with its decimal point.
        ("👩\u200d👩\u200d👧 family 1.10", ["👩\u200d👩\u200d👧 ", "family ", "1.10"]),
        # A dash between spaces ends the line, never starts one.
        ("eBPF — the kernel", ["eBPF — ", "the ", "kernel"]),
        ("", []),
    ],
)  # fmt: skip
def test_line_segments(text: str, segments: list[str]) -> None:
    assert line_segments(text) == segments


def test_line_segments_are_made_of_whole_graphemes() -> None:
    text = "Cilium 👩🏽\u200d💻 eBPF 🇩🇪 क्षि ภาษาไทย 각각 e\u0301e\u0301"
    cuts = set(ends(line_segments(text)))
    assert cuts <= set(ends(graphemes(text)))


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("مرحبا Cilium", "rtl"),
        # Most words decide (HL1): an Arabic title starting with a product name is
        # right to left, an English one with an Arabic word left to right.
        ("Cilium هو مشروع مفتوح المصدر", "rtl"),
        ("Cilium and eBPF: مرحبا", "ltr"),
        ("2024 שלום", "rtl"),  # digits are not strong
        ("ab של", "ltr"),  # a tie: the first strong letter (P2)...
        ("\u2067ab\u2069 של", "rtl"),  # ... skipping isolates
        ("123 ...", "ltr"),
        ("", "ltr"),
    ],
)
def test_paragraph_direction(text: str, direction: str) -> None:
    assert paragraph_direction(text) == direction


def test_visual_runs_keep_a_latin_phrase_in_order_inside_arabic() -> None:
    assert visual_runs("مرحبا Cilium 🚀 eBPF", "rtl") == [
        ("Cilium 🚀 eBPF", "ltr"),
        ("مرحبا ", "rtl"),
    ]
    # A line of an Arabic title that starts with a Latin word: that word is at the right.
    assert visual_runs("Cilium هو مشروع (مفتوح) 1.10", "rtl") == [
        ("1.10", "ltr"),
        (" هو مشروع (مفتوح) ", "rtl"),
        ("Cilium", "ltr"),
    ]
    # The same line in a left-to-right paragraph reads from the left.
    assert visual_runs("Cilium هو مشروع", "ltr") == [("Cilium ", "ltr"), ("هو مشروع", "rtl")]
    assert visual_runs("plain text", "ltr") == [("plain text", "ltr")]
    assert visual_runs("", "rtl") == []


def test_visual_runs_keep_every_character() -> None:
    line = "שלום 👩\u200d👩\u200d👧 world (עולם) 3.5%"
    runs = visual_runs(line, "rtl")
    assert sorted("".join(text for text, _ in runs)) == sorted(line)
    clusters = set(graphemes(line))
    assert all(set(graphemes(text)) <= clusters for text, _ in runs)  # none cut apart


def test_brackets_take_the_direction_around_them() -> None:
    # UAX #9 rule N0: the pair around an Arabic word in an English title stays in place;
    # without it, ")" joined the Arabic run and was drawn mirrored at its left.
    assert visual_runs("Hello world (نعم) 2024", "ltr") == [
        ("Hello world (", "ltr"),
        ("نعم", "rtl"),
        (") ", "ltr"),
        ("2024", "ltr"),  # a number after Arabic is level 2, still read left to right
    ]


@pytest.mark.parametrize(
    "text",
    ["مرحبا Cilium 🚀 eBPF", "Cilium هو مشروع 1.10", "שלום 👩\u200d👩\u200d👧 world", "abc"],
)
def test_levels_come_from_the_complete_algorithm(text: str) -> None:
    # The Rust levels are read from python-bidi's debug output: fail loudly if a new
    # version prints them differently, rather than fall back without notice.
    for direction in ("ltr", "rtl"):
        rust = unicode._rust_levels(text, direction)
        assert rust is not None and len(rust) == len(text)
        assert rust == unicode._python_levels(text, direction)  # no brackets here: they agree


def test_a_lone_surrogate_falls_back_to_the_python_algorithm() -> None:
    assert unicode._rust_levels("שלום \ud800", "rtl") is None
    runs = visual_runs("שלום \ud800 world", "rtl")
    assert "".join(sorted("".join(text for text, _ in runs))) == "".join(
        sorted("שלום \ud800 world")
    )
    assert runs[0] == ("\ud800 world", "ltr")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=60))
def test_any_text_is_cut_into_whole_clusters_and_nothing_is_lost(text: str) -> None:
    clusters = graphemes(text)
    assert "".join(clusters) == text and all(clusters)
    segments = line_segments(text)
    assert "".join(segments) == text and all(segments)
    assert set(ends(segments)) <= set(ends(clusters))
    for direction in ("ltr", "rtl"):
        runs = visual_runs(text, direction)
        assert sorted("".join(piece for piece, _ in runs)) == sorted(text)
        assert all(set(graphemes(piece)) <= set(clusters) for piece, _ in runs)
