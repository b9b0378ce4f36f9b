"""``publish build``: the click command; what it runs is cli/building.py's."""

from __future__ import annotations

from typing import Any

import click

from publisher.cli.building import run_build
from publisher.cli.options import common_options, merge_options

__all__ = ["build", "run_build"]


@click.command()
@common_options
@click.pass_context
def build(ctx: click.Context, /, **given: Any) -> None:
    """Read the posts and write the output files (no announcements)."""
    ctx.exit(run_build(merge_options(ctx, given), "build"))
