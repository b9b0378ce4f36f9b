"""The feed format registry (issue 15): a format is one module plus one row in
``publisher.feeds.formats.FORMATS``, and every reader of formats goes through it.

This module is itself the renderer of a toy format, ``toy`` (plain text, one line per
item), registered for the tests only: a real build writes its files, config accepts its
name, ``publish check`` runs its lint and the preview lists its file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from conftest import Site
from publisher.build import build_site, lint_feeds, load_posts
from publisher.cards.meta import feed_links
from publisher.config import load_config
from publisher.errors import ConfigError
from publisher.feeds import formats as registry
from publisher.feeds.lint import lint_feed
from publisher.feeds.option_schema import parse_feed_options
from publisher.feeds.options import FeedOptions

if TYPE_CHECKING:
    from publisher.feeds.items import FeedItem
    from publisher.feeds.rss_atom import FeedHead

TOY = registry.FeedFormat(
    name="toy",
    label="Toy",
    media_type="text/plain",
    default_path="toy.txt",
    renderer=__name__,
    dated=False,
    lint=f"{__name__}:lint_toy",
)
NOW = datetime(2026, 11, 30, tzinfo=UTC)


def render_items(
    names: Sequence[str], items: Sequence[FeedItem], head: FeedHead
) -> dict[str, list[bytes]]:
    return {name: [f"{item.title} <{item.link}>\n".encode() for item in items] for name in names}


def render_shell(name: str, head: FeedHead, updated: datetime | None) -> bytes:
    return f"# {head.title} ({head.self_url})\n".encode()


def render_feed(name: str, shell: bytes, fragments: Iterable[bytes]) -> bytes:
    return shell + b"".join(fragments)


def lint_toy(data: bytes, public_url: str, problems: list[str]) -> None:
    if not data.startswith(b"# "):
        problems.append("no '# title' line; rebuild the feed")


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> registry.FeedFormat:
    monkeypatch.setattr(registry, "FORMATS", (*registry.FORMATS, TOY))
    return TOY


def test_builtin_formats_are_the_registry() -> None:
    assert registry.names() == ("rss", "atom", "json")
    assert FeedOptions().formats == registry.names()
    options = FeedOptions(atom_path="a/atom.xml")
    assert registry.paths(options, ("atom", "json")) == ["a/atom.xml", "feed.json"]
    # Each default path in the registry is the option's default.
    for fmt in registry.FORMATS:
        assert registry.path_of(FeedOptions(), fmt.name) == fmt.default_path


def test_config_knows_only_registered_formats(toy: registry.FeedFormat) -> None:
    options, problems = parse_feed_options({"formats": ["toy", "rss"]})
    assert problems == []
    assert options.formats == ("rss", "toy")  # registry order
    _, problems = parse_feed_options({"formats": ["yaml"]})
    assert problems == ["feeds.formats: unknown format 'yaml'; use any of rss, atom, json, toy"]


def test_a_registered_format_is_built_checked_and_listed(
    site: Site, toy: registry.FeedFormat
) -> None:
    site.config(
        """\
        site:
          title: Toy Blog
          url: https://blog.example.org
        output:
          folder: public
        state:
          folder: state
        feeds:
          formats: [rss, toy]
          categories: true
        cards:
          enabled: false
        """
    )
    site.post("2026-01-02-one", "title: One\ndate: 2026-01-02\ncategories: [News]", "Hello.\n")
    site.post("2026-01-01-two", "title: Two\ndate: 2026-01-01", "Older.\n")
    config = load_config(site.config_path)
    for _ in range(2):  # the second build reads the cache (no column for toy: in memory)
        build_site(config, now=NOW)
        public = site.root / "public"
        assert (public / "toy.txt").read_bytes() == (
            b"# Toy Blog (https://blog.example.org/toy.txt)\n"
            b"One <https://blog.example.org/2026-01-02-one/>\n"
            b"Two <https://blog.example.org/2026-01-01-two/>\n"
        )
        assert (public / "categories/news/toy.txt").read_bytes().count(b"\n") == 2
        assert (public / "rss.xml").is_file()
        assert not (public / "atom.xml").exists()

    # publish check runs the toy's own lint on its files.
    published = load_posts(config, readonly=True).published(NOW)
    assert len(published) == 2
    assert lint_feeds(config, published) == []
    assert lint_feed("x/toy.txt", b"junk", "https://blog.example.org/x/toy.txt") == [
        "x/toy.txt: no '# title' line; rebuild the feed"
    ]
    assert registry.checker_for("x/toy.txt", b"junk") is lint_toy

    # The preview lists the files a post is in from the registry too.
    from publisher.preview.sections import _feed_files

    assert _feed_files(config) == ["rss.xml", "toy.txt"]
    # And pages link it for feed discovery with its media type.
    links = feed_links(config.site, config.feeds.options)
    assert [(link.href, link.type) for link in links][1] == (
        "https://blog.example.org/toy.txt",
        "text/plain",
    )


def test_an_unknown_format_name_in_config_is_one_clear_line(site: Site) -> None:
    site.config(
        """\
        site:
          title: Toy Blog
          url: https://blog.example.org
        feeds:
          formats: [toy]
        """
    )
    with pytest.raises(ConfigError) as caught:
        load_config(site.config_path)
    assert "feeds.formats: unknown format 'toy'; use any of rss, atom, json" in str(caught.value)


def test_renderer_contract_matches_the_old_calls() -> None:
    """The builtin modules answer the contract with the bytes their own functions give."""
    from publisher.feeds import jsonfeed, rss_atom

    head = rss_atom.FeedHead(
        title="T",
        description="D",
        site_url="https://e.org/",
        language="en",
        author_name="A",
        author_email=None,
        self_url="https://e.org/feed.json",
        stylesheet_href=None,
        hub=None,
        category_scheme="https://e.org/c",
        tag_scheme="https://e.org/t",
    )
    shell = registry.get("json").module().render_shell("json", head, NOW)
    assert shell == jsonfeed.render_head(head)
    assert json.loads(registry.get("json").module().render_feed("json", shell, []))["items"] == []
    atom = registry.get("atom").module()
    assert atom.render_shell("atom", replace(head, self_url="https://e.org/atom.xml"), NOW) == (
        rss_atom.render_head("atom", replace(head, self_url="https://e.org/atom.xml"), NOW)
    )
