"""``publish init``: write a commented config.yaml for the site in a repository.

``init_site`` finds the generator (at the root, or in docs/, website/, site/, blog/),
reads its config files the same way a build will, reads the posts once to show what
was found (how many, the URL rule, three example URLs, what could not be decided), and
writes config.yaml at the root. It never overwrites a config, and it never guesses the
site's URL: that comes from ``--site-url`` or the generator's own config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from publisher.config import parse_config
from publisher.errors import ConfigError
from publisher.posts import read_posts
from publisher.posts.sources import SOURCES, detect, siteconfig

#: The folder the feeds and cards go to. Not ``public/``: that is the output folder of
#: Hugo, Zola and others, which a build there would mix into.
OUTPUT_FOLDER = "publisher-out"

CONFIG_NAME = "config.yaml"


@dataclass(frozen=True, kw_only=True)
class InitReport:
    """What ``publish init`` found and wrote."""

    config_file: Path
    generator: str
    site: Path
    folder: Path
    site_url: str
    posts: int
    files: int
    errors: int
    rule: str
    examples: tuple[str, ...]
    undecided: tuple[str, ...]
    text: str

    def lines(self) -> list[str]:
        """The report as the command prints it."""
        title = SOURCES[self.generator].title
        out = [
            f"wrote {self.config_file.name} for the {title} site in {self._shown(self.site)}",
            f"posts: {self.posts} of {self.files} files in {self._shown(self.folder)}"
            + (f" ({self.errors} with errors: run `publish check`)" if self.errors else ""),
            f"URL rule: {self.rule}",
        ]
        out += [f"  e.g. {url}" for url in self.examples]
        out += [f"could not decide: {note}" for note in self.undecided]
        out.append("next: review config.yaml, then run `publish build`")
        return out

    def _shown(self, path: Path) -> str:
        root = self.config_file.parent
        if path == root:
            return "."
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def site_hint(root: Path) -> str | None:
    """A one-line pointer to ``publish init`` when ``root`` holds a site but no config."""
    found = detect(root)
    if found is None:
        return None
    name, site = found
    where = "" if site == root else f" in {site.relative_to(root).as_posix()}/"
    return (
        f"no config.yaml here, and this folder holds the {SOURCES[name].title} site{where}: "
        "run `publish init` to write a config.yaml for it (nothing was built)"
    )


def init_site(root: Path, *, site_url: str | None = None, write: bool = True) -> InitReport:
    """Detect the site under ``root``, write ``root/config.yaml``, and report what was found."""
    root = root.resolve()
    config_file = root / CONFIG_NAME
    if config_file.exists() or config_file.is_symlink():  # a dangling link counts too
        raise ConfigError(
            [
                f"{CONFIG_NAME}: already exists; not overwritten. Edit it, or move it away and run again"
            ]
        )
    found = detect(root, generic=True)
    if found is None:
        raise ConfigError(
            [
                f"{root.name}: no Hugo, Jekyll, Docusaurus, Zola, Eleventy, Astro or MkDocs site "
                "found here or in docs/, website/, site/, blog/; write config.yaml by hand "
                "with posts.generator: generic (see docs/sources.md)"
            ]
        )
    generator, site = found
    source = SOURCES[generator]
    setup = source.configure(site, None)
    if setup.problems:
        raise ConfigError(list(setup.problems))
    url = site_url or setup.site_url
    if not url or "://" not in url:
        raise ConfigError(
            [
                f"the site's URL is not in the {source.title} config; pass it: "
                "publish init --site-url https://example.org"
            ]
        )
    title = _site_title(site) or site.resolve().name
    site_rel = site.relative_to(root).as_posix() if site != root else "."
    folder_rel = setup.folder.resolve().relative_to(root).as_posix()
    text = _config_text(
        title=title,
        url=url.rstrip("/"),
        generator=generator,
        generator_title=source.title,
        site=site_rel,
        folder=folder_rel,
        rule=setup.rule,
        url_from="--site-url" if site_url else f"the {source.title} config",
    )
    import yaml

    config = parse_config(yaml.safe_load(text), config_file)
    result = read_posts(config)
    posts = sorted(result.posts, key=lambda p: p.date, reverse=True)
    undecided = list(setup.notes)
    if not posts:
        undecided.append(f"no posts found in {folder_rel}; set posts.folder in config.yaml")
    report = InitReport(
        config_file=config_file,
        generator=generator,
        site=site,
        folder=setup.folder.resolve(),
        site_url=url,
        posts=len(result.posts),
        files=result.files,
        errors=len(result.errors),
        rule=setup.rule,
        examples=tuple(p.url for p in posts[:3]),
        undecided=tuple(undecided),
        text=text,
    )
    if write:
        try:
            with config_file.open("x", encoding="utf-8") as handle:  # "x": never overwrite
                handle.write(text)
        except OSError as exc:  # appeared meanwhile, or a read-only checkout
            raise ConfigError(
                [f"{CONFIG_NAME}: cannot be written ({exc.strerror}); nothing was changed"]
            ) from None
    return report


def _site_title(site: Path) -> str | None:
    """The site's title from the generator's config, if it says one plainly."""
    for name, key in (
        ("mkdocs.yml", "site_name"),
        ("hugo.toml", "title"),
        ("config.toml", "title"),
        ("zola.toml", "title"),
        ("hugo.yaml", "title"),
        ("_config.yml", "title"),
    ):
        path = site / name
        if path.is_file():
            try:
                value = siteconfig.load(path, name, site).get(key)
            except siteconfig.SiteConfigError:
                continue
            if isinstance(value, str) and value.strip():
                return value.strip()
    for name in ("docusaurus.config.ts", "docusaurus.config.js"):
        path = site / name
        if path.is_file():
            try:
                value = siteconfig.js_string(siteconfig.read_text(path, name, site), "title")
            except siteconfig.SiteConfigError:
                continue
            if value:
                return value
    return None


def _config_text(
    *,
    title: str,
    url: str,
    generator: str,
    generator_title: str,
    site: str,
    folder: str,
    rule: str,
    url_from: str,
) -> str:
    def q(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)

    return f"""# publisher configuration, written by `publish init` for a {generator_title} site.
# Paths are relative to this file. Secrets are written as ${{ENV_VAR}}.
# How posts are read from each generator: docs/sources.md.
site:
  title: {q(title)}
  url: {q(url)}  # from {url_from}
  language: en
  timezone: UTC  # the zone of dates written without one

posts:
  # Read the posts as {generator_title} does: its URL rules, dates, drafts and authors.
  generator: {generator}
  # The folder holding the {generator_title} config files.
  site: {q(site)}
  # The folder holding the posts.
  folder: {q(folder)}
  # URL rule read from the site: {rule}
  # When the real URLs differ (a rule computed in code), write the pattern here, e.g.:
  # url: /blog/{{year}}/{{month}}/{{slug}}/

output:
  # Not public/: that is where many generators write the site itself.
  folder: {OUTPUT_FOLDER}

state:
  folder: .publisher

feeds:
  enabled: true

cards:
  enabled: true

announce:
  # Add targets (Slack, Mastodon, ...) and set this to true: see docs/announce.md.
  enabled: false
"""
