"""Card layouts are data: YAML files in ``templates/cards/`` (or a site's own folder),
validated on load, every problem named by file and key.

A layout is drawn in this order: background colour, shapes, image, scrim, logo, chip,
author, text (the chip and the author only when config.yaml turns them on).
Boxes are ``[x, y, width, height]`` in the layout's design ``size`` (1200x630 unless it
says otherwise) and are scaled to the configured card size. Colours are ``#rrggbb``,
``#rgb`` or a reference to a site colour option: ``$background``, ``$accent``, ``$light``,
``$dark``;
text and scrim colours may be ``auto`` (chosen for 4.5:1 contrast).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from publisher.cards.layout_values import (
    BOX_FIX,
    TEXT_PARTS,
    Box,
    box,
    colour,
    description,
    fraction,
    layout_name,
    one_of,
    pair,
    text_format,
    text_order,
    whole_number,
)
from publisher.errors import CardError
from publisher.schema import (
    Convert,
    Field,
    Schema,
    Where,
    flag,
    items,
    section,
    then,
)
from publisher.stamps import Stamp, stamp_of

FONT_WEIGHTS = ("regular", "bold")
#: The keys naming the layout a card is handed over to (see publisher.cards.choose).
HANDOVERS = ("when_no_image", "when_small", "when_diagram", "when_finished", "when_text_heavy")


@dataclass(frozen=True, kw_only=True)
class ImageLayer:
    box: Box
    fit: str = "cover"
    padding: int = 0
    matte: str = "$background"


@dataclass(frozen=True, kw_only=True)
class Shape:
    box: Box
    color: str


@dataclass(frozen=True, kw_only=True)
class Scrim:
    color: str = "auto"
    padding: int = 48
    fade: int = 160
    side: str = "top"
    extent: str = "band"
    max_opacity: float = 0.92
    min_opacity: float = 0.0
    busy_opacity: float = 0.0


@dataclass(frozen=True, kw_only=True)
class TextBlock:
    box: Box
    align: str = "start"
    valign: str = "bottom"
    gap: int = 16
    color: str = "auto"
    order: tuple[str, ...] = TEXT_PARTS


@dataclass(frozen=True, kw_only=True)
class TextStyle:
    font: str = "regular"
    size: tuple[int, int] = (24, 32)
    max_lines: int = 2
    line_height: float = 1.25
    color: str | None = None
    format: str | None = None


@dataclass(frozen=True, kw_only=True)
class Logo:
    box: Box
    align: str = "start"


@dataclass(frozen=True, kw_only=True)
class Badge:
    """Where the author line or the category chip goes, when config.yaml turns it on: a
    pill of ``background`` in ``box``, its text ``color`` (``auto``: light or dark)."""

    box: Box
    align: str = "start"
    background: str = "$accent"
    color: str = "auto"


@dataclass(frozen=True, kw_only=True)
class Layout:
    name: str
    description: str
    size: tuple[int, int]
    background: str
    text: TextBlock
    title: TextStyle
    summary: TextStyle | None
    meta: TextStyle | None
    image: ImageLayer | None
    scrim: Scrim | None
    shapes: tuple[Shape, ...]
    logo: Logo | None
    when_no_image: str | None
    when_small: str | None
    when_diagram: str | None
    #: A finished social image (about 1.91:1, full width) and an image that mostly holds
    #: text go to these layouts instead: neither should get a title printed over it.
    when_finished: str | None = None
    when_text_heavy: str | None = None
    #: False for a layout that shows the image alone (``image.yaml``): no text layer at all.
    draw_text: bool = True
    #: Boxes for the author (avatar and name) and the category chip: drawn only when
    #: ``cards.author.show`` / ``cards.chip`` are on.
    author: Badge | None = None
    chip: Badge | None = None
    digest: str = field(compare=False)
    source: Path = field(compare=False)


Data = dict[str, Any]
_ALIGN = ("start", "left", "center", "right")


def _part(schema: Schema, build: Callable[[Data], Any]) -> Field:
    """An optional layer: a mapping read by ``schema`` and built into its dataclass."""
    return Field(then(section(schema), build), default=None)


_STYLE = Schema(
    {
        "font": Field(one_of(*FONT_WEIGHTS)),
        "size": Field(
            pair(6, 400, "must be [smallest, largest] font sizes in px, 6 to 400", ordered=True)
        ),
        "max_lines": Field(whole_number(1, 12)),
        "line_height": Field(fraction(0.8, 3.0)),
        "color": Field(colour(auto=True)),
        "format": Field(text_format),
    }
)


def _style(default: TextStyle) -> Convert:
    return then(section(_STYLE), lambda data: replace(default, **data))


def _boxed(kind: type[Any], **defaults: Any) -> Callable[[Data], Any]:
    """Build ``kind`` from what was read; a missing or wrong box (already reported) is a
    1x1 placeholder, since the layout is refused anyway."""
    return lambda data: kind(**{"box": (0, 0, 1, 1), **defaults, **data})


_BOX = Field(box, required=True, missing=BOX_FIX)
_BADGE = Schema(
    {
        "box": _BOX,
        "align": Field(one_of(*_ALIGN)),
        "background": Field(colour()),
        "color": Field(colour(auto=True)),
    }
)
_SHAPE = Schema(
    {
        "box": _BOX,
        "color": Field(colour(), required=True, missing="required: a colour like #334155"),
    }
)
_TEXT = Schema(
    {
        "box": Field(box),
        "align": Field(one_of(*_ALIGN)),
        "valign": Field(one_of("top", "center", "bottom")),
        "gap": Field(whole_number(0, 400)),
        "color": Field(colour(auto=True)),
        "order": Field(text_order),
    }
)
_LAYOUT = Schema(
    {
        "description": Field(description, default=""),
        "size": Field(pair(16, 8000, "must be [width, height] in px"), default=(1200, 630)),
        "background": Field(colour(), default="$background"),
        **{key: Field(layout_name, default=None) for key in HANDOVERS},
        "draw_text": Field(flag(message="must be true or false"), default=True),
        "image": _part(
            Schema(
                {
                    "box": _BOX,
                    "fit": Field(one_of("cover", "contain")),
                    "padding": Field(whole_number(0, 1000)),
                    "matte": Field(colour()),
                }
            ),
            _boxed(ImageLayer),
        ),
        "shapes": Field(
            items(
                then(section(_SHAPE), _boxed(Shape, color="#000000")),
                message="must be a list of {box, color}",
            ),
            default=(),
        ),
        "scrim": _part(
            Schema(
                {
                    "color": Field(colour(auto=True)),
                    "padding": Field(whole_number(0, 1000)),
                    "fade": Field(whole_number(0, 2000)),
                    "side": Field(one_of("top", "bottom", "left", "right")),
                    "extent": Field(one_of("band", "box")),
                    "max_opacity": Field(fraction(0, 1)),
                    "min_opacity": Field(fraction(0, 1)),
                    "busy_opacity": Field(fraction(0, 1)),
                }
            ),
            lambda data: Scrim(**data),
        ),
        "text": Field(section(_TEXT), default=None),
        "title": Field(_style(TextStyle(font="bold", size=(40, 64), max_lines=3)), default=None),
        "summary": Field(_style(TextStyle()), default=None),
        "meta": Field(
            _style(TextStyle(size=(22, 22), max_lines=1, format="{site} · {date}")), default=None
        ),
        "logo": _part(Schema({"box": _BOX, "align": Field(one_of(*_ALIGN))}), _boxed(Logo)),
        "author": _part(_BADGE, _boxed(Badge, background="$background")),
        "chip": _part(_BADGE, _boxed(Badge, background="$accent")),
    }
)
TOP_KEYS = _LAYOUT.known


def _text_block(values: Data, where: Where) -> TextBlock:
    """The text column; a layout that draws no text needs none (the whole card, unused)."""
    raw = values["text"]
    if raw is None and values["draw_text"]:
        where.key("text").error("required: the text column, like {box: [64, 150, 1072, 424]}")
    data = dict(raw or {})
    if "box" not in data:
        reported = any(p.startswith("text.box:") for p in where.problems)
        if values["draw_text"] and raw is not None and not reported:
            where.key("text.box").error(BOX_FIX)
        size = values["size"]
        data["box"] = (0, 0, size[0], size[1])
    return TextBlock(**data)


def parse_layout(data: Any, name: str, source: Path) -> Layout:
    """Validate one layout's YAML data; raise CardError listing every problem."""
    where = Where()
    values = _LAYOUT.read(data, where)
    text = _text_block(values, where)
    if values["title"] is None and values["draw_text"]:
        where.key("title").error("required: the title's font, size range and max_lines")
    if where.problems:
        file = source.name if source.name else name
        raise CardError("\n".join(f"{file}: {problem}" for problem in where.problems))
    digest = hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    values["text"] = text
    values["title"] = values["title"] or TextStyle(font="bold", size=(40, 64), max_lines=3)
    values["shapes"] = tuple(values["shapes"])
    return Layout(name=name, digest=digest, source=source, **values)


def handovers(layout: Layout) -> tuple[str | None, ...]:
    """The layouts this one may hand a card over to."""
    return tuple(getattr(layout, key) for key in HANDOVERS)


#: PyYAML's safe loader on libyaml, when PyYAML was built with it.
_FAST_LOADER: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)
#: Layouts read in this process, by file, name and the file's stamp: loading the config
#: checks the layouts the stage then loads again (an edited file has another stamp).
_READ: dict[tuple[str, str, Stamp], Layout] = {}


def layout_file(name: str, folders: tuple[Path, ...]) -> Path | None:
    """The first ``<name>.yaml`` in ``folders`` (a site's own folder comes first)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        return None
    for folder in folders:
        path = folder / f"{name}.yaml"
        if path.is_file():
            return path
    return None


def available(folders: tuple[Path, ...]) -> list[str]:
    return sorted({p.stem for folder in folders if folder.is_dir() for p in folder.glob("*.yaml")})


def load_layout(name: str, folders: tuple[Path, ...]) -> Layout:
    """Read and validate the layout called ``name``; CardError when missing or invalid."""
    path = layout_file(name, folders)
    if path is None:
        known = available(folders)
        hint = difflib.get_close_matches(name, known, n=1)
        fix = f"did you mean '{hint[0]}'?" if hint else f"available: {', '.join(known)}"
        raise CardError(f"card layout '{name}' not found; {fix}")
    try:
        key = (str(path), name, stamp_of(path.stat()))
        cached = _READ.get(key)
        if cached is not None:
            return cached
        data = _load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CardError(f"{path.name}: {_yaml_problem(exc)}; fix the file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CardError(f"{path.name}: cannot be read ({exc}); save it as UTF-8 text") from None
    layout = parse_layout(data, name, path)
    if len(_READ) >= 64:
        _READ.clear()
    _READ[key] = layout
    return layout


def _load_yaml(text: str) -> Any:
    """The YAML data of a layout file: by libyaml's parser when PyYAML has it (several
    times faster; the same data), else, and for a file it refuses, by PyYAML's own, whose
    messages say where the problem is."""
    if _FAST_LOADER is not None:
        try:
            return yaml.load(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's message on one line: where, then what (its own text spans several lines)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}not valid YAML ({problem})"


def load_layouts(
    names: tuple[str, ...], folders: tuple[Path, ...]
) -> tuple[dict[str, Layout], list[str]]:
    """Every named layout and the layouts they fall back to; problems for the rest."""
    layouts: dict[str, Layout] = {}
    problems: list[str] = []
    pending = list(names)
    while pending:
        name = pending.pop(0)
        if name in layouts:
            continue
        try:
            layout = load_layout(name, folders)
        except CardError as exc:
            # One problem a line: parse_layout reports every bad key of a file at once.
            problems.extend(p for p in str(exc).splitlines() if p not in problems)
            continue
        layouts[name] = layout
        pending.extend(n for n in handovers(layout) if n)
    return layouts, problems
