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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]


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
        text = f"{where}: {self.field + ' ' if self.field else ''}{self.message}"
        return f"{text}; {self.fix}" if self.fix else text

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
    """config.yaml is invalid; ``problems`` lists every problem found at once."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
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
