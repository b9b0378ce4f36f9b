"""The feed formats, listed in one place: :data:`FORMATS`.

A format is one module that renders it (``render_items``, ``render_shell``,
``render_feed``: the :class:`Renderer` contract) and one :class:`FeedFormat` row here
saying its name, default file, media type and where its renderer and lint live. The
options (``feeds.formats``, ``feeds.<name>_path``), the build, ``publish check`` and the
preview all read this tuple, so adding a format touches this row and its module.

This module imports no renderer: loading config.yaml reads it, and must not pull in
lxml, nh3 or feedgen (issue 12). A renderer is imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from importlib import import_module

from publisher.dataclass import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Protocol

    from publisher.feeds.head import FeedHead
    from publisher.feeds.items import FeedItem
else:
    Protocol = object  # a protocol to the checker; to the interpreter a plain class


#: A format's check: (its bytes, its public URL, the problems found so far).
Lint = Callable[[bytes, str, list[str]], None]


class Renderer(Protocol):
    """What a format's module provides. Formats sharing a module (RSS and Atom share
    feedgen's entries) are rendered by one ``render_items`` call naming all of them."""

    def render_items(
        self, names: Sequence[str], items: Sequence[FeedItem], head: FeedHead
    ) -> dict[str, list[bytes]]:
        """Each format in ``names`` -> each item's bytes, in ``items`` order."""
        ...

    def render_shell(self, name: str, head: FeedHead, updated: datetime | None) -> bytes:
        """The document with no items (cached between builds, like the items)."""
        ...

    def render_feed(self, name: str, shell: bytes, fragments: Iterable[bytes]) -> bytes:
        """``shell`` with ``fragments`` spliced in: the bytes of the whole feed."""
        ...


@dataclass(frozen=True, kw_only=True)
class FeedFormat:
    """One feed format as the rest of the feed stage sees it."""

    #: The name in ``feeds.formats``; ``feeds.<name>_path`` is its file when FeedOptions has it.
    name: str
    #: How people call it (the ``<link rel="alternate">`` title of a page).
    label: str
    media_type: str
    #: The file of the main feed (per-category feeds put it in their folder).
    default_path: str
    #: The module implementing :class:`Renderer`, imported on first use.
    renderer: str
    #: Whether the document carries its newest item's date (so its cached head depends on it).
    dated: bool = True
    #: ``module:function`` checking one file for ``publish check``: (data, public_url,
    #: problems) -> None, appending ``what is wrong; how to fix it``. None: not checked.
    lint: str | None = None

    def module(self) -> Renderer:
        module: Renderer = import_module(self.renderer)
        return module

    def checker(self) -> Lint | None:
        if self.lint is None:
            return None
        module, _, function = self.lint.partition(":")
        lint: Lint = getattr(import_module(module), function)
        return lint


#: Every format, in the order ``feeds.formats`` lists them by default.
FORMATS: tuple[FeedFormat, ...] = (
    FeedFormat(
        name="rss",
        label="RSS",
        media_type="application/rss+xml",
        default_path="rss.xml",
        renderer="publisher.feeds.rss_atom",
        lint="publisher.feeds.lint:lint_xml",
    ),
    FeedFormat(
        name="atom",
        label="Atom",
        media_type="application/atom+xml",
        default_path="atom.xml",
        renderer="publisher.feeds.rss_atom",
        lint="publisher.feeds.lint:lint_xml",
    ),
    FeedFormat(
        name="json",
        label="JSON Feed",
        media_type="application/feed+json",
        default_path="feed.json",
        renderer="publisher.feeds.jsonfeed",
        dated=False,  # a JSON Feed has no date of its own
        lint="publisher.feeds.lint:lint_json",
    ),
)


def names() -> tuple[str, ...]:
    """The registered format names, in registry order."""
    return tuple(f.name for f in FORMATS)


def get(name: str) -> FeedFormat:
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(name)


def path_of(options: object, name: str) -> str:
    """Where the format ``name`` goes: ``feeds.<name>_path`` if the options have it, else
    the format's default file."""
    path = getattr(options, f"{name}_path", None)
    return path if isinstance(path, str) else get(name).default_path


def paths(options: object, chosen: Iterable[str]) -> list[str]:
    """The main feed's file of each format in ``chosen`` (``feeds.formats``), in order."""
    return [path_of(options, name) for name in chosen]


def checker_for(path: str, data: bytes) -> Lint | None:
    """The check of the output file ``path``: a JSON Feed's when its name or first byte
    says JSON (as before the registry), else that of the registered format whose default
    file has the same extension, else the XML one (RSS, Atom and the stylesheet)."""
    if path.endswith(".json") or data.lstrip()[:1] == b"{":
        return get("json").checker()
    suffix = path.rpartition(".")[2]
    for fmt in FORMATS:
        if fmt.lint is not None and fmt.default_path.rpartition(".")[2] == suffix:
            return fmt.checker()
    return get("rss").checker()
