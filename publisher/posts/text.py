"""Text clean-up shared by titles, summaries and bodies.

Zero-width spaces, word joiners and byte-order marks are removed everywhere; zero-width
joiners and non-joiners only at the ends, because inside text they are meaningful (emoji
sequences, Persian and Indic scripts). Mojibake (UTF-8 read as cp1252, ``havenâ€™t``) is
repaired with ftfy's encoding fixer only: quotes, ligatures and widths are left alone.
"""

from __future__ import annotations

_ALWAYS_INVISIBLE = ("\u200b", "\u2060", "\ufeff", "\u00ad")
_EDGE_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
#: Characters that only appear in text that went through a wrong decode.
_MOJIBAKE_MARKERS = ("Ã", "â€", "Â", "Å", "Ä", "ï»¿", "Ð", "Ñ")


def escape(text: str, quote: bool = True) -> str:
    """``html.escape``: ``&``, ``<`` and ``>`` (with ``quote``, ``"`` and ``'`` too) as
    character references. Not imported from ``html``, whose package loads the 2,200 named
    references of ``html.entities`` (2 ms of a one-post build, issue 12);
    tests/test_imports_text.py holds the two equal."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote:
        text = text.replace('"', "&quot;").replace("'", "&#x27;")
    return text


def strip_invisible(text: str) -> str:
    """Remove invisible characters that only get in the way, then trim."""
    if text.isascii():
        return text.strip()  # every character removed below is outside ASCII
    # str.replace, not str.translate: translate is slow on long non-ASCII text.
    for invisible in _ALWAYS_INVISIBLE:
        if invisible in text:
            text = text.replace(invisible, "")
    return text.strip().strip(_EDGE_INVISIBLE).strip()


def repair_mojibake(text: str) -> tuple[str, str | None]:
    """Return the repaired text and, if anything changed, a short example of the repair."""
    if text.isascii() or not any(marker in text for marker in _MOJIBAKE_MARKERS):
        return text, None
    import ftfy  # only here: most posts have no mojibake, and ftfy takes 40 ms to import

    fixed: str = ftfy.fix_encoding(text)
    if fixed == text:
        return text, None
    return fixed, _first_difference(text, fixed)


def _first_difference(before: str, after: str) -> str:
    """``3 words, e.g. 'havenâ€™t' -> 'haven’t'``: enough to find and trust the repair."""
    old, new = before.split(), after.split()
    if len(old) == len(new):
        changed = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
        if changed:
            count = len(changed)
            example = f"'{preview(changed[0][0], 40)}' -> '{preview(changed[0][1], 40)}'"
            return example if count == 1 else f"{count} words, e.g. {example}"
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    return f"'{before[prefix : prefix + 20]}' -> '{after[prefix : prefix + 20]}'"


def clean_line(text: str) -> tuple[str, str | None]:
    """Clean a one-line value (title, summary, tag): invisible characters, mojibake, spaces."""
    if text.isascii():
        return " ".join(text.split()), None  # nothing invisible, no mojibake
    text, repair = repair_mojibake(strip_invisible(text))
    return " ".join(text.split()), repair


def printable(text: str) -> str:
    """``text`` with every character that is not printable written as an escape (``\\x1b``).

    For messages that quote a post: a value can carry terminal escape sequences, a
    right-to-left override or a newline followed by a CI runner's command syntax
    (``::error::``), none of which should reach a log as it is.
    """
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def preview(text: str, size: int = 60) -> str:
    """A bounded, one-line view of user text for a message."""
    flat = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return flat if len(flat) <= size else f"{flat[: size - 20]}...{flat[-10:]}"
