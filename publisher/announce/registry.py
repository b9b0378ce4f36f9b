"""Which adapter class serves which target kind.

Every adapter, built-in or not, is registered the same way: an entry point in the
``publisher.announcers`` group (``kind = "package.module:Class"``). The built-ins are the
ones ``pyproject.toml`` declares, pointing into ``publisher.announce.adapters``; there is
no second table of them here. A plugin's entry point adds a kind; it cannot replace a
built-in one.

Where the built-ins' entry points are read from:

* a source tree (a checkout, with or without an editable install): its own
  ``pyproject.toml``, so an adapter added there counts at once, even when the installed
  metadata predates it (``pip install -e .`` is not re-run for each new entry point);
* an installed package (no ``pyproject.toml`` beside it): the installed metadata.
"""

from __future__ import annotations

import functools
import importlib
import tomllib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from publisher.announce.contract import Announcer

GROUP = "publisher.announcers"
#: Where built-in adapters live; an entry point into it is a built-in.
BUILTIN_PACKAGE = "publisher.announce.adapters."
#: The source tree's project file (absent in an installed package).
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _load(reference: str) -> type[Announcer]:
    module, _, attribute = reference.partition(":")
    cls = getattr(importlib.import_module(module), attribute)
    if not (isinstance(cls, type) and issubclass(cls, Announcer)):
        raise TypeError(f"{reference} is not an Announcer subclass")
    return cls


def _declared_in_source() -> dict[str, str] | None:
    """The entry points ``pyproject.toml`` declares, when running from a source tree."""
    try:
        project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    table: Any = project.get("entry-points", {}).get(GROUP)
    if not isinstance(table, dict):
        return None
    return {str(kind): str(reference) for kind, reference in table.items()}


@functools.cache
def references() -> dict[str, str]:
    """kind -> "module:Class": the plugins' entry points, then the built-ins over them."""
    found = [(ep.name, ep.value) for ep in entry_points(group=GROUP)]
    plugins = {k: v for k, v in found if not v.startswith(BUILTIN_PACKAGE)}
    source = _declared_in_source()
    own = source.items() if source is not None else found
    builtins = {k: v for k, v in own if v.startswith(BUILTIN_PACKAGE)}
    return {**plugins, **builtins}


def builtin_kinds() -> tuple[str, ...]:
    """The kinds this package ships, sorted."""
    return tuple(sorted(k for k, v in references().items() if v.startswith(BUILTIN_PACKAGE)))


def kinds() -> tuple[str, ...]:
    return tuple(sorted(references()))


@functools.cache
def announcer_class(kind: str) -> type[Announcer]:
    """The adapter class for ``kind``; KeyError if no adapter is registered for it."""
    reference = references()[kind]
    cls = _load(reference)
    if cls.kind != kind:
        raise TypeError(f"{reference} declares kind {cls.kind!r}, registered as {kind!r}")
    return cls


def __getattr__(name: str) -> Any:
    # ``BUILTINS``, as tests written before builtin_kinds() import it: kind -> reference.
    if name == "BUILTINS":
        return {kind: references()[kind] for kind in builtin_kinds()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
