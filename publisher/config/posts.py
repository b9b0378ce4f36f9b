"""The ``posts:`` section of config.yaml; for a site generator, its own config files too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from publisher.config.model import PostsConfig
from publisher.config.paths import folder
from publisher.dataclass import replace
from publisher.schema import Field, Invalid, Schema, Where, strings, text, then


def _has_id(path: str) -> str:
    if "{id}" not in path:
        raise Invalid("must contain {id}, e.g. /blog/{id}/")
    return path


def _glob(pattern: str) -> str:
    # pathlib refuses these with a ValueError/NotImplementedError deep in the read stage.
    if not pattern or pattern.startswith("/"):
        raise Invalid("must be a pattern relative to posts.folder, e.g. */index.md")
    return pattern


def _schema() -> Schema:
    # Imported here: the posts package imports publisher.config for Config.
    from publisher.posts import sources
    from publisher.posts.sources import slugs

    def generator(name: str) -> str:
        if name not in sources.SOURCES:
            raise Invalid(
                f"unknown generator '{name[:40]}'; use one of {', '.join(sources.SOURCES)}"
            )
        return name

    def url_pattern(url: str) -> str | None:
        bad = slugs.unknown_tokens(url, slugs.URL_TOKENS, "brace") if url else []
        if bad:
            tokens = "}, {".join(slugs.URL_TOKENS)
            raise Invalid(f"unknown token '{{{bad[0][:30]}}}'; use {{{tokens}}}")
        if url and not url.startswith("/"):
            raise Invalid("must be a path starting with '/', e.g. /blog/{year}/{slug}/")
        return url or None

    return Schema(
        {
            "default_path": Field(then(text(), _has_id), default="/{id}/"),
            "generator": Field(then(text(), generator), default="generic"),
            "url": Field(then(text(), url_pattern), default=None),
            "folder": Field(text(), default=None),
            "glob": Field(then(text(), _glob), default="*/index.md"),
            "summary_keys": Field(strings(), default=("ogSummary", "description")),
            "site": Field(text(), default="."),
        }
    )


def read_posts(raw: Any, root: Path, where: Where) -> PostsConfig:
    """The posts section; a generator's own config files are read here too."""
    from publisher.posts import sources

    values = _schema().read(raw, where)
    url: str | None = values["url"]
    common: dict[str, Any] = {
        "glob": values["glob"],
        "summary_keys": values["summary_keys"],
        "default_path": values["default_path"],
    }
    site = folder(values["site"], root, where.key("site"))
    written: str | None = values["folder"]
    generator: str = values["generator"]
    if generator == "generic":
        return PostsConfig(
            folder=folder(written if written is not None else "posts", root, where.key("folder")),
            rules=sources.SourceRules(url=url) if url else None,
            **common,
        )
    chosen = folder(written, root, where.key("folder")) if written is not None else None
    if not site.is_dir():
        where.key("site").error(f"'{site}' is not a folder; point it at the folder of the site")
        return PostsConfig(folder=chosen or site, **common)
    setup = sources.get(generator).configure(site, chosen)
    for problem in setup.problems:
        where.key("generator").error(problem)
    rules = setup.rules if url is None else replace(setup.rules, url=url)
    return PostsConfig(
        folder=setup.folder.resolve(),
        generator=generator,
        site=site,
        rules=rules,
        notes=setup.notes,
        **common,
    )
