"""The kinds of value a card layout file holds, as converters for :mod:`publisher.schema`.

Each one checks a YAML value and raises :class:`~publisher.schema.Invalid` with what is
wrong and how to write it instead; :mod:`publisher.cards.layout` puts them together.
"""

from __future__ import annotations

import re
from typing import Any

from publisher.schema import Convert, Invalid, Where, choice, integer, number

Box = tuple[int, int, int, int]

COLOR = re.compile(r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|\$(background|accent|light|dark))$")
TEXT_PARTS = ("meta", "title", "summary")
BOX_FIX = "must be [x, y, width, height] in whole pixels, width and height > 0"


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def box(value: Any, where: Where) -> Box:
    whole = isinstance(value, list) and len(value) == 4 and all(_whole(v) for v in value)
    if whole and value[2] > 0 and value[3] > 0:
        return (value[0], value[1], value[2], value[3])
    raise Invalid(BOX_FIX)


def colour(*, auto: bool = False) -> Convert:
    also = ", or auto" if auto else ""

    def convert(value: Any, where: Where) -> str:
        if isinstance(value, str) and (COLOR.match(value) or (auto and value == "auto")):
            return value
        raise Invalid(
            f"{value!r} is not a colour; write #rrggbb, $background, $accent, $light, $dark{also}"
        )

    return convert


def one_of(*options: str) -> Convert:
    return choice(*options, message=lambda v: f"{v!r} is not one of {', '.join(options)}")


def whole_number(low: int, high: int) -> Convert:
    return integer(low, high, message=f"must be a whole number from {low} to {high}")


def fraction(low: float, high: float) -> Convert:
    return number(low, high, message=f"must be a number from {low:g} to {high:g}")


def pair(low: int, high: int, message: str, *, ordered: bool = False) -> Convert:
    """Two whole numbers from ``low`` to ``high`` (a single number counts as both)."""

    def convert(value: Any, where: Where) -> tuple[int, int]:
        pair = [value, value] if _whole(value) and ordered else value
        whole = isinstance(pair, list) and len(pair) == 2 and all(_whole(v) for v in pair)
        if whole and all(low <= v <= high for v in pair) and (not ordered or pair[0] <= pair[1]):
            return (pair[0], pair[1])
        raise Invalid(message)

    return convert


def text_order(value: Any, where: Where) -> tuple[str, ...]:
    if (
        isinstance(value, list)
        and all(part in TEXT_PARTS for part in value)
        and "title" in value
        and len(set(value)) == len(value)
    ):
        return tuple(value)
    raise Invalid("must list title and optionally meta and summary, once each")


def layout_name(value: Any, where: Where) -> str:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]+", value):
        return value
    raise Invalid("must be the name of another layout, like text")


def text_format(value: Any, where: Where) -> str:
    if isinstance(value, str):
        return value
    raise Invalid("must be text like '{site} · {date}'")


def description(value: Any, where: Where) -> str:
    if isinstance(value, str):
        return value
    raise Invalid("must be text; one line shown in listings")
