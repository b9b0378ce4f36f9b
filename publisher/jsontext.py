"""JSON text exactly as ``json.dumps(value, ensure_ascii=False, indent=N, sort_keys=True)``
writes it, in a fraction of the time.

The standard library's C encoder is used only without ``indent``; with it, every value
goes through a chain of Python generators, which at 10,000 posts made ``posts.json``
a good part of a one-post rebuild (issue 12). Strings still go through the C string
encoder. A value of another type (or a key that is not a string) falls back to
``json.dumps`` itself, so the bytes never differ (``tests/test_output.py`` checks both
on generated values).
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

_CONSTANTS = {None: "null", True: "true", False: "false"}


class _Unsupported(Exception):
    """A value this module does not write itself: ``json.dumps`` does."""


def dumps(value: Any, *, indent: int = 2) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=True)``."""
    try:
        return _emit(value, "", " " * indent)
    except (_Unsupported, RecursionError):
        return json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=True)


def dumps_nested(value: Any, *, depth: int, indent: int = 2) -> str | None:
    """The text :func:`dumps` gives ``value`` where it sits ``depth`` levels deep in a
    document (as an item of a list that is a value of the top object: 2), without the
    indentation of its first line; None where :func:`dumps` would hand the whole
    document to ``json.dumps``."""
    try:
        return _emit(value, " " * (indent * depth), " " * indent)
    except (_Unsupported, RecursionError):
        return None


def _emit(value: Any, margin: str, step: str) -> str:
    kind = type(value)
    if kind is str:
        return str(encode_basestring(value))
    if kind is dict:
        if not value:
            return "{}"
        inner = margin + step
        if any(type(key) is not str for key in value):
            raise _Unsupported
        parts = [f"{encode_basestring(k)}: {_emit(value[k], inner, step)}" for k in sorted(value)]
        return "{\n" + inner + (",\n" + inner).join(parts) + "\n" + margin + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = margin + step
        parts = [_emit(item, inner, step) for item in value]
        return "[\n" + inner + (",\n" + inner).join(parts) + "\n" + margin + "]"
    if value is None or kind is bool:
        return _CONSTANTS[value]
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        return _float(value)
    raise _Unsupported


def _float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)
