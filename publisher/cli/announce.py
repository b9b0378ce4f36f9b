"""``publish announce``, and the announce stage of ``publish``: new posts to each target."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from publisher.cli.console import Console
from publisher.cli.options import Options, common_options, merge_options
from publisher.cli.site import find_config, resolve_now
from publisher.errors import dump_json, printable
from publisher.report import EXIT_BUSY, announce_exit_code

if TYPE_CHECKING:
    from publisher.announce import AnnounceReport, Decision
    from publisher.config import Config
    from publisher.posts import Post


@dataclasses.dataclass(frozen=True)
class AnnounceFlags:
    """The options of ``publish announce`` that ``publish`` (with no command) shares in part."""

    backfill: int = 0
    retry_in_doubt: bool = False
    only: tuple[str, ...] = ()
    deadline: float | None = None


def _with_live_wait(options: Options, config: Config) -> Config:
    """A dry run (a pull request's preview) does not wait for pages unless --live-wait asks."""
    wait = options.live_wait
    if wait is None and options.dry_run:
        wait = 0.0
    if wait is None or wait == config.announce.live_wait:
        return config
    return dataclasses.replace(
        config, announce=dataclasses.replace(config.announce, live_wait=wait)
    )


def announce_stage(
    options: Options,
    console: Console,
    config: Config,
    published: tuple[Post, ...],
    now: datetime,
    flags: AnnounceFlags,
) -> AnnounceReport | None:
    """Announce ``published`` and show each decision; None: no targets configured."""
    from publisher.announce import github_masks
    from publisher.announce.ledger import LockHeld
    from publisher.announcing import announce_posts
    from publisher.build import ping_pending_feeds

    # The runner reads workflow commands from stderr too: --json keeps stdout pure JSON.
    github_masks(lambda line: click.echo(line, err=options.json))
    config = _with_live_wait(options, config)
    unknown = [name for name in flags.only if name not in {t.name for t in config.announce.targets}]
    if unknown:
        raise click.BadParameter(f"no target named {', '.join(unknown)}", param_hint="--target")
    try:
        report = announce_posts(
            config,
            published,
            now=now,
            dry_run=options.dry_run,
            backfill=flags.backfill,
            retry_in_doubt=flags.retry_in_doubt,
            only=flags.only,
            log=lambda text: console.say(text, level=1),
            deadline=flags.deadline,
        )
    except LockHeld as exc:
        if not options.detailed_exit_codes:
            raise
        click.echo(f"error: {printable(str(exc))}", err=True)
        raise click.exceptions.Exit(EXIT_BUSY) from None
    for line in ping_pending_feeds(config, dry_run=options.dry_run):
        (console.plan if options.dry_run else console.say)(line)
    if report is None:
        console.say("announcements: no targets configured", level=1)
        return None
    for decision in report.decisions:
        _show(console, decision, dry_run=options.dry_run)
    console.say(report.summary())
    return report


def _show(console: Console, decision: Decision, *, dry_run: bool) -> None:
    if not dry_run:
        console.say(decision.line(), level=0 if decision.shown_by_default else 1)
        return
    console.plan(decision.line())
    if decision.text is not None:
        # One plan line per line of the message, each escaped on its own.
        for line in decision.text.split("\n"):
            console.plan("    " + line)
    if decision.payload is not None:
        payload = json.dumps(decision.payload, ensure_ascii=False, sort_keys=True)
        console.plan(f"    payload: {payload}")


def run_announce(options: Options, flags: AnnounceFlags) -> int:
    """``publish announce``: read the posts (no build) and announce the published ones."""
    from publisher.build import load_posts, split_by_status

    console = Console(options)
    config = find_config(options, console)
    now = resolve_now(options, config)
    read = load_posts(config, readonly=options.dry_run, jobs=options.jobs)
    published, _, _ = split_by_status(read, now)
    console.problems(read.problems)
    report = announce_stage(options, console, config, published, now, flags)
    code = announce_exit_code(report, detailed=options.detailed_exit_codes, dry_run=options.dry_run)
    if options.json:
        data = report.as_dict() if report is not None else None
        click.echo(dump_json({"announce": data, "exit_code": code}))
    return code


@click.command()
@click.option(
    "--backfill",
    type=click.IntRange(0),
    default=0,
    metavar="N",
    help="On a target's first run, announce its newest N posts instead of none.",
)
@click.option("--retry-in-doubt", is_flag=True, help="Send again what may or may not have arrived.")
@click.option(
    "--target", "only", multiple=True, metavar="NAME", help="Only this target (repeatable)."
)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Send nothing more after this many seconds; the rest wait for the next run.",
)
@common_options
@click.pass_context
def announce(
    ctx: click.Context,
    /,
    backfill: int,
    retry_in_doubt: bool,
    only: tuple[str, ...],
    deadline: float | None,
    **given: Any,
) -> None:
    """Announce new published posts to the configured targets (no build)."""
    flags = AnnounceFlags(
        backfill=backfill, retry_in_doubt=retry_in_doubt, only=only, deadline=deadline
    )
    ctx.exit(run_announce(merge_options(ctx, given), flags))
