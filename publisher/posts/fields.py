"""Turn raw frontmatter values into typed fields: dates, URLs, authors, tag keys."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from urllib.parse import quote, urlsplit, urlunsplit

from publisher.lazy import LazyModule, lazy_pattern
from publisher.posts.model import Author
from publisher.posts.text import preview

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

    from dateutil import parser as dateparser
else:
    # Imported on first use: a date written YYYY-MM-DD (``_day``) needs none of it, and
    # dateutil costs a build about 12 ms of CPU to import.
    dateparser = LazyModule("dateutil.parser")

_YEAR = lazy_pattern(r"\b\d{4}\b")
#: Characters left as they are when a URL is percent-encoded (RFC 3986 reserved + '%').
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
#: Characters that cannot appear in the host part of a URL (RFC 3986 reg-name, IP literal).
_NOT_IN_HOST = lazy_pattern(r"[\s\x00-\x1f\x7f<>\"{}|\\^`]")


class FieldProblem(ValueError):
    """A value is wrong; ``fix`` says what to write instead."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


def parse_date(value: Any, tz: tzinfo) -> datetime:
    """A tz-aware datetime from any common date shape; naive values are in ``tz``."""
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            result = _day(text) or dateparser.isoparse(text)
        except (ValueError, OverflowError):
            # RFC 822 and other spelled-out dates; a year must be written, otherwise
            # dateutil would fill it in from today's date and the result would drift.
            if not _YEAR.search(text):
                raise FieldProblem(f"'{text}' is not a date", _DATE_FIX) from None
            try:
                result = dateparser.parse(
                    text, default=datetime(2000, 1, 1), tzinfos=_zone_for(text)
                )
            except FieldProblem:
                raise
            except (ValueError, OverflowError):
                raise FieldProblem(f"'{text}' is not a date", _DATE_FIX) from None
    else:
        raise FieldProblem(f"{preview(repr(value))} is not a date", _DATE_FIX)
    if result.tzinfo is None:
        result = result.replace(tzinfo=tz)
    return result


_DATE_FIX = "use ISO 8601, e.g. '2024-05-01T17:00:00Z' or '2024-05-01'"
_ISO_DAY = lazy_pattern(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day(text: str) -> datetime | None:
    """``YYYY-MM-DD`` as midnight, as ``isoparse`` reads it (without its Python parser:
    most posts' date); None for any other text, or no such day."""
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        return datetime(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return None  # isoparse says what is wrong with it


#: The zone names RFC 822 defines. Any other name is refused: dateutil would otherwise
#: drop it silently (the time then lands in the site's zone) or, when the name matches
#: the machine's zone, read it as local time, so the result would depend on the machine.
_RFC822_ZONES = {
    "UT": 0,
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
}


def _zone_for(text: str) -> Callable[[str | None, int | None], tzinfo | None]:
    def zone(name: str | None, offset: int | None) -> tzinfo | None:
        if offset is not None:
            return timezone(timedelta(seconds=offset))
        if name is None:
            return None
        hours = _RFC822_ZONES.get(name.upper())
        if hours is None:
            raise FieldProblem(
                f"'{text}' has an unknown time zone '{name}'",
                "write the UTC offset instead of the name, e.g. '+0100', or use ISO 8601",
            )
        return timezone(timedelta(hours=hours))

    return zone


#: An absolute http(s) URL that ``normalize_url`` returns as it is (and ``urljoin``
#: too, as a link): lowercase scheme and host, no port, no ``;`` parameters, no empty
#: query or fragment, only characters that need no percent-encoding.
CLEAN_ABSOLUTE = re.compile(
    r"https?://[a-z0-9.\-]+(?:/[A-Za-z0-9\-._~/%!$&'()*+,=:@]*)?"
    r"(?:\?[A-Za-z0-9\-._~/%!$&'()*+,=:@?;]+)?(?:#[A-Za-z0-9\-._~/%!$&'()*+,=:@?;]+)?"
).fullmatch


def normalize_url(url: str) -> str:
    """Trim and percent-encode a URL; raise FieldProblem unless it is absolute http(s)."""
    url = url.strip()
    if CLEAN_ABSOLUTE(url):
        return url  # the usual case: nothing to encode (tests/test_body_absolutize.py)
    shown = url if len(url) <= 80 else url[:60] + "..."
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # 'Invalid IPv6 URL': an unclosed '[' in the host
        raise FieldProblem(
            f"'{shown}' is not a valid URL ({exc})",
            "write it as https://host/path; an IPv6 host needs both brackets: https://[::1]/",
        ) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise FieldProblem(
            f"'{shown}' is not an absolute http(s) URL", "write it as https://host/path"
        )
    if _NOT_IN_HOST.search(parts.netloc):
        raise FieldProblem(
            f"'{shown}' has a host with a character no host name has",
            "write it as https://host/path with nothing but the host before the first '/'",
        )
    try:
        parts.port  # noqa: B018 - urllib checks the port only when it is read
    except ValueError:
        raise FieldProblem(
            f"'{shown}' has a port that is not a number from 0 to 65535",
            "correct the port, or leave it out",
        ) from None
    host = parts.netloc
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    return urlunsplit(
        (
            parts.scheme.lower(),
            host,
            quote(parts.path, safe=_URL_SAFE),
            quote(parts.query, safe=_URL_SAFE),
            quote(parts.fragment, safe=_URL_SAFE),
        )
    )


def join_site_path(site_url: str, path: str) -> str:
    """The canonical URL of a page at ``path`` on the site (which may live under a folder)."""
    return normalize_url(site_url.rstrip("/") + "/" + path.strip().lstrip("/"))


_TAG_SEPARATORS = lazy_pattern(r"[\s\-_]+")


def tag_key(tag: str) -> str:
    """Tags that differ only in case, spaces, hyphens or underscores share a key."""
    return "-".join(_TAG_SEPARATORS.split(tag.casefold())).strip("-")


def text_list(value: Any) -> list[str]:
    """A list of text values from a list, a comma-separated string, or nothing."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value).strip()]


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


# Author lines, after markdown emphasis and heading marks are peeled off:
#   _Author: Bill Mulligan, Isovalent_       **_Author: X, Org_**     ##### Author: X, Org
#   *Authors: A & B, Org*                    Written by Sam Lee       _Written by: X_
_AUTHOR_LINE = lazy_pattern(
    r"^(?:authors?\s*:|written\s+by\s*:?|posted\s+by\s*:?)\s*(?P<who>.+)$", re.IGNORECASE
)
_EMPHASIS = "*_~` "


def author_from_body(body: str) -> tuple[Author, ...]:
    """Authors named on an author line near the top or bottom of the body."""
    return _author_line(body) if _may_name_author(body) else ()


def _author_line(body: str) -> tuple[Author, ...]:
    """:func:`author_from_body`, looking at the lines themselves."""
    lines = _prose_lines(body)
    for line, alone in lines[:15] + lines[-5:]:
        heading = line.startswith("#")
        bare = line.lstrip("#").strip().rstrip("\\").strip()
        if bare.startswith(("*", "_")):
            # The whole line is emphasised (`_Author: X_`), not a sentence that merely
            # starts with emphasis (`*written by* the team that ...`).
            if not bare.endswith(("*", "_")):
                continue
            bare = bare.strip(_EMPHASIS)
        elif not bare[:1].isalpha() or not (alone or heading):
            # Plain text counts only on its own: a wrapped paragraph can put
            # "written by ..." at the start of a line in the middle of a sentence.
            continue
        match = _AUTHOR_LINE.match(bare.strip(_EMPHASIS))
        if match:
            return parse_author_text(match.group("who").strip(_EMPHASIS))
    return ()


#: The characters other than ASCII letters that _AUTHOR_LINE's case-insensitive match
#: takes for a letter of its words: dotted and dotless i, long s.
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f")


def _may_name_author(body: str) -> bool:
    """False when no line of ``body`` can match _AUTHOR_LINE: none of its words is there
    in any case (a quick scan, instead of walking every line of most posts)."""
    if not body.isascii():
        if any(c in body for c in _FOLDS_TO_ASCII):
            return True
    elif not any(c in body for c in _OTHER_BREAKS):
        # Each word only where a line can start with it (after '#', spaces and emphasis
        # marks), in any case: one search, where the three words were three after a
        # copy of the body in lower case (issue 12).
        return bool(_WORD_FIRST.match(body) or _WORD_FIRST_IN_LINE.search(body))
    lowered = body.lower()
    return "author" in lowered or "written" in lowered or "posted" in lowered


#: The ASCII characters other than a newline at which ``str.splitlines`` starts a line.
_OTHER_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
#: One of _AUTHOR_LINE's words after what ``_author_line`` strips off a line's start
#: ('#', spaces, emphasis marks). No line break in the run: each character is read by
#: one attempt at most, so the search is linear in the text.
_ANY_CASE = "|".join(
    "".join(f"[{c.upper()}{c}]" for c in word) for word in ("author", "written", "posted")
)
_WORD_AFTER_MARKS = rf"[#\t\x1f *_~`]*(?:{_ANY_CASE})"
_WORD_FIRST = lazy_pattern(_WORD_AFTER_MARKS)
_WORD_FIRST_IN_LINE = lazy_pattern("\n" + _WORD_AFTER_MARKS)


_FENCE = lazy_pattern(r"^ {0,3}(`{3,}|~{3,})")


def _prose_lines(body: str) -> list[tuple[str, bool]]:
    """Non-blank lines outside fenced code, each with whether it stands alone: its own
    paragraph, or set off from its neighbours by hard line breaks."""
    raw = body.splitlines()
    found: list[tuple[str, bool]] = []
    fence: str | None = None
    for index, line in enumerate(raw):
        marker = _FENCE.match(line)
        if fence is not None:
            if (
                marker
                and marker.group(1)[0] == fence[0]
                and len(marker.group(1)) >= len(fence)
                and not line.strip().strip(fence[0])
            ):
                fence = None
            continue
        if marker:
            fence = marker.group(1)
            continue
        if not line.strip():
            continue
        before = raw[index - 1] if index else ""
        after = raw[index + 1] if index + 1 < len(raw) else ""
        alone = (not before.strip() or _hard_break(before)) and (
            not after.strip() or _hard_break(line)
        )
        found.append((line.strip(), alone))
    return found


def _hard_break(line: str) -> bool:
    return line.endswith(("  ", "\\"))


def parse_author_text(text: str) -> tuple[Author, ...]:
    """``Name, Org`` / ``A & B, Org`` / ``A and B`` into authors sharing the org.

    Written with str methods, not regular expressions: the line comes from an untrusted
    post, and the obvious patterns (``\\s*&\\s*``, ``\\[[^\\]]*\\]``) backtrack
    quadratically over a long run of spaces or brackets.
    """
    text = _unlink(text)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        return ()
    org = parts.pop() if len(parts) > 1 else None
    names: list[str] = []
    for part in ",".join(parts).replace("&", ",").split(","):
        words = part.split()
        name: list[str] = []
        separated = False
        for index, word in enumerate(words):
            # "and" with a space on both sides separates names, as the regular expression
            # `\s+and\s+` did: not first in a piece (the space before it went with the
            # '&' or ','), last only with a space after it ("A and & B", not "Grand and"),
            # and not right after another "and" that took the space between them.
            last = index == len(words) - 1
            separated = (
                word == "and" and index > 0 and not separated and (not last or part[-1:].isspace())
            )
            if separated:
                names.append(" ".join(name))
                name = []
            else:
                name.append(word)
        names.append(" ".join(name))
    return tuple(Author(name=n, org=org) for n in names if n)


def _unlink(text: str) -> str:
    """``[Name](link)`` -> ``Name``, everywhere in ``text``, in one pass."""
    out: list[str] = []
    i = 0
    while True:
        opening = text.find("[", i)
        if opening == -1:
            break
        closing = text.find("]", opening + 1)
        if closing == -1:
            break
        if not text.startswith("(", closing + 1):
            # Every '[' before this ']' would stop at the same ']': none can match.
            out.append(text[i : closing + 1])
            i = closing + 1
            continue
        end = text.find(")", closing + 2)
        if end == -1:
            break
        out.append(text[i:opening])
        out.append(text[opening + 1 : closing])
        i = end + 1
    out.append(text[i:])
    return "".join(out)


def authors_from_frontmatter(value: Any) -> tuple[Author, ...]:
    """``author``/``authors`` as a name, a list of names, or mappings with name/email/org."""
    items = value if isinstance(value, list) else [value]
    authors: list[Author] = []
    for item in items:
        if isinstance(item, dict):
            name = str(item.get("name") or "").strip()
            if name:
                org = item.get("org") or item.get("organization") or item.get("company")
                email = item.get("email")
                authors.append(
                    Author(
                        name=name,
                        org=str(org).strip() if org else None,
                        email=str(email).strip() if email else None,
                    )
                )
        elif item is not None and str(item).strip():
            authors.append(Author(name=str(item).strip()))
    return tuple(authors)
