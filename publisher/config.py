"""Load and validate ``config.yaml``.

The whole file is checked before any work starts and every problem is reported at once,
each as ``dotted.path[index].key: what is wrong; how to fix it``. Unknown keys get a
"did you mean" hint. Secrets are written as ``${ENV_VAR}`` and read from the environment;
they are kept in :class:`Secret`, whose ``repr`` never shows the value.
"""

from __future__ import annotations

import difflib
import os
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from publisher.errors import ConfigError
from publisher.secret import ENV_REF

if TYPE_CHECKING:
    from publisher.cards.options import CardOptions
    from publisher.feeds.options import FeedOptions
    from publisher.posts.sources.base import SourceRules


@dataclass(frozen=True, kw_only=True)
class SiteAuthor:
    name: str
    email: str | None = None


@dataclass(frozen=True, kw_only=True)
class SiteConfig:
    title: str
    url: str
    description: str
    language: str
    timezone: str
    author: SiteAuthor | None

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


@dataclass(frozen=True, kw_only=True)
class PostsConfig:
    folder: Path
    glob: str
    summary_keys: tuple[str, ...]
    default_path: str
    #: Which generator's rules read the posts (``posts.generator``); "generic" is the
    #: layout of the example blog.
    generator: str = "generic"
    #: The folder holding the generator's own config files (``posts.site``).
    site: Path | None = None
    #: What the generator's config files say (None for generic).
    rules: SourceRules | None = None
    #: What could not be read from the generator's files, for ``publish init`` and -v.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TargetConfig:
    name: str
    kind: str
    options: Mapping[str, Any] = field(compare=False)


@dataclass(frozen=True, kw_only=True)
class AnnounceConfig:
    enabled: bool
    targets: tuple[TargetConfig, ...]
    live_wait: float = 0.0


@dataclass(frozen=True, kw_only=True)
class FeedsConfig:
    enabled: bool
    options: FeedOptions


@dataclass(frozen=True, kw_only=True)
class CardsConfig:
    enabled: bool
    options: CardOptions


@dataclass(frozen=True, kw_only=True)
class Config:
    source: Path
    root: Path
    site: SiteConfig
    posts: PostsConfig
    output: Path
    state: Path
    #: A shared PostgreSQL ledger (``state.ledger``); None: SQLite in the state folder.
    ledger: str | None = field(default=None, repr=False)
    feeds: FeedsConfig
    cards: CardsConfig
    announce: AnnounceConfig

    @property
    def cache_file(self) -> Path:
        return self.state / "cache.sqlite"


class _Reader:
    """Walks one mapping of the YAML file, collecting problems instead of raising."""

    def __init__(self, data: Any, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        self.seen: set[str] = set()
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.error(None, f"must be a mapping, not {_kind(data)}")
            data = {}
        self.data: dict[str, Any] = data

    def where(self, key: str | None) -> str:
        if key is None:
            return self.path or "(top level)"
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str | None, message: str) -> None:
        self.problems.append(f"{self.where(key)}: {message}")

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        return self.data.get(key)

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str:
        value = self.raw(key)
        if value is None:
            if required:
                self.error(key, "required")
            return default or ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(key, f"must be text, not {_kind(value)}")
            return default or ""
        return _expand_env(str(value), self.where(key), self.problems).strip()

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(key, f"must be true or false, not {value!r}")
            return default
        return value

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(key, "must be a list of text values")
            return default
        return tuple(v.strip() for v in value if v.strip())

    def section(self, key: str) -> _Reader:
        return _Reader(self.raw(key), self.where(key), self.problems)

    def rest(self) -> dict[str, Any]:
        """Keys not read by name, for sections whose options later stages own."""
        return {k: v for k, v in self.data.items() if k not in self.seen}

    def finish(self, known: tuple[str, ...] = ()) -> None:
        allowed = self.seen | set(known)
        for key in self.data:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                fix = (
                    f"did you mean '{hint[0]}'?"
                    if hint
                    else f"known keys: {', '.join(sorted(allowed))}"
                )
                self.error(str(key), f"unknown key; {fix}")


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", type(None): "empty"}.get(
        type(value), type(value).__name__
    )


def _expand_env(value: str, where: str, problems: list[str]) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            problems.append(f"{where}: environment variable {name} is not set; export it")
            return ""
        return os.environ[name]

    return ENV_REF.sub(sub, value)


def _check_url(reader: _Reader, key: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        reader.error(
            key, f"'{url}' is not an absolute http(s) URL; write it like https://blog.example.org"
        )
    return url.rstrip("/")


def _read_target(
    item: Any, index: int, problems: list[str], names: set[str], root: Path
) -> TargetConfig | None:
    # Imported here: the announce package imports this module for Secret.
    from publisher.announce.options import parse_target_options

    where = f"announce.targets[{index}]"
    reader = _Reader(item, where, problems)
    kind = reader.text("kind", required=True)
    if not kind:
        return None
    name = reader.text("name", default=kind)
    if name in names:
        reader.error("name", f"'{name}' is used by another target; give each target its own name")
    names.add(name)
    options, found = parse_target_options(kind, reader.data, where=where)
    problems.extend(found)
    if found and any(p.startswith(f"{where}.kind:") for p in found):
        return None
    template = options.get("template")
    if template:
        options["template"] = _check_template(str(template), root, f"{where}.template", problems)
    return TargetConfig(name=name, kind=kind, options=options)


def _check_template(template: str, root: Path, where: str, problems: list[str]) -> str:
    """The template's absolute path; a missing or broken template is a config problem.

    Checked here, not when the first post is announced, so that ``check``, ``build``,
    ``announce`` and ``--dry-run`` all refuse it the same way before doing any work.
    """
    from publisher.announce.render import template_problem

    path = Path(template)
    if not path.is_absolute():
        path = root / path
    problem = template_problem(path, template)
    if _planted_link(root, path):
        # A pull request could link the template to a file of the runner's (~/.netrc)
        # and have its text announced in public.
        problem = (
            f"'{template[:80]}' is a symbolic link (or inside one) leading outside the "
            "folder of config.yaml; not read; replace the link with the template itself"
        )
    if problem is not None:
        problems.append(f"{where}: {problem}")
    return str(path)


def parse_config(data: Any, source: Path) -> Config:
    """Validate the parsed YAML of a config file; raise ConfigError listing every problem."""
    problems: list[str] = []
    root = source.parent
    top = _Reader(data, "", problems)

    site = top.section("site")
    url = site.text("url", required=True)
    if url:
        url = _check_url(site, "url", url)
    timezone = site.text("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        site.error(
            "timezone",
            f"unknown time zone '{timezone}'; use an IANA name like Europe/Berlin or UTC",
        )
        timezone = "UTC"
    author_raw = site.raw("author")
    author: SiteAuthor | None = None
    if isinstance(author_raw, str) and author_raw.strip():
        author = SiteAuthor(name=author_raw.strip())
    elif isinstance(author_raw, dict):
        a = site.section("author")
        author = SiteAuthor(name=a.text("name", required=True), email=a.text("email") or None)
        a.finish()
    elif author_raw is not None:
        site.error("author", "must be a name or a mapping with name and email")
    site_config = SiteConfig(
        title=site.text("title", required=True),
        url=url,
        description=site.text("description"),
        language=site.text("language", "en"),
        timezone=timezone,
        author=author,
    )
    site.finish()

    posts = top.section("posts")
    posts_config = _read_posts(posts, root)
    posts.finish()

    output = top.section("output")
    output_folder = _folder(output, "folder", root, "public")
    output.finish()
    state = top.section("state")
    state_folder = _folder(state, "folder", root, ".publisher")
    ledger = state.text("ledger") or None
    if ledger is not None and not ledger.startswith(("postgresql://", "postgres://")):
        state.error(
            "ledger",
            "must be a postgresql:// URL (leave it out to keep the ledger in state.folder); "
            "write the password as ${ENV_VAR}",
        )
        ledger = None
    state.finish()

    # Imported here: the feeds and cards packages import this module for SiteConfig.
    from publisher.cards.options import parse_card_options
    from publisher.feeds.options import parse_feed_options

    feeds_section = top.section("feeds")
    feeds_enabled = feeds_section.flag("enabled", True)
    feed_options, feed_problems = parse_feed_options(feeds_section.data)
    problems.extend(feed_problems)
    feeds = FeedsConfig(enabled=feeds_enabled, options=feed_options)
    cards_section = top.section("cards")
    cards_enabled = cards_section.flag("enabled", True)
    card_options, card_problems = parse_card_options(cards_section.data, root=root)
    problems.extend(card_problems)
    cards = CardsConfig(enabled=cards_enabled, options=card_options)

    announce = top.section("announce")
    enabled = announce.flag("enabled", True)
    live_wait_raw = announce.raw("live_wait")
    live_wait = 0.0
    if live_wait_raw is not None:
        if isinstance(live_wait_raw, bool) or not isinstance(live_wait_raw, int | float):
            announce.error("live_wait", f"must be a number of seconds, not {live_wait_raw!r}")
        elif live_wait_raw < 0:
            announce.error("live_wait", "must be 0 or more seconds")
        else:
            live_wait = float(live_wait_raw)
    targets_raw = announce.raw("targets")
    targets: list[TargetConfig] = []
    if targets_raw is not None and not isinstance(targets_raw, list):
        announce.error("targets", "must be a list of targets")
    names: set[str] = set()
    for index, item in enumerate(targets_raw or []):
        target = _read_target(item, index, problems, names, root)
        if target is not None:
            targets.append(target)
    announce.finish()
    top.finish()

    if problems:
        raise ConfigError(problems)
    return Config(
        source=source,
        root=root,
        site=site_config,
        posts=posts_config,
        output=output_folder,
        state=state_folder,
        ledger=ledger,
        feeds=feeds,
        cards=cards,
        announce=AnnounceConfig(enabled=enabled, targets=tuple(targets), live_wait=live_wait),
    )


def _planted_link(root: Path, path: Path) -> bool:
    """``path`` is written inside ``root`` but a symbolic link on the way leads out of it."""
    return Path(os.path.normpath(path)).is_relative_to(root) and not (
        path.resolve().is_relative_to(root.resolve())
    )


def _folder(section: _Reader, key: str, root: Path, default: str) -> Path:
    """``root / <key>``, resolved. A symbolic link inside the site's folder that leads out
    of it is refused: the repository may come from a pull request, which must not point
    the posts, the output or the state at files elsewhere. A path written with '..' in
    config.yaml is the owner's choice and is kept."""
    written = section.text(key, default)
    resolved = (root / written).resolve()
    if _planted_link(root, root / written):
        section.error(
            key,
            f"'{written[:80]}' is a symbolic link (or inside one) leading outside the folder "
            "of config.yaml; not used; replace the link with the folder itself",
        )
    return resolved


def _read_posts(posts: _Reader, root: Path) -> PostsConfig:
    """The posts section; for a generator, its own config files are read here too."""
    from publisher.posts import sources
    from publisher.posts.sources import slugs

    default_path = posts.text("default_path", "/{id}/")
    if "{id}" not in default_path:
        posts.error("default_path", "must contain {id}, e.g. /blog/{id}/")
    generator = posts.text("generator", "generic")
    if generator not in sources.SOURCES:
        posts.error(
            "generator",
            f"unknown generator '{generator[:40]}'; use one of {', '.join(sources.SOURCES)}",
        )
        generator = "generic"
    url = posts.text("url") or None
    if url is not None:
        bad = slugs.unknown_tokens(url, slugs.URL_TOKENS, "brace")
        if bad:
            posts.error(
                "url",
                f"unknown token '{{{bad[0][:30]}}}'; use {{{'}, {'.join(slugs.URL_TOKENS)}}}",
            )
            url = None
        elif not url.startswith("/"):
            posts.error("url", "must be a path starting with '/', e.g. /blog/{year}/{slug}/")
            url = None
    folder_raw = posts.raw("folder")
    glob = posts.text("glob", "*/index.md")
    summary_keys = posts.strings("summary_keys", ("ogSummary", "description"))
    site = _folder(posts, "site", root, ".")
    if generator == "generic":
        return PostsConfig(
            folder=_folder(posts, "folder", root, "posts"),
            glob=glob,
            summary_keys=summary_keys,
            default_path=default_path,
            rules=sources.SourceRules(url=url) if url else None,
        )
    folder = _folder(posts, "folder", root, "") if folder_raw is not None else None
    if not site.is_dir():
        posts.error("site", f"'{site}' is not a folder; point it at the folder of the site")
        return PostsConfig(
            folder=folder or site, glob=glob, summary_keys=summary_keys, default_path=default_path
        )
    setup = sources.get(generator).configure(site, folder)
    for problem in setup.problems:
        posts.error("generator", f"{problem}")
    rules = setup.rules
    if url is not None:
        from dataclasses import replace

        rules = replace(rules, url=url)
    return PostsConfig(
        folder=setup.folder.resolve(),
        glob=glob,
        summary_keys=summary_keys,
        default_path=default_path,
        generator=generator,
        site=site,
        rules=rules,
        notes=setup.notes,
    )


def load_config(path: Path) -> Config:
    """Read and validate a config file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            [f"{path}: no such file; pass --config FILE or create config.yaml"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot be read ({exc}); save it as UTF-8 text"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{path}{line}: not valid YAML ({reason}); fix the syntax"]) from None
    config = parse_config(data, path.resolve())
    if not config.posts.folder.is_dir():
        raise ConfigError(
            [
                f"posts.folder: '{config.posts.folder}' is not a folder; point it at the folder that holds the posts"
            ]
        )
    return config
