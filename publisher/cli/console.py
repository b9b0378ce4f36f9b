"""What the commands print: human lines on stderr, listings and reports on stdout."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from publisher.cli.options import Options
from publisher.errors import printable
from publisher.progress import StageProgress, display_mode

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from publisher.errors import Problem
    from publisher.posts import Progress, ReadResult

#: Prints one line (``err``: on stderr): click.echo, or cli/plain.py's writer.
Echo = Callable[..., None]


def click_echo(text: str, err: bool = False) -> None:
    """click.echo, imported when first used: the plain build (cli/plain.py) never is."""
    import click

    click.echo(text, err=err)


class Console:
    """Human output on stderr (stdout is kept for --json and for dry-run listings).

    Every line goes through :func:`printable`: posts are untrusted, and a title or folder
    name must not add a line to the log or start a CI workflow command.
    """

    def __init__(self, options: Options, echo: Echo = click_echo) -> None:
        self.options = options
        self.echo = echo
        #: Shows long stages (a bar, or plain lines in CI) and times every stage.
        self.stages = StageProgress(
            display_mode(quiet=options.quiet, stream=sys.stderr), sys.stderr
        )

    def say(self, text: str, *, level: int = 0) -> None:
        if not self.options.quiet and self.options.verbose >= level:
            self.echo(printable(text), err=True)

    def plan(self, text: str) -> None:
        """Dry-run listing: on stdout, unless --json owns stdout."""
        if self.options.json:
            self.echo(printable(text), err=True)
        else:
            self.echo(printable(text))

    def problems(self, problems: tuple[Problem, ...]) -> None:
        for problem in problems:
            if problem.severity == "error" or not self.options.quiet:
                self.echo(f"{problem.severity}: {problem}", err=True)

    def progress(self, total: int, label: str) -> AbstractContextManager[Progress | None]:
        """A bar per long stage on a terminal, plain lines in CI, nothing with -q."""
        return self.stages(total, label)

    def timings(self, started: float) -> dict[str, float]:
        """Seconds per stage ("reading posts", "rendering cards", ...) and in all."""
        return {**self.stages.report(), "total": round(time.perf_counter() - started, 3)}


def read_summary(
    read: ReadResult, published: int, drafts: int, scheduled: int, seconds: float
) -> str:
    """The line saying what reading the posts found (and how long it took)."""
    skipped = read.files - len(read.posts)
    return (
        f"read {read.files} posts in {seconds:.2f} s: {published} published, {drafts} drafts, "
        f"{scheduled} scheduled, {skipped} skipped"
        + (f" ({read.cache_hits} from cache)" if read.cache_hits else "")
    )
