"""The ``publish`` command: parses arguments, calls library functions, maps errors to exit codes.

Exit codes:
    0  done (warnings may have been printed)
    1  internal error (a bug: please report it with the traceback)
    2  configuration or usage error (or another run holds the lock): nothing was done
    3  done, but at least one post had errors and was skipped
    4  announcements: at least one failed or is in doubt (the others were sent)
    130/143  stopped by SIGINT/SIGTERM: the request in flight finished, nothing more was sent
With --detailed-exit-codes (cron, scripts):
    5  nothing to do: nothing new to write or announce
    6  another run holds the lock: nothing was done; try again later
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from publisher import __version__
from publisher.errors import ConfigError, PublisherError, dump_json, printable
from publisher.progress import READING, StageProgress, display_mode

# Everything else is imported in the command that needs it: `publish --version` and
# `--help` stay fast, and a build with announcements off loads nothing of announce/,
# preview/ or automation/ (tests/test_lazy_imports.py).
if TYPE_CHECKING:
    from publisher.announce import AnnounceReport
    from publisher.build import BuildResult
    from publisher.config import Config
    from publisher.errors import Problem
    from publisher.posts import Post, Progress, ReadResult

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_CONFIG = 2
EXIT_POSTS_SKIPPED = 3
EXIT_ANNOUNCE_FAILED = 4
EXIT_NOTHING_TO_DO = 5
EXIT_BUSY = 6

F = TypeVar("F", bound=Callable[..., Any])


@dataclasses.dataclass
class Options:
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


def _merge(ctx: click.Context, **given: Any) -> Options:
    options: Options = ctx.ensure_object(Options)
    for key, value in given.items():
        name = "json" if key == "json_" else key
        # 0 is -v's "not given"; --live-wait 0 is a value.
        if value is not None and (value != 0 or name == "live_wait"):
            setattr(options, name, value)
    return options


class Console:
    """Human output on stderr (stdout is kept for --json and for dry-run listings).

    Every line goes through :func:`printable`: posts are untrusted, and a title or folder
    name must not add a line to the log or start a CI workflow command.
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        #: Shows long stages (a bar, or plain lines in CI) and times every stage.
        self.stages = StageProgress(
            display_mode(quiet=options.quiet, stream=sys.stderr), sys.stderr
        )

    def say(self, text: str, *, level: int = 0) -> None:
        if not self.options.quiet and self.options.verbose >= level:
            click.echo(printable(text), err=True)

    def plan(self, text: str) -> None:
        """Dry-run listing: on stdout, unless --json owns stdout."""
        if self.options.json:
            click.echo(printable(text), err=True)
        else:
            click.echo(printable(text))

    def problems(self, problems: tuple[Problem, ...]) -> None:
        for problem in problems:
            if problem.severity == "error" or not self.options.quiet:
                click.echo(f"{problem.severity}: {problem}", err=True)

    def progress(self, total: int, label: str) -> AbstractContextManager[Progress | None]:
        """A bar per long stage on a terminal, plain lines in CI, nothing with -q."""
        return self.stages(total, label)


#: What the built-in example writes into the folder it runs in.
_EXAMPLE_FILES = frozenset({"public", ".publisher", "outbox.jsonl"})


def _example_may_run_in(folder: Path) -> bool:
    """An empty folder, or one holding only what an earlier run of the example wrote there
    (its state folder's output manifest shows publisher made it), so the example can be run
    again and, as any site, write and send nothing the second time."""
    names = {entry.name for entry in folder.iterdir()}
    if not names:
        return True
    return names <= _EXAMPLE_FILES and (folder / ".publisher" / "outputs.json").is_file()


def find_config(options: Options, console: Console) -> Config:
    from publisher import resources
    from publisher.config import load_config

    path = options.config or os.environ.get("PUBLISHER_CONFIG")
    if path:
        return load_config(Path(path))
    if Path("config.yaml").is_file():
        return load_config(Path("config.yaml"))
    from publisher.init import site_hint

    hint = site_hint(Path.cwd())  # a site's own public/ must not get the example blog
    if hint is not None:
        raise ConfigError([hint])
    cwd = Path.cwd()
    if not _example_may_run_in(cwd):
        # The example writes public/, .publisher/ and outbox.jsonl here: only where that
        # cannot mix with someone's files (a site folder run without its config, a home).
        raise PublisherError(
            f"no config.yaml in {cwd}: run `publish init` in your site's repository to write "
            "one, or create a config.yaml (see the README's Config reference), or pass "
            "--config FILE. The built-in example site runs only in an empty folder"
        )
    example = load_config(resources.example_config())
    console.say(
        f"no config.yaml here: using the built-in example site; output goes to {cwd / 'public'}, "
        f"announcements to {cwd / 'outbox.jsonl'}. "
        "Pass --config FILE to use your own."
    )
    targets = tuple(
        dataclasses.replace(t, options={**t.options, "path": str(cwd / "outbox.jsonl")})
        if t.kind == "outbox"
        else t
        for t in example.announce.targets
    )
    return dataclasses.replace(
        example,
        output=cwd / "public",
        state=cwd / ".publisher",
        announce=dataclasses.replace(example.announce, targets=targets),
    )


def resolve_now(options: Options, config: Config) -> datetime:
    from publisher.posts.fields import FieldProblem, parse_date

    if options.now is None:
        return datetime.now(config.site.tz)
    try:
        return parse_date(options.now, config.site.tz)
    except FieldProblem as exc:
        raise click.BadParameter(f"{exc.message}; {exc.fix}", param_hint="--now") from None


def _read_summary(
    read: ReadResult, published: int, drafts: int, scheduled: int, seconds: float
) -> str:
    skipped = read.files - len(read.posts)
    return (
        f"read {read.files} posts in {seconds:.2f} s: {published} published, {drafts} drafts, "
        f"{scheduled} scheduled, {skipped} skipped"
        + (f" ({read.cache_hits} from cache)" if read.cache_hits else "")
    )


def _report(
    command: str,
    config: Config,
    now: datetime,
    read: ReadResult,
    dry_run: bool,
    build: BuildResult | None,
    exit_code: int,
    extra: tuple[Problem, ...] = (),
) -> dict[str, Any]:
    from publisher.build import post_summary, split_by_status

    published, drafts, scheduled = split_by_status(read, now)
    return {
        "command": command,
        "version": __version__,
        "config": str(config.source),
        "dry_run": dry_run,
        "now": now.isoformat(),
        "exit_code": exit_code,
        "posts": {
            "files": read.files,
            "published": len(published),
            "drafts": len(drafts),
            "scheduled": [{"id": p.id, "date": p.date.isoformat()} for p in scheduled],
            "skipped": read.files - len(read.posts),
            "from_cache": read.cache_hits,
        },
        "problems": [p.as_dict() for p in (*read.problems, *extra)],
        "writes": [dataclasses.asdict(w) for w in build.writes] if build else [],
        "deleted": list(build.deleted) if build else [],
        "published": [post_summary(p) for p in published],
    }


def run_build(options: Options, command: str, flags: AnnounceFlags | None = None) -> int:
    from publisher.build import build_site, unchanged_build

    console = Console(options)
    config = find_config(options, console)
    now = resolve_now(options, config)
    started = time.perf_counter()
    snapshot = None
    if command == "build" and not options.dry_run and not options.json:
        # The no-op fast path (inputs.py); `publish` reads the posts anyway to announce.
        snapshot, unchanged = unchanged_build(config, now)
        if unchanged is not None:
            console.problems(unchanged.problems)
            console.say(
                f"nothing changed since the last build ({unchanged.files} posts: "
                f"{unchanged.published} published, {unchanged.drafts} drafts, "
                f"{unchanged.scheduled} scheduled, {unchanged.skipped} skipped); "
                f"checked in {time.perf_counter() - started:.2f} s, nothing written"
            )
            if any(p.severity == "error" for p in unchanged.problems):
                return EXIT_POSTS_SKIPPED
            return EXIT_NOTHING_TO_DO if options.detailed_exit_codes else EXIT_OK
    result = build_site(
        config,
        now=now,
        dry_run=options.dry_run,
        jobs=options.jobs,
        progress=console.progress,
        snapshot=snapshot,
    )
    read = result.read
    console.problems((*read.problems, *result.problems))
    console.say(
        _read_summary(
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
    if result.cards is not None:
        for planned in result.cards.planned:
            line = f"card {planned.post_id}: {planned.reason}"
            if options.dry_run:
                console.plan(f"would render {line}")
            else:
                console.say(f"rendered {line}", level=1)
    for write in result.writes:
        shown = os.path.relpath(config.output / write.path)
        if options.dry_run:
            console.plan(
                f"would write {shown} ({write.bytes} bytes, {'no change' if write.status == 'unchanged' else write.status})"
            )
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
    failed = read.errors or any(p.severity == "error" for p in result.problems)
    code = EXIT_POSTS_SKIPPED if failed else EXIT_OK
    announced: AnnounceReport | None = None
    if command == "publish":
        with console.progress(0, "announcing"):
            announced = _announce(
                options, console, config, result.published, now, flags or AnnounceFlags()
            )
        if announced is not None and not announced.ok:
            code = code or EXIT_ANNOUNCE_FAILED
        if announced is not None and announced.interrupted:
            code = 128 + announced.interrupted
    changed = any(w.status != "unchanged" for w in result.writes) or bool(result.deleted)
    if code == EXIT_OK and not changed and _nothing_announced(options, announced):
        code = EXIT_NOTHING_TO_DO
    if options.json:
        report = _report(command, config, now, read, options.dry_run, result, code, result.problems)
        report["announce"] = announced.as_dict() if announced is not None else None
        report["timings"] = _timings(console, started)
        click.echo(dump_json(report))
    return code


def _timings(console: Console, started: float) -> dict[str, float]:
    """Seconds per stage ("reading posts", "rendering cards", ...) and in all."""
    return {**console.stages.report(), "total": round(time.perf_counter() - started, 3)}


def _nothing_announced(options: Options, report: AnnounceReport | None) -> bool:
    """With --detailed-exit-codes: the run sent nothing and recorded no first-run baseline."""
    if not options.detailed_exit_codes or options.dry_run:
        return False
    return report is None or (report.sent == 0 and not any(t.baseline for t in report.targets))


@dataclasses.dataclass(frozen=True)
class AnnounceFlags:
    backfill: int = 0
    retry_in_doubt: bool = False
    only: tuple[str, ...] = ()
    deadline: float | None = None


def _announce(
    options: Options,
    console: Console,
    config: Config,
    published: tuple[Post, ...],
    now: datetime,
    flags: AnnounceFlags,
) -> AnnounceReport | None:
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
        if options.dry_run:
            console.plan(decision.line())
            if decision.text is not None:
                # One plan line per line of the message, each escaped on its own.
                for line in decision.text.split("\n"):
                    console.plan("    " + line)
            if decision.payload is not None:
                payload = json.dumps(decision.payload, ensure_ascii=False, sort_keys=True)
                console.plan(f"    payload: {payload}")
        elif decision.shown_by_default:
            console.say(decision.line())
        else:
            console.say(decision.line(), level=1)
    console.say(report.summary())
    return report


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


def run_announce(options: Options, flags: AnnounceFlags) -> int:
    from publisher.build import load_posts, split_by_status

    console = Console(options)
    config = find_config(options, console)
    now = resolve_now(options, config)
    read = load_posts(config, readonly=options.dry_run, jobs=options.jobs)
    published, _, _ = split_by_status(read, now)
    console.problems(read.problems)
    report = _announce(options, console, config, published, now, flags)
    code = EXIT_ANNOUNCE_FAILED if report is not None and not report.ok else EXIT_OK
    if report is not None and report.interrupted:
        code = 128 + report.interrupted
    if code == EXIT_OK and _nothing_announced(options, report):
        code = EXIT_NOTHING_TO_DO
    if options.json:
        data = report.as_dict() if report is not None else None
        click.echo(dump_json({"announce": data, "exit_code": code}))
    return code


def run_check(options: Options) -> int:
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
        _read_summary(
            result.read,
            len(result.published),
            len(result.drafts),
            len(result.scheduled),
            console.stages.seconds(READING),
        )
    )
    console.say(f"{errors} errors, {len(every) - errors} warnings")
    code = EXIT_POSTS_SKIPPED if errors else EXIT_OK
    if options.json:
        report = _report("check", config, now, result.read, True, None, code, result.problems)
        report["timings"] = _timings(console, started)
        click.echo(dump_json(report))
    return code


#: Commands that live in their own package, imported only when run: name -> (module,
#: attribute (a command, or a function returning one), the first line of its help).
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "preview": (
        "publisher.preview.cli",
        "preview_command",
        "Write preview/index.html: every post's card, link previews, announcements and warnings.",
    ),
    "automation": (
        "publisher.automation.cli",
        "automation",
        "Steps for unattended runs: keep the ledger on a git branch, summarize a run.",
    ),
}


class _LazyGroup(click.Group):
    """A group whose LAZY_COMMANDS are imported when invoked, not to list them in --help."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module, attribute, _ = LAZY_COMMANDS[cmd_name]
            found = getattr(importlib.import_module(module), attribute)
            self.add_command(found if isinstance(found, click.Command) else found(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is None:
                stub = click.Command(name, help=LAZY_COMMANDS[name][2])
                rows.append((name, stub.get_short_help_str(limit)))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=_LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--backfill",
    type=click.IntRange(0),
    default=0,
    metavar="N",
    help="On a target's first run, announce its newest N posts instead of none.",
)
@common_options
@click.version_option(__version__, "-V", "--version", prog_name="publish")
@click.pass_context
def cli(ctx: click.Context, /, backfill: int, **given: Any) -> None:
    """Build feeds, cards and announcements from a folder of markdown posts.

    With no command, runs the whole pipeline: build, then announce.
    """
    options = _merge(ctx, **given)
    if ctx.invoked_subcommand is None:
        ctx.exit(run_build(options, "publish", AnnounceFlags(backfill=backfill)))
    elif backfill:
        raise click.UsageError(
            f"--backfill goes after the command: publish {ctx.invoked_subcommand} --backfill N"
            if ctx.invoked_subcommand == "announce"
            else "--backfill is for `publish` alone or `publish announce`"
        )


@cli.command()
@common_options
@click.pass_context
def build(ctx: click.Context, /, **given: Any) -> None:
    """Read the posts and write the output files (no announcements)."""
    ctx.exit(run_build(_merge(ctx, **given), "build"))


@cli.command()
@click.option(
    "--site-url",
    default=None,
    metavar="URL",
    help="The site's public URL, when the generator's config does not say it.",
)
def init(site_url: str | None) -> None:
    """Write a config.yaml for the static site in this folder (Hugo, Jekyll, ...)."""
    from publisher.init import init_site

    report = init_site(Path.cwd(), site_url=site_url)
    for line in report.lines():
        click.echo(printable(line))


@cli.command()
@common_options
@click.pass_context
def check(ctx: click.Context, /, **given: Any) -> None:
    """Report every problem in the config and the posts; exit 3 if a post has errors.

    Writes nothing. Use it as a pull-request check or a pre-commit hook.
    """
    ctx.exit(run_check(_merge(ctx, **given)))


@cli.command()
@click.option("--post", "post_id", default=None, help="The post's id (its folder name).")
@click.option("--layout", default=None, help="Render with this layout instead of the post's.")
@click.option(
    "--sheet",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Write every published post's card into one PNG contact sheet to review.",
)
@common_options
@click.pass_context
def cards(
    ctx: click.Context, /, post_id: str | None, layout: str | None, sheet: Path | None, **given: Any
) -> None:
    """Render one post's card now, ignoring the cache (for designing a layout), or with
    --sheet every card on one contact sheet."""
    if (post_id is None) == (sheet is None):
        raise click.UsageError("give --post ID to render one card, or --sheet FILE for all of them")
    if sheet is not None:
        ctx.exit(run_sheet(_merge(ctx, **given), sheet))
    assert post_id is not None
    ctx.exit(run_card(_merge(ctx, **given), post_id, layout))


def run_sheet(options: Options, path: Path) -> int:
    from publisher.build import load_posts, split_by_status
    from publisher.cards.sheet import render_sheet

    console = Console(options)
    config = find_config(options, console)
    read = load_posts(config, readonly=options.dry_run, jobs=options.jobs)
    published, _, _ = split_by_status(read, resolve_now(options, config))
    if options.dry_run:  # rendering would fill the render cache: a dry run writes nothing
        console.plan(f"would write {path} ({len(published)} cards)")
        return EXIT_OK
    sheet = render_sheet(
        config.site,
        published,
        config.cards.options,
        cache_dir=config.state,
        root=config.root,
        jobs=options.jobs,
    )
    console.problems(sheet.result.problems)
    path.write_bytes(sheet.png)
    console.plan(
        f"wrote {path} ({len(sheet.result.cards)} cards, {sheet.width}x{sheet.height} PNG)"
    )
    return EXIT_OK


def run_card(options: Options, post_id: str, layout: str | None) -> int:
    from publisher.build import MANIFEST_FILE, load_posts
    from publisher.cards import render_one
    from publisher.output import OutputWriter

    console = Console(options)
    config = find_config(options, console)
    read = load_posts(config, readonly=options.dry_run, jobs=1)
    post = next((p for p in read.posts if p.id == post_id), None)
    if post is None:
        known = ", ".join(p.id for p in read.posts[:5])
        raise click.BadParameter(
            f"no post with id '{post_id}'; ids look like: {known}", param_hint="--post"
        )
    writer = OutputWriter(config.output, dry_run=options.dry_run)
    result = render_one(
        config.site,
        post,
        config.cards.options,
        output=writer,
        cache_dir=config.state,
        root=config.root,
        layout=layout,
        feeds=config.feeds.options if config.feeds.enabled else None,
    )
    writer.remember(config.state / MANIFEST_FILE)  # a later build deletes it once superseded
    console.problems(result.problems)
    for card in result.cards:
        shown = os.path.relpath(config.output / card.path)
        verb = "would write" if options.dry_run else "wrote"
        console.plan(
            f"{verb} {shown} ({card.width}x{card.height} {card.mime}, {card.bytes} bytes, layout {card.layout})"
        )
    return EXIT_POSTS_SKIPPED if any(p.severity == "error" for p in result.problems) else EXIT_OK


@cli.command()
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
    ctx.exit(run_announce(_merge(ctx, **given), flags))


@cli.group()
def state() -> None:
    """Inspect and repair the announcement ledger."""


@state.command("list")
@click.option("--target", default=None, metavar="NAME", help="Only this target.")
@click.option("--post", "post_id", default=None, metavar="ID", help="Only this post.")
@common_options
@click.pass_context
def state_list(
    ctx: click.Context, /, target: str | None, post_id: str | None, **given: Any
) -> None:
    """List what the ledger knows: post, target, status, attempts, remote id."""
    from publisher.announce import list_state
    from publisher.announcing import ledger_path

    options = _merge(ctx, **given)
    config = find_config(options, Console(options))
    entries = list_state(ledger_path(config), target=target, post_id=post_id)
    if options.json:
        click.echo(dump_json([dataclasses.asdict(e) for e in entries]))
    for entry in entries if not options.json else ():
        remote = entry.remote_url or entry.remote_id or ""
        fields = (entry.target, entry.post_id, entry.status, str(entry.attempts), remote)
        click.echo("\t".join(printable(f) for f in fields))
    ctx.exit(EXIT_OK)


@state.command("forget")
@click.argument("post_id", metavar="POST")
@click.option("--target", default=None, metavar="NAME", help="Only this target.")
@common_options
@click.pass_context
def state_forget(ctx: click.Context, /, post_id: str, target: str | None, **given: Any) -> None:
    """Forget POST so the next run treats it as new (it may be announced again)."""
    from publisher.announce import forget
    from publisher.announcing import ledger_path

    options = _merge(ctx, **given)
    config = find_config(options, Console(options))
    removed = forget(ledger_path(config), post_id, target=target)
    Console(options).say(f"forgot {removed} ledger row(s) of {post_id}")
    ctx.exit(EXIT_OK)


@state.command("mark-sent")
@click.argument("post_id", metavar="POST")
@click.option("--target", default=None, metavar="NAME", help="Only this target.")
@common_options
@click.pass_context
def state_mark_sent(ctx: click.Context, /, post_id: str, target: str | None, **given: Any) -> None:
    """Record POST as sent (to every target, or one) without sending anything."""
    from publisher.announce import mark_sent
    from publisher.announcing import ledger_path
    from publisher.build import load_posts

    options = _merge(ctx, **given)
    config = find_config(options, Console(options))
    posts = load_posts(config, readonly=True, jobs=options.jobs).posts
    marked = mark_sent(
        ledger_path(config),
        post_id,
        config.announce.targets,
        now=resolve_now(options, config),
        target=target,
        known_posts={p.id for p in posts},
    )
    Console(options).say(f"marked {post_id} as sent for {marked} target(s)")
    ctx.exit(EXIT_OK)


def main() -> None:
    """Console entry point: user mistakes become messages and exit codes, never tracebacks."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        # A message may quote a post id (a folder name): keep it one harmless line.
        exc.message = printable(exc.message)  # type: ignore[misc]
        exc.show()
        code = EXIT_CONFIG
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        code = 130
    except ConfigError as exc:
        for line in exc.problems:
            click.echo(f"config error: {line}", err=True)
        click.echo(f"{len(exc.problems)} problem(s) in the config; nothing was done", err=True)
        code = EXIT_CONFIG
    except PublisherError as exc:
        click.echo(f"error: {printable(str(exc))}", err=True)
        code = EXIT_CONFIG
    sys.exit(code if isinstance(code, int) else EXIT_OK)
