"""``publish check``: every problem a build or an announcement would meet, nothing written."""

from __future__ import annotations

import time
from typing import Any

import click

from publisher.cli.console import Console, read_summary
from publisher.cli.options import Options, common_options, merge_options
from publisher.cli.site import find_config, resolve_now
from publisher.errors import dump_json
from publisher.progress import READING
from publisher.report import check_exit_code, run_report


def run_check(options: Options) -> int:
    """``publish check``: :func:`publisher.check.run_checks`, shown; exit 3 on a post error."""
    from publisher.check import run_checks

    console = Console(options)
    config = find_config(options, console)
    now = resolve_now(options, config)
    started = time.perf_counter()
    result = run_checks(config, now=now, jobs=options.jobs, progress=console.progress)
    every = result.every
    console.problems(every)
    errors = result.errors
    console.say(
        read_summary(
            result.read,
            len(result.published),
            len(result.drafts),
            len(result.scheduled),
            console.stages.seconds(READING),
        )
    )
    console.say(f"{errors} errors, {len(every) - errors} warnings")
    code = check_exit_code(result)
    if options.json:
        report = run_report(
            "check",
            config,
            now,
            result.read,
            dry_run=True,
            build=None,
            exit_code=code,
            extra=result.problems,
        )
        report["timings"] = console.timings(started)
        click.echo(dump_json(report))
    return code


@click.command()
@common_options
@click.pass_context
def check(ctx: click.Context, /, **given: Any) -> None:
    """Report every problem in the config and the posts; exit 3 if a post has errors.

    Writes nothing. Use it as a pull-request check or a pre-commit hook.
    """
    ctx.exit(run_check(merge_options(ctx, given)))
