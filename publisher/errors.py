"""Every error publisher raises on purpose, and the diagnostics it reports.

    PublisherError
    ├── ConfigError      config.yaml is missing, unreadable or invalid
    ├── PostError        one post cannot be read (the others still are)
    ├── FeedError
    ├── CardError
    ├── AnnounceError    carries the target name and HTTP status
    ├── OutputError      a write was refused (outside the output folder, disk error)
    └── StateError

A message names the file, the field, what is wrong and how to fix it. Only the CLI
entry point turns these into exit codes; nothing else prints a traceback for them.

Messages quote untrusted text (a post's folder name, a frontmatter value), so whatever
renders one for a human passes it through :func:`printable`: a control character can
neither end the line (one problem, one line) nor start a GitHub Actions workflow command.
"""

from __future__ import annotations

import json
import re

from publisher.dataclass import dataclass
from publisher.lazy import lazy_pattern

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any, Literal

    Severity = Literal["error", "warning", "info"]
else:
    Severity = str  # the checker's Literal above, for annotations and aliases only

# C0 and C1 controls and DEL end lines or move the cursor; U+2028/2029 are line breaks to
# str.splitlines() and to JavaScript log viewers; the bidi embeddings, overrides, isolates
# and marks reorder what a reader sees ("Trojan Source"). All are shown as escapes.
# Compiled on first use, as the two below: a build that prints nothing needs none of them
# (about 0.8 ms of CPU for the three).
_UNPRINTABLE = lazy_pattern(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# GitHub Actions runs a stdout line as a command when it starts with "::" after leading
# whitespace (v2), or holds "##[" anywhere (v1).
_COMMAND_START = lazy_pattern(r"^(\s*):")
_COMMAND_V1 = "##["


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` as one visible line that no terminal or CI log runner acts on.

    Controls, line separators and bidi formatting characters become escapes (a newline is
    shown as ``\\n``, an ESC as ``\\x1b``); a leading ``::`` becomes ``\\x3a:`` and ``##[``
    becomes ``##\\x5b``, so the line cannot be read as a workflow command.
    """
    line = _UNPRINTABLE.sub(_escape, text)
    if _COMMAND_V1 in line:
        line = line.replace(_COMMAND_V1, "##\\x5b")
    if line.lstrip().startswith("::"):
        line = _COMMAND_START.sub(lambda m: m.group(1) + "\\x3a", line, count=1)
    return line


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One diagnostic about one file: what is wrong and how to fix it."""

    file: str
    field: str | None
    message: str
    fix: str | None = None
    severity: Severity = "error"
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        # A message that already starts with its field ("ogImage 'x.png' is not ...") does
        # not get it twice.
        field = self.field or ""
        named = bool(field) and not self.message.startswith(f"{field} ")
        text = f"{where}: {field + ' ' if named else ''}{self.message}"
        return printable(f"{text}; {self.fix}" if self.fix else text)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }


class PublisherError(Exception):
    """Base of every error a user can cause and fix."""


class ConfigError(PublisherError):
    """config.yaml is invalid; ``problems`` lists every problem found at once, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [printable(p) for p in problems]
        super().__init__("\n".join(problems))


class PostError(PublisherError):
    """A post cannot be published; carries the diagnostic."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


class FeedError(PublisherError):
    pass


class CardError(PublisherError):
    pass


class AnnounceError(PublisherError):
    """A target refused or failed an announcement."""

    def __init__(self, target: str, status: int | None, reason: str) -> None:
        self.target = target
        self.status = status
        self.reason = reason
        code = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"{target}: {code}: {reason}")


class OutputError(PublisherError):
    pass


class StateError(PublisherError):
    pass


# Only ever inside JSON strings (json.dumps writes no such character elsewhere).
_JSON_UNSAFE = lazy_pattern("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def dump_json(data: Any) -> str:
    """The --json report: sorted keys, UTF-8 kept, but no character that splits a line.

    json escapes C0 controls only; U+2028/2029, C1 controls (NEL) and bidi controls would
    stay raw, and line readers (str.splitlines, the Action's report parser) break there.
    ``##[`` (a GitHub Actions command anywhere in a logged line) becomes ``##\\u005b``.
    The parsed values are unchanged.
    """
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text.replace("##[", "##\\u005b")
