"""``publish cards``: one post's card now (to design a layout), or every card on one sheet."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from publisher.cli.console import Console
from publisher.cli.options import Options, common_options, merge_options
from publisher.cli.site import find_config, resolve_now
from publisher.report import EXIT_OK, EXIT_POSTS_SKIPPED


@click.command()
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
        ctx.exit(run_sheet(merge_options(ctx, given), sheet))
    assert post_id is not None
    ctx.exit(run_card(merge_options(ctx, given), post_id, layout))


def run_sheet(options: Options, path: Path) -> int:
    """Every published post's card on one PNG contact sheet at ``path``."""
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
    """One post's card, rendered now into the output folder (the cache ignored)."""
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
