"""``publish state list|forget|mark-sent``: inspect and repair the announcement ledger."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from publisher.cli.console import Console
from publisher.cli.options import common_options, merge_options
from publisher.cli.site import find_config, resolve_now
from publisher.errors import dump_json, printable
from publisher.report import EXIT_OK


@click.group()
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

    options = merge_options(ctx, given)
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

    options = merge_options(ctx, given)
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

    options = merge_options(ctx, given)
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
