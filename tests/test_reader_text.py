"""The reader's text clean-up against the implementations it replaced (issue 12).

``reader.decode`` takes a BOM off itself and decodes with UTF-8's own codec instead of
``utf-8-sig`` (Python code); ``strip_invisible`` and ``clean_line`` return at once for
ASCII text. The references below are the code before, verbatim: on seeded random bytes
(BOMs, line ends, invalid and truncated sequences, NUL, UTF-16) and random text (ASCII,
invisible characters, mojibake, Unicode spaces) both give the same text or the same
problem.
"""

from __future__ import annotations

import random

from publisher.errors import PostError, Problem
from publisher.posts import reader
from publisher.posts.text import clean_line, preview, repair_mojibake, strip_invisible

_ALWAYS_INVISIBLE = ("\u200b", "\u2060", "\ufeff", "\u00ad")
_EDGE_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


def reference_decode(raw: bytes, file: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or reader._looks_utf16(raw):
        raise PostError(
            Problem(file=file, field=None, message="is UTF-16 text", fix="save the file as UTF-8")
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise PostError(
            Problem(
                file=file,
                field=None,
                message=f"is not UTF-8 text (byte 0x{raw[exc.start]:02X} on line {line})",
                fix="save the file as UTF-8",
                line=line,
            )
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def reference_strip_invisible(text: str) -> str:
    for invisible in _ALWAYS_INVISIBLE:
        if invisible in text:
            text = text.replace(invisible, "")
    return text.strip().strip(_EDGE_INVISIBLE).strip()


def reference_clean_line(text: str) -> tuple[str, str | None]:
    text, repair = repair_mojibake(reference_strip_invisible(text))
    return " ".join(text.split()), repair


def _outcome(decode, raw: bytes) -> object:  # type: ignore[no-untyped-def]
    try:
        return decode(raw, "post.md")
    except PostError as exc:
        return exc.problem


BYTES = (
    *(b"\xef\xbb\xbf", b"\xff\xfe", b"a", b"\n", b"\r\n", b"\r", b"\xff", b"\xc3\xa9"),
    *(b"\xe2\x82", b"---", b"\x00", "日本".encode(), b"\xed\xa0\x80", b"title: x"),
)
TEXT = (
    *("a", " ", "\t", "\n", "word", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"),
    *("\u00ad", "\u00a0", "\u3000", "café", "cafÃ©", "havenâ€™t", "日本", "\x85", "\x1c"),
)


def test_decoding_gives_the_text_or_the_problem_it_gave() -> None:
    rng = random.Random(3)
    for _ in range(20_000):
        raw = b"".join(rng.choices(BYTES, k=rng.randint(0, 12)))
        assert _outcome(reader.decode, raw) == _outcome(reference_decode, raw), raw


def test_one_line_values_and_bodies_clean_up_as_before() -> None:
    rng = random.Random(4)
    for _ in range(20_000):
        text = "".join(rng.choices(TEXT, k=rng.randint(0, 10)))
        assert strip_invisible(text) == reference_strip_invisible(text), preview(text)
        assert clean_line(text) == reference_clean_line(text), preview(text)
