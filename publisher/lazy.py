"""Lazy package exports (PEP 562): a package names what it offers without importing it.

``import publisher.posts`` must not load the reader, cmark-gfm or lxml for a build with
nothing to do (issue 12), yet ``from publisher.posts import Post`` must keep working. A
leaf module: it imports nothing of publisher's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<homes[name]>`` on first use of
    ``name`` and keeps the value in the package's ``namespace`` (its ``globals()``), so the
    lookup happens once."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{home}"), name)
        namespace[name] = value
        return value

    return __getattr__
