"""How much work one post may cost the reader, and the checks that hold it to that.

Posts come from outside contributors (``publish check`` is a pull-request gate), so every
post is untrusted: a few hundred hostile bytes must not stall the run or exhaust memory.
Each cap is generous, many times the largest real post seen (35 KB, lines under 2,000
characters, frontmatter under 2 KB), and a post over a cap gets one error naming the
limit and the fix; the other posts are read as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from publisher.dataclass import dataclass
from publisher.errors import PostError, Problem, Severity
from publisher.lazy import lazy_pattern
from publisher.posts.fields import FieldProblem, parse_date, tag_key
from publisher.posts.text import clean_line, preview


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Caps on one post. Part of the read context, so changing one invalidates the cache."""

    #: The whole file (frontmatter and body), in bytes. The markdown renderer is linear
    #: but pure Python: crafted markdown ("![" on every line) renders at about 50 KB a
    #: second, so this bounds the worst post to seconds, not minutes.
    post_bytes: int = 512 * 1024
    #: The frontmatter between the '---' lines, in characters.
    frontmatter_chars: int = 64 * 1024
    #: Values (keys, values, list items) once YAML aliases are expanded.
    frontmatter_values: int = 10_000
    #: Characters of text (keys and values) once YAML aliases are expanded.
    frontmatter_expanded_chars: int = 1_000_000
    #: One line of the body, in characters.
    line_chars: int = 100_000
    #: A tag or category, in UTF-8 bytes: its feed folder name must stay under the 255
    #: bytes file systems allow, with room for the short hash a lossy slug gets.
    label_bytes: int = 200
    #: Tags, and categories, on one post: each gets feeds of its own that carry the whole
    #: post, so 1,500 tags on one 70 KB post wrote 570 MB. Real posts have up to 11.
    labels_per_post: int = 50
    #: A date as written, in characters (the fallback date parser is not cheap).
    date_chars: int = 200
    #: A relative file name (ogImage), in UTF-8 bytes; one folder or file name in it may
    #: have at most 255.
    file_name_bytes: int = 1024


DEFAULT_LIMITS = Limits()

#: The most bytes one name in a path may have on common file systems (ext4, APFS, NTFS).
NAME_MAX = 255


def check_size(raw: bytes, file: str, limits: Limits) -> None:
    """Refuse a post file over the size cap before anything reads it."""
    if len(raw) > limits.post_bytes:
        raise PostError(
            Problem(
                file=file,
                field=None,
                message=f"is {len(raw):,} bytes; the limit for one post is {limits.post_bytes:,}",
                fix="split the post, or move large content (images, data) into files beside it",
            )
        )


def check_frontmatter_length(text: str, file: str, first_line: int, limits: Limits) -> None:
    """Refuse frontmatter (YAML, TOML or JSON) over its character cap before parsing it."""
    if len(text) > limits.frontmatter_chars:
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message=(
                    f"is {len(text):,} characters long; the limit is {limits.frontmatter_chars:,}"
                ),
                fix="keep the frontmatter to a few keys and move long text into the body",
                line=first_line,
            )
        )


def check_lines(text: str, file: str, limits: Limits) -> None:
    """Refuse a post with an absurdly long line: every later pass is linear, but not free."""
    if len(text) <= limits.line_chars or max(map(len, text.split("\n"))) <= limits.line_chars:
        return  # the usual case, found without a Python loop over the lines
    start = 0
    number = 1
    while True:
        end = text.find("\n", start)
        stop = len(text) if end == -1 else end
        if stop - start > limits.line_chars:
            raise PostError(
                Problem(
                    file=file,
                    field=None,
                    message=(
                        f"line {number} is {stop - start:,} characters long; "
                        f"the limit is {limits.line_chars:,}"
                    ),
                    fix="break the line, or move embedded data (base64 images) into a file",
                    line=number,
                )
            )
        if end == -1:
            return
        start = end + 1
        number += 1


def read_date(value: object, tz: tzinfo, limits: Limits) -> datetime:
    """``parse_date`` for a post's own dates: short text, and a plausible year.

    Text longer than a date is refused before the fallback parser (which is slow) sees
    it. Years before 1970 are refused too: before the 1890s time zones were local mean
    time (Berlin was +00:53:28), which no feed format can write, and near year 1 or 9999
    a conversion to UTC overflows.
    """
    if isinstance(value, str) and len(value) > limits.date_chars:
        raise FieldProblem(
            f"'{preview(value)}' is {len(value):,} characters, too long to be a date",
            "use ISO 8601, e.g. '2024-05-01T17:00:00Z' or '2024-05-01'",
        )
    result = parse_date(value, tz)
    if not 1970 <= result.year < 9000:
        raise FieldProblem(
            f"'{preview(str(value))}' is in the year {result.year}; dates from 1970 to "
            "8999 are read",
            "write the date the post was (or will be) published, e.g. '2024-05-01'",
        )
    return result


#: A control character no file name should hold: NUL to U+001F, DEL.
_CONTROL = lazy_pattern("[\x00-\x1f\x7f]")


def file_name_problem(value: str, limits: Limits) -> tuple[str, str] | None:
    """(message, fix) when ``value`` cannot be a file name on disk, else None."""
    if _CONTROL.search(value):
        return (
            f"'{preview(value)}' contains a control character (NUL, newline, ...)",
            "write the plain file name of an image in the post's folder",
        )
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > limits.file_name_bytes:
        return (
            f"'{preview(value)}' is {size:,} bytes; the limit is {limits.file_name_bytes:,}",
            "rename the image to a short name",
        )
    for part in value.split("/"):
        part_size = len(part.encode("utf-8", "surrogatepass"))
        if part_size > NAME_MAX:
            return (
                f"'{preview(part)}' is {part_size:,} bytes; file systems allow {NAME_MAX} "
                "for one name",
                "rename the image to a short name",
            )
        if part.startswith(".") and part not in (".", ".."):
            # .env, .git/..., .publisher/ledger.sqlite: never an image, maybe a secret.
            return (
                f"'{preview(value)}' names a hidden file or folder",
                "point it at an ordinary image file in the post's folder",
            )
    return None


def cap_labels(
    values: list[str],
    key: str,
    limits: Limits,
    problem: Callable[[str, str, str, Severity], Problem],
    problems: list[Problem],
) -> list[str]:
    """Cleaned tags or categories; one too long for its feed folder name is dropped, and
    so is every one past the cap on their number."""
    if not values:
        return []  # most posts have no categories
    kept: list[str] = []
    # Repeats stay: how often each spelling is used picks the spelling shown for a tag.
    first = set(list(dict.fromkeys(values))[: limits.labels_per_post])
    if len(first) < len(set(values)):
        problems.append(
            problem(
                key,
                f"lists {len(set(values)):,} values; only the first {limits.labels_per_post} "
                "are used (each gets its own feeds, which hold the whole post)",
                f"keep {key} to the few that describe the post",
                "warning",
            )
        )
    for value in (v for v in values if v in first):
        label = clean_line(value)[0]
        size = len(tag_key(label).encode("utf-8", "surrogatepass"))
        if size > limits.label_bytes:
            problems.append(
                problem(
                    key,
                    f"'{preview(label)}' is {size:,} bytes long; the limit is "
                    f"{limits.label_bytes} (its feed folder name would be too long); ignored",
                    "shorten it to a few words",
                    "warning",
                )
            )
            continue
        kept.append(label)
    return kept
