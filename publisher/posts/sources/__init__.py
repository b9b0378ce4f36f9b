"""One reader per static-site generator, behind the contract in :mod:`.base`.

Built-in generators register here the way a third-party one would: an instance in
``SOURCES`` under its ``name``. ``detect`` names the generator of a site folder (used by
``publish init``); ``posts.generator`` in config.yaml picks one explicitly.
"""

from __future__ import annotations

from pathlib import Path

from publisher.posts.sources.astro import AstroSource
from publisher.posts.sources.base import Resolved, Setup, Source, SourceRules
from publisher.posts.sources.docusaurus import DocusaurusSource
from publisher.posts.sources.eleventy import EleventySource
from publisher.posts.sources.generic import GenericSource
from publisher.posts.sources.hugo import HugoSource
from publisher.posts.sources.jekyll import JekyllSource
from publisher.posts.sources.mkdocs import MkDocsSource
from publisher.posts.sources.zola import ZolaSource

__all__ = ["SOURCES", "Resolved", "Setup", "Source", "SourceRules", "detect", "get"]

#: In detection order: the most specific markers first (a Docusaurus or Astro site may
#: also hold a stray config.toml; a Zola site's config.toml is told from Hugo's by its
#: ``base_url`` key).
SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        DocusaurusSource(),
        AstroSource(),
        MkDocsSource(),
        EleventySource(),
        JekyllSource(),
        ZolaSource(),
        HugoSource(),
        GenericSource(),
    )
}

#: Sub-folders a site may live in: GitHub Pages sites in docs/, Docusaurus in website/.
SITE_FOLDERS = ("", "website", "docs", "site", "blog")


def get(name: str) -> Source:
    return SOURCES[name]


def detect(root: Path, *, generic: bool = False) -> tuple[str, Path] | None:
    """(generator, site folder) for the site at or just below ``root``, or None.

    The generic layout (``posts/<folder>/index.md``) counts only with ``generic``: it is
    a guess from folder names, not a generator's config file.
    """
    for sub in SITE_FOLDERS:
        folder = root / sub if sub else root
        if not folder.is_dir():
            continue
        for source in SOURCES.values():
            if (generic or source.name != "generic") and source.detect(folder):
                return source.name, folder
    return None
