"""Read ``config.yaml`` and validate it into :class:`~publisher.config.model.Config`.

The whole file is checked before any work starts and every problem is reported at once,
each as ``dotted.path[index].key: what is wrong; how to fix it`` (the wording and the
"did you mean" hints come from :mod:`publisher.schema`). Secrets are written as
``${ENV_VAR}`` and read from the environment into :class:`~publisher.secret.Secret`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from publisher.config import plainconfig
from publisher.config.model import (
    AnnounceConfig,
    CardsConfig,
    Config,
    FeedsConfig,
    SiteAuthor,
    SiteConfig,
)
from publisher.config.paths import folder
from publisher.config.posts import read_posts
from publisher.config.targets import Targets
from publisher.dataclass import replace
from publisher.errors import ConfigError
from publisher.loadtrail import ENV_REF, Trail, config_digest, recording, variables_named
from publisher.schema import (
    Field,
    Invalid,
    Schema,
    Where,
    expand_env,
    flag,
    items,
    kind,
    section,
    text,
    then,
    url,
)
from publisher.zones import UTC_NAME


def _timezone(name: str) -> str:
    if name == UTC_NAME:
        return name  # the default: no zoneinfo to import (publisher/zones.py)
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            f"unknown time zone '{name}'; use an IANA name like Europe/Berlin or UTC"
        ) from None
    return name


_AUTHOR = Schema({"name": Field(text(), required=True), "email": Field(text())})


def _author(value: Any, where: Where) -> SiteAuthor | None:
    """``author: Ann`` or ``author: {name: Ann, email: ann@example.org}``."""
    if isinstance(value, str) and value.strip():
        return SiteAuthor(name=expand_env(value, where).strip())
    if not isinstance(value, dict):
        raise Invalid("must be a name or a mapping with name and email")
    found = _AUTHOR.read(value, where)
    return SiteAuthor(name=found.get("name", ""), email=found.get("email") or None)


_TITLE = "must be the site's name as non-empty text, e.g. title: Lantern Blog"

_SITE = Schema(
    {
        "url": Field(url("https://blog.example.org"), required=True),
        "timezone": Field(then(text(), _timezone), default="UTC"),
        "author": Field(_author, default=None),
        # An empty title would reach feedgen, which refuses a feed without one (a traceback).
        "title": Field(text(nonempty=True, message=_TITLE), required=True),
        "description": Field(text(), default=""),
        "language": Field(text(), default="en"),
    }
)


def _ledger(written: str) -> str | None:
    if written and not written.startswith(("postgresql://", "postgres://")):
        raise Invalid(
            "must be a postgresql:// URL (leave it out to keep the ledger in state.folder); "
            "write the password as ${ENV_VAR}"
        )
    return written or None


def _live_wait(value: Any, where: Where) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"must be a number of seconds, not {value!r}")
    if value < 0:
        raise Invalid("must be 0 or more seconds")
    return float(value)


#: ``feeds.enabled`` and ``cards.enabled``; the other keys are the stage's own options.
_ENABLED = Schema({"enabled": Field(flag(), default=True)})


def _enabled(raw: dict[str, Any], where: Where) -> bool:
    return bool(_ENABLED.read({"enabled": raw.get("enabled")}, where)["enabled"])


def _feeds(value: Any, where: Where) -> FeedsConfig:
    # Imported here: the feeds package loads the whole feed stage (posts, feedgen, lxml),
    # and importing publisher.config (for its model) must stay light.
    from publisher.feeds.option_schema import parse_feed_options

    raw = _mapping(value, where)
    enabled = _enabled(raw, where)
    options, problems = parse_feed_options(raw)
    where.problems.extend(problems)
    return FeedsConfig(enabled=enabled, options=options)


def _cards(root: Path) -> Any:
    def convert(value: Any, where: Where) -> CardsConfig:
        # Imported here: cards imports publisher.posts, which imports this package.
        from publisher.cards.option_schema import parse_card_options

        raw = _mapping(value, where)
        enabled = _enabled(raw, where)
        options, problems = parse_card_options(raw, root=root)
        where.problems.extend(problems)
        return CardsConfig(enabled=enabled, options=options)

    return convert


def _folder(root: Path, default: str) -> Any:
    """A folder option; its default is checked too (a planted ``public`` link, say)."""

    def convert(value: Any, where: Where) -> Path:
        written = default if value is None else text()(value, where)
        return folder(written, root, where)

    return convert


def _mapping(value: Any, where: Where) -> dict[str, Any]:
    """A section whose keys another module checks: not a mapping is read as empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        where.error(f"must be a mapping, not {kind(value)}")
        return {}
    return value


def _schema(root: Path) -> Schema:
    """The whole file; sections are read in this order, so problems are listed in it."""
    targets = Targets(root)
    state = Schema(
        {
            "folder": Field(_folder(root, ".publisher"), always=True),
            "ledger": Field(then(text(), _ledger), default=None),
        }
    )
    announce = Schema(
        {
            "enabled": Field(flag(), default=True),
            "live_wait": Field(_live_wait, default=0.0),
            "targets": Field(items(targets.read, message="must be a list of targets"), default=()),
        }
    )
    return Schema(
        {
            "site": Field(section(_SITE)),
            "posts": Field(lambda value, where: read_posts(value, root, where), always=True),
            "output": Field(
                section(Schema({"folder": Field(_folder(root, "public"), always=True)}))
            ),
            "state": Field(section(state)),
            "feeds": Field(_feeds, always=True),
            "cards": Field(_cards(root), always=True),
            "announce": Field(section(announce)),
        }
    )


def parse_config(data: Any, source: Path) -> Config:
    """Validate the parsed YAML of a config file; raise ConfigError listing every problem."""
    root = source.parent
    where = Where()
    values = _schema(root).read(data, where)
    if where.problems:
        raise ConfigError(where.problems)
    site, state, announce = values["site"], values["state"], values["announce"]
    return Config(
        source=source,
        root=root,
        site=SiteConfig(**site),
        posts=values["posts"],
        output=values["output"]["folder"],
        state=state["folder"],
        ledger=state["ledger"],
        feeds=values["feeds"],
        cards=values["cards"],
        announce=AnnounceConfig(
            enabled=announce["enabled"],
            targets=tuple(t for t in announce["targets"] if t is not None),
            live_wait=announce["live_wait"],
        ),
    )


def load_config(path: Path) -> Config:
    """Read and validate a config file."""
    started = time.time_ns()
    with recording() as resolved:
        config, content, names = _load(path)
    digest = config_digest(content, os.environ, names)
    trail = Trail(
        started_ns=started,
        digest=digest,
        resolved=tuple(resolved),
        named=bool(variables_named(content, names)),
    )
    return replace(config, trail=trail)


def _load(path: Path) -> tuple[Config, str, list[str]]:
    """The config, the file's text, and each ``${NAME}`` in its values as YAML read them:
    a value may spell one with escapes (``"\\u0024{NAME}"``) the text does not show."""
    try:
        content = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            [f"{path}: no such file; pass --config FILE or create config.yaml"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot be read ({exc}); save it as UTF-8 text"]) from None
    data = plainconfig.read(content)  # None: not plain enough, PyYAML's to read
    if data is None:
        data = _safe_load(path, content)
    names = ENV_REF.findall(repr(data))  # a repr escapes no character of ${NAME}
    config = parse_config(data, path.resolve())
    if not config.posts.folder.is_dir():
        raise ConfigError(
            [
                f"posts.folder: '{config.posts.folder}' is not a folder; "
                "point it at the folder that holds the posts"
            ]
        )
    return config, content, names


def _safe_load(path: Path, content: str) -> Any:
    """``content`` read by PyYAML, imported here: a plain config does without it (its
    import is about 12 ms of a cold build, issue 12)."""
    import yaml

    try:
        return yaml.safe_load(content)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{path}{line}: not valid YAML ({reason}); fix the syntax"]) from None
