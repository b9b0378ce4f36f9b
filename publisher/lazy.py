"""Lazy package exports (PEP 562): a package names what it offers without importing it.

``import publisher.posts`` must not load the reader, cmark-gfm or lxml for a build with
nothing to do (issue 12), yet ``from publisher.posts import Post`` must keep working. And
:class:`LazyModule`: a library a module needs only on a rare path (dateutil, for a date
that is not ``YYYY-MM-DD``), imported on first use; :func:`lazy_pattern`, a regular
expression compiled on first use (a build that prints nothing need not compile the
expressions that make a printed line safe). A leaf module: it imports nothing of
publisher's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from importlib import import_module

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
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


class LazyModule:
    """Stands for the module ``name`` until an attribute is read: that reads it from the
    module, imported then (once: later reads find it in ``sys.modules``).

    For a module-level name a file uses on a rare path only, so that importing the file
    does not import the library (``tests/test_lazy_imports.py`` pins which builds load
    which). The importer declares the real module for mypy::

        if TYPE_CHECKING:
            from dateutil import parser as dateparser
        else:
            dateparser = LazyModule("dateutil.parser")

    ``sys.modules`` is left alone, so anyone else importing the module gets it whole.
    """

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


class _LazyPattern:
    """A compiled pattern's stand-in: the first read of each attribute compiles the
    pattern (``re`` keeps it compiled) and keeps the attribute, so later reads are plain
    attribute reads."""

    def __init__(self, pattern: str, flags: int) -> None:
        self._pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str) -> Any:
        value = getattr(re.compile(self._pattern, self._flags), name)
        self.__dict__[name] = value
        return value

    def __repr__(self) -> str:
        return f"<lazy pattern {self._pattern!r}>"


def lazy_pattern(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, done when the pattern is first used, not at import:
    for a module-level pattern only some runs use (compiling one with wide character
    classes costs 0.1 to 0.5 ms). Its methods and attributes are the compiled pattern's;
    it is not an instance of ``re.Pattern``."""
    return _LazyPattern(pattern, flags)  # type: ignore[return-value]  # a stand-in
