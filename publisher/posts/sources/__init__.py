"""One reader per static-site generator, behind the contract in :mod:`.base`.

Built-in generators register here the way a third-party one would: an instance in
``SOURCES`` under its ``name``. ``detect`` names the generator of a site folder (used by
``publish init``); ``posts.generator`` in config.yaml picks one explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module
from pathlib import Path

from publisher.lazy import lazy_exports

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from publisher.posts.sources.base import Resolved, Setup, Source, SourceRules

__all__ = ["SOURCES", "Resolved", "Setup", "Source", "SourceRules", "detect", "get"]

#: Each generator's module and class, in detection order: the most specific markers
#: first (a Docusaurus or Astro site may also hold a stray config.toml; a Zola site's
#: config.toml is told from Hugo's by its ``base_url`` key).
_CLASSES = {
    "docusaurus": "DocusaurusSource",
    "astro": "AstroSource",
    "mkdocs": "MkDocsSource",
    "eleventy": "EleventySource",
    "jekyll": "JekyllSource",
    "zola": "ZolaSource",
    "hugo": "HugoSource",
    "generic": "GenericSource",
}


class _Sources(Mapping[str, "Source"]):
    """Every generator by name; a generator's module is imported when it is first used,
    so loading config.yaml (which checks the name) imports one reader, not eight."""

    def __init__(self) -> None:
        self._made: dict[str, Source] = {}

    def __getitem__(self, name: str) -> Source:
        source = self._made.get(name)
        if source is None:
            class_name = _CLASSES[name]  # a KeyError for a name no generator has
            module = import_module(f"{__name__}.{name}")
            source = self._made[name] = getattr(module, class_name)()
        return source

    def __contains__(self, name: object) -> bool:
        return name in _CLASSES

    def __iter__(self) -> Iterator[str]:
        return iter(_CLASSES)

    def __len__(self) -> int:
        return len(_CLASSES)


SOURCES: Mapping[str, Source] = _Sources()


__getattr__ = lazy_exports(
    __name__, dict.fromkeys(("Resolved", "Setup", "Source", "SourceRules"), "base"), globals()
)


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
