"""``publish automation``: the steps the GitHub Action runs around ``publish``.

``restore`` before the run and ``save`` after it keep the ledger on a branch of the site's
repository; ``summary`` turns the ``--json`` report into the Action's outputs and job
summary. Exit codes: 0 done, 2 the state is lost, in conflict or cannot be pushed
(nothing was overwritten), 1 a bug.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from publisher.announce.ledger import is_database_url
from publisher.announcing import ledger_path
from publisher.automation.statebranch import DEFAULT_BRANCH, StateBranch, restore, save
from publisher.automation.summary import markdown, outputs, split_report
from publisher.config import Config, load_config
from publisher.errors import ConfigError, PublisherError, printable

EXIT_OK = 0
EXIT_STATE = 2

F = TypeVar("F", bound=Callable[..., Any])


def _in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _say(text: str) -> None:
    click.echo(printable(text), err=True)


def _config(path: str | None) -> Config:
    chosen = path or os.environ.get("PUBLISHER_CONFIG") or "config.yaml"
    return load_config(Path(chosen))


def _branch(repo: str | None, branch: str, remote: str) -> StateBranch:
    return StateBranch(repo=Path(repo or "."), branch=branch, remote=remote)


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file. Default: $PUBLISHER_CONFIG, else ./config.yaml.",
)
branch_options = [
    click.option(
        "--branch",
        default=DEFAULT_BRANCH,
        show_default=True,
        envvar="PUBLISHER_STATE_BRANCH",
        help="The branch of the site's repository that holds the ledger.",
    ),
    click.option("--remote", default="origin", show_default=True, help="The git remote."),
    click.option(
        "--repo",
        type=click.Path(file_okay=False),
        default=None,
        help="The site's git checkout. Default: the current folder.",
    ),
]


def _with_branch_options(command: F) -> F:
    for option in reversed(branch_options):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def automation() -> None:
    """Steps for unattended runs: keep the ledger on a git branch, summarize a run."""


@automation.command("restore")
@config_option
@click.option(
    "--require-branch",
    is_flag=True,
    help="Refuse to run when the state branch is missing (use after the first run).",
)
@_with_branch_options
def restore_command(
    config_path: str | None, require_branch: bool, branch: str, remote: str, repo: str | None
) -> None:
    """Bring the ledger from the state branch before a run."""
    config = _config(config_path)
    location = ledger_path(config)
    if is_database_url(str(location)):
        _say("the ledger is in a database: nothing to restore")
        return
    where = _branch(repo, branch, remote)
    result = restore(where, Path(location), require_branch=require_branch)
    if result.commit is None:
        note = (
            f"no state branch {branch!r} in {remote} yet: this run records the baseline "
            "(posts already published are not announced); it creates the branch when it saves"
        )
        _say(note)
        if _in_actions():
            click.echo(f"::notice title=publisher first run::{note}")
    else:
        if result.set_aside is not None:
            note = (
                f"the ledger here was damaged: moved to {result.set_aside} and replaced by "
                "the state branch's copy"
            )
            _say(note)
            if _in_actions():
                click.echo(f"::warning title=publisher state::{note}")
        merged = " (merged with the ledger that was here)" if result.merged_local else ""
        _say(
            f"restored the ledger from {branch} at {result.commit[:12]}: {result.rows} rows{merged}"
        )


@automation.command("save")
@config_option
@click.option("--message", default=None, help="The commit message.")
@click.option(
    "--attempts",
    type=click.IntRange(1, 20),
    default=5,
    show_default=True,
    envvar="PUBLISHER_SAVE_ATTEMPTS",
    help="Tries to push before giving up (a failed push is fetched, merged and tried again).",
)
@click.option(
    "--backoff",
    type=click.FloatRange(0),
    default=2.0,
    show_default=True,
    envvar="PUBLISHER_SAVE_BACKOFF",
    help="Seconds to wait after the first failed try; doubled after each one.",
)
@_with_branch_options
def save_command(
    config_path: str | None,
    message: str | None,
    attempts: int,
    backoff: float,
    branch: str,
    remote: str,
    repo: str | None,
) -> None:
    """Commit the ledger to the state branch after a run (never overwrites another run's)."""
    config = _config(config_path)
    location = ledger_path(config)
    if is_database_url(str(location)):
        _say("the ledger is in a database: nothing to save")
        return
    run = os.environ.get("GITHUB_RUN_ID")
    sha = os.environ.get("GITHUB_SHA", "")[:12]
    default = (
        "publisher: ledger" + (f" after run {run}" if run else "") + (f" at {sha}" if sha else "")
    )
    result = save(
        _branch(repo, branch, remote),
        Path(location),
        message=message or default,
        attempts=attempts,
        backoff=backoff,
        sleep=_waiting,
    )
    if not result.changed:
        _say(f"the ledger did not change: {branch} left as it is")
        return
    merged = " (merged with a run that saved first)" if result.merged_remote else ""
    assert result.commit is not None
    _say(f"saved the ledger to {branch} at {result.commit[:12]}{merged}")


def _waiting(seconds: float) -> None:
    _say(f"saving the ledger failed; trying again in {seconds:g} s")
    time.sleep(seconds)


@automation.command("summary")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="The saved stdout of `publish --json`.",
)
@click.option(
    "--exit-code",
    type=int,
    default=None,
    help="The exit code of that run; leave out when publish did not run.",
)
def summary_command(report_path: str, exit_code: int | None) -> None:
    """Write the Action's outputs ($GITHUB_OUTPUT) and job summary ($GITHUB_STEP_SUMMARY)."""
    try:
        text = Path(report_path).read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    commands, report = split_report(text)
    for line in commands:
        click.echo(line)  # ::add-mask:: lines reach the runner
    result = outputs(report, exit_code)
    table = markdown(report, exit_code)
    if path := os.environ.get("GITHUB_OUTPUT"):
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("".join(f"{line}\n" for line in result.lines()))
    if path := os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(table)
    else:
        click.echo(table, nl=False)


def main() -> None:
    """Entry point of ``python -m publisher.automation``: errors become messages and codes."""
    try:
        code = automation.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = EXIT_STATE
    except ConfigError as exc:
        for line in exc.problems:
            _say(f"config error: {line}")
        code = EXIT_STATE
    except PublisherError as exc:
        _say(f"error: {exc}")
        if _in_actions():
            click.echo(f"::error title=publisher state::{printable(str(exc))}")
        code = EXIT_STATE
    sys.exit(code if isinstance(code, int) else EXIT_OK)
