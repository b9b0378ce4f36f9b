"""What ``publish build`` and ``publish`` (build, then announce) do once their options are
known: posts in, output files out, and the lines that say so.

No click here: the click commands (cli/build.py, cli/entry.py) call :func:`run_build`, and
so does a plain ``publish build`` that the fast path found something to do for
(cli/plain.py), which never imports click.
"""

from __future__ import annotations

import os
import time
from datetime import datetime

from publisher.cli.console import Console, read_summary
from publisher.cli.options import Options
from publisher.cli.site import find_config, resolve_now
from publisher.errors import dump_json
from publisher.progress import READING
from publisher.report import build_exit_code, run_report, unchanged_exit_code

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from publisher.announce import AnnounceReport
    from publisher.build import BuildResult
    from publisher.cli.announce import AnnounceFlags
    from publisher.config import Config
    from publisher.inputs import Snapshot


def run_build(
    options: Options,
    command: str,
    flags: AnnounceFlags | None = None,
    *,
    console: Console | None = None,
    config: Config | None = None,
) -> int:
    """``build`` (command "build") or the whole pipeline (command "publish"); ``console``
    and ``config`` when the caller has them (cli/plain.py), else made as every command
    makes them."""
    from publisher.build import build_site
    from publisher.exiting import keep_frame

    keep_frame()  # the stat pass and the build's result, not freed on return (exiting.py)
    if console is None:
        console = Console(options)
    if config is None:
        config = find_config(options, console)
    now = resolve_now(options, config)
    started = time.perf_counter()
    snapshot = None
    if command == "build" and not options.dry_run and not options.json:
        # The no-op fast path (inputs.py); `publish` reads the posts anyway to announce.
        snapshot, code = _unchanged(options, console, config, now, started)
        if code is not None:
            return code
    if not options.dry_run:
        from publisher.sources import keep_in

        keep_in(config.state)  # the caches' code digests, remembered (sources.py)
    result = build_site(
        config,
        now=now,
        dry_run=options.dry_run,
        jobs=options.jobs,
        progress=console.progress,
        snapshot=snapshot,
    )
    _show(options, console, config, result)
    announced: AnnounceReport | None = None
    if command == "publish":
        from publisher.cli.announce import AnnounceFlags, announce_stage

        with console.progress(0, "announcing"):
            announced = announce_stage(
                options, console, config, tuple(result.published), now, flags or AnnounceFlags()
            )
    code = build_exit_code(
        result, announced, detailed=options.detailed_exit_codes, dry_run=options.dry_run
    )
    if options.json:
        report = run_report(
            command,
            config,
            now,
            result.read,
            dry_run=options.dry_run,
            build=result,
            exit_code=code,
            extra=result.problems,
        )
        report["announce"] = announced.as_dict() if announced is not None else None
        report["timings"] = console.timings(started)
        console.echo(dump_json(report))
    return code


def _unchanged(
    options: Options, console: Console, config: Config, now: datetime, started: float
) -> tuple[Snapshot, int | None]:
    """(the inputs' snapshot, for the build; the exit code when nothing changed since the
    last build, which then stops here, else None)."""
    from publisher.build import unchanged_build

    snapshot, unchanged = unchanged_build(config, now)
    if unchanged is None:
        return snapshot, None
    console.problems(unchanged.problems)
    console.say(
        f"nothing changed since the last build ({unchanged.files} posts: "
        f"{unchanged.published} published, {unchanged.drafts} drafts, "
        f"{unchanged.scheduled} scheduled, {unchanged.skipped} skipped); "
        f"checked in {time.perf_counter() - started:.2f} s, nothing written"
    )
    return snapshot, unchanged_exit_code(unchanged, detailed=options.detailed_exit_codes)


def _show(options: Options, console: Console, config: Config, result: BuildResult) -> None:
    """The problems, the reading summary, and each card and file (planned in a dry run)."""
    read = result.read
    console.problems((*read.problems, *result.problems))
    console.say(
        read_summary(
            read,
            len(result.published),
            len(result.drafts),
            len(result.scheduled),
            console.stages.seconds(READING),
        )
    )
    for post in result.scheduled:
        console.say(
            f"scheduled: {post.id} goes out on the first run at or after {post.date.isoformat()}",
            level=1,
        )
    for planned in result.cards.planned if result.cards is not None else ():
        line = f"card {planned.post_id}: {planned.reason}"
        if options.dry_run:
            console.plan(f"would render {line}")
        else:
            console.say(f"rendered {line}", level=1)
    _show_files(options, console, config, result)


def _show_files(options: Options, console: Console, config: Config, result: BuildResult) -> None:
    for write in result.writes:
        shown = os.path.relpath(config.output / write.path)
        if options.dry_run:
            status = "no change" if write.status == "unchanged" else write.status
            console.plan(f"would write {shown} ({write.bytes} bytes, {status})")
        elif write.status != "unchanged":
            console.say(f"wrote {shown} ({write.bytes} bytes, {write.status})")
        else:
            console.say(f"unchanged {shown}", level=1)
    for deleted in result.deleted:
        shown = os.path.relpath(config.output / deleted)
        if options.dry_run:
            console.plan(f"would delete {shown} (no longer produced)")
        else:
            console.say(f"deleted {shown} (no longer produced)")
