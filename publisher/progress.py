"""Progress of long stages, and how long each stage took.

:class:`StageProgress` is the ``progress`` factory that ``build_site`` and ``run_checks``
call once per stage (``with progress(total, "reading posts") as step: step(1)``). It
times every stage (``timings``, for the ``--json`` report) and shows the work as it goes,
in one of three ways chosen by :func:`display_mode`:

``bar``
    On a terminal: a bar per stage with the count and the time left.
``lines``
    In CI (``CI=true``) or when stderr is not a terminal (a log file): a plain line when
    another 10% is done or :data:`LINE_EVERY` seconds passed, whichever comes first (from
    :data:`FIRST_LINE_AFTER` seconds in), and one when the stage ends; no control
    characters, so logs stay readable.
``off``
    ``-q``: nothing.

Only stages of :data:`MIN_TOTAL` steps or more are shown: a small site's build is over
before a line would help. Timing is kept for every stage.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from publisher.errors import printable

#: The stage labels given to a progress factory (also the keys of the report's timings).
READING = "reading posts"
RENDERING = "rendering cards"
FEEDS = "building feeds"

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Literal, TextIO

    Mode = Literal["bar", "lines", "off"]
else:
    Mode = str  # the checker's Literal above, for annotations and aliases only

#: One step of work done: ``step(n)`` after ``n`` more items.
Step = Callable[[int], None]
#: In ``lines`` mode, a line at least this often (seconds) while a stage runs.
LINE_EVERY = 10.0
#: In ``lines`` mode, no line before a stage ran this long (seconds): a stage over in a
#: blink gets its closing line only, not ten lines in a tenth of a second.
FIRST_LINE_AFTER = 1.0
MIN_TOTAL = 100


def display_mode(*, quiet: bool, stream: TextIO, environ: dict[str, str] | None = None) -> Mode:
    """``off`` with -q, ``lines`` in CI or without a terminal, else ``bar``."""
    env = os.environ if environ is None else environ
    if quiet:
        return "off"
    ci = env.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    if ci or not stream.isatty():
        return "lines"
    return "bar"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


class StageProgress:
    """A progress factory that also records each stage's wall time (``timings``)."""

    def __init__(
        self,
        mode: Mode,
        stream: TextIO,
        *,
        clock: Callable[[], float] = time.monotonic,
        line_every: float = LINE_EVERY,
        min_total: int = MIN_TOTAL,
    ) -> None:
        self.mode = mode
        self.stream = stream
        self.clock = clock
        self.line_every = line_every
        self.min_total = min_total
        #: Stage label -> seconds, in the order the stages ran (a repeated label adds up).
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, total: int, label: str) -> Iterator[Step | None]:
        started = self.clock()
        try:
            if self.mode == "off" or total < self.min_total:
                yield None
            elif self.mode == "bar":
                import click  # only for a bar: a build answered without click never loads it

                with click.progressbar(
                    length=total, label=label, file=self.stream, show_eta=True, show_pos=True
                ) as bar:
                    yield bar.update
            else:
                with self._lines(total, label, started) as step:
                    yield step
        finally:
            self.timings[label] = self.timings.get(label, 0.0) + self.clock() - started

    @contextmanager
    def _lines(self, total: int, label: str, started: float) -> Iterator[Step]:
        done = 0
        shown_tenth = 0
        shown_at = started

        def say(text: str) -> None:
            self.stream.write(printable(text) + "\n")
            self.stream.flush()

        def step(count: int) -> None:
            nonlocal done, shown_tenth, shown_at
            done = min(total, done + count)
            now = self.clock()
            tenth = done * 10 // total
            due = tenth > shown_tenth or now - shown_at >= self.line_every
            if done < total and due and now - started >= FIRST_LINE_AFTER:
                shown_tenth, shown_at = tenth, now
                spent = now - started
                left = spent * (total - done) / done if done else 0.0
                say(
                    f"{label}: {done}/{total} ({done * 100 // total}%), "
                    f"{_duration(spent)}, about {_duration(left)} left"
                )

        yield step
        spent = _duration(self.clock() - started)
        # Fewer steps than planned: the rest needed no work (a dry run renders no card).
        say(
            f"{label}: {done}/{total} done in {spent}"
            if done == total
            else f"{label}: done in {spent}"
        )

    def seconds(self, label: str) -> float:
        """How long the stage ``label`` took (0 if it did not run)."""
        return self.timings.get(label, 0.0)

    def report(self) -> dict[str, float]:
        """Stage -> seconds, rounded to milliseconds, for the ``--json`` report."""
        return {label: round(seconds, 3) for label, seconds in self.timings.items()}
