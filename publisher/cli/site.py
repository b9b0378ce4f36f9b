"""Which site a command runs on: the config it finds, and the clock it reads."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from publisher.cli.console import Console
from publisher.cli.options import Options
from publisher.dataclass import replace
from publisher.errors import ConfigError, PublisherError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from publisher.config import Config

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
    """--config, else $PUBLISHER_CONFIG, else ./config.yaml, else (in an empty folder) the
    built-in example site, writing into the current folder."""
    path = options.config or os.environ.get("PUBLISHER_CONFIG")
    if path:
        return _load(Path(path))
    if Path("config.yaml").is_file():
        return _load(Path("config.yaml"))
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
    console.say(
        f"no config.yaml here: using the built-in example site; output goes to {cwd / 'public'}, "
        f"announcements to {cwd / 'outbox.jsonl'}. "
        "Pass --config FILE to use your own."
    )
    return _example_in(cwd)


def _load(path: Path) -> Config:
    """The config the fast path proved unchanged since the last build loaded it (kept in
    that build's record), else the file loaded."""
    from publisher.config.stored import handed

    config = handed(path)
    if config is not None:
        return config
    from publisher.config import load_config

    return load_config(path)


def _example_in(cwd: Path) -> Config:
    from publisher import resources
    from publisher.config import load_config

    example = load_config(resources.example_config())
    targets = tuple(
        replace(t, options={**t.options, "path": str(cwd / "outbox.jsonl")})
        if t.kind == "outbox"
        else t
        for t in example.announce.targets
    )
    return replace(
        example,
        output=cwd / "public",
        state=cwd / ".publisher",
        announce=replace(example.announce, targets=targets),
        trail=None,  # its folders are not the ones the file says: no fast path
    )


def resolve_now(options: Options, config: Config) -> datetime:
    """--now in the site's time zone, else the clock."""
    if options.now is None:
        return datetime.now(config.site.tz)
    # Only here: the date parser imports ftfy and dateutil, which a no-op build never needs.
    from publisher.posts.fields import FieldProblem, parse_date

    try:
        return parse_date(options.now, config.site.tz)
    except FieldProblem as exc:
        import click  # --now is the click path's alone (cli/plain.py takes no --now)

        raise click.BadParameter(f"{exc.message}; {exc.fix}", param_hint="--now") from None
