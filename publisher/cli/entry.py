"""The ``publish`` group, its commands, and the console entry point :func:`main`."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from publisher import __version__
from publisher.cli.announce import AnnounceFlags, announce
from publisher.cli.build import build, run_build
from publisher.cli.cards import cards
from publisher.cli.check import check
from publisher.cli.init import init
from publisher.cli.options import common_options, merge_options
from publisher.cli.state import state
from publisher.errors import ConfigError, PublisherError, printable
from publisher.report import EXIT_CONFIG, EXIT_OK

#: Commands that live in their own package, imported only when run: name -> (module,
#: attribute (a command, or a function returning one), the first line of its help).
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "preview": (
        "publisher.cli.preview",
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
    options = merge_options(ctx, given)
    if ctx.invoked_subcommand is None:
        ctx.exit(run_build(options, "publish", AnnounceFlags(backfill=backfill)))
    elif backfill:
        raise click.UsageError(
            f"--backfill goes after the command: publish {ctx.invoked_subcommand} --backfill N"
            if ctx.invoked_subcommand == "announce"
            else "--backfill is for `publish` alone or `publish announce`"
        )


for _command in (build, init, check, cards, announce, state):
    cli.add_command(_command)


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
