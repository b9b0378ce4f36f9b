"""``publish init``: write a config.yaml for the static site in the current folder."""

from __future__ import annotations

from pathlib import Path

import click

from publisher.errors import printable


@click.command()
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
