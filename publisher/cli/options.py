"""The options every command takes, before or after its name (``publish --dry-run build``).

A command module decorates its command with :func:`common_options` and turns what click
passed it into one :class:`Options` with :func:`merge_options`. Click is imported by those
two only: a plain ``publish build`` that found a change runs without it (cli/plain.py).
"""

from __future__ import annotations

from collections.abc import Callable

from publisher.dataclass import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any, TypeVar

    import click

    F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Options:
    """Filled in twice (before and after the command's name): not frozen."""

    config: str | None = None
    dry_run: bool = False
    now: str | None = None
    verbose: int = 0
    quiet: bool = False
    json: bool = False
    jobs: int | None = None
    detailed_exit_codes: bool = False
    #: Seconds to wait for pages to go live; None: announce.live_wait (0 in a dry run).
    live_wait: float | None = None


def common_options(command: F) -> F:
    """Options accepted both before and after the subcommand (``publish --dry-run build``)."""
    import click

    decorators = [
        click.option(
            "--config",
            "config",
            type=click.Path(dir_okay=False),
            default=None,
            help="Config file. Default: $PUBLISHER_CONFIG, ./config.yaml, else (in an empty folder) the example site.",
        ),
        click.option(
            "--dry-run",
            is_flag=True,
            default=None,
            help="Write and send nothing; show what would be done.",
        ),
        click.option(
            "--now",
            default=None,
            metavar="ISO",
            help="Pretend the clock says this (e.g. 2027-06-01T09:00:00Z).",
        ),
        click.option("-v", "--verbose", count=True, help="Say more (repeatable)."),
        click.option("-q", "--quiet", is_flag=True, default=None, help="Only errors."),
        click.option(
            "--json",
            "json_",
            is_flag=True,
            default=None,
            help="Print a machine-readable report on stdout.",
        ),
        click.option(
            "--jobs",
            type=click.IntRange(1, 64),
            default=None,
            help="Worker processes. Default: one per core.",
        ),
        click.option(
            "--live-wait",
            type=click.FloatRange(0),
            default=None,
            metavar="SECONDS",
            help="Wait this long for pages to go live. Default: announce.live_wait; 0 in a dry run.",
        ),
        click.option(
            "--detailed-exit-codes",
            is_flag=True,
            default=None,
            help="Exit 5 when there was nothing to do, 6 when another run holds the lock.",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def merge_options(ctx: click.Context, given: dict[str, Any]) -> Options:
    """The options given after the command's name on top of those given before it (kept
    on the click context, shared by the group and its command)."""
    options: Options = ctx.ensure_object(Options)
    for key, value in given.items():
        name = "json" if key == "json_" else key
        # 0 is -v's "not given"; --live-wait 0 is a value.
        if value is not None and (value != 0 or name == "live_wait"):
            setattr(options, name, value)
    return options
