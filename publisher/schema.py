"""One small declarative option schema for config.yaml, card layouts and adapter options.

A :class:`Schema` maps each key of a YAML mapping to a :class:`Field` (converter, default,
required, destination). ``Schema.read(raw, where)`` never raises for bad input: it returns
the values it could read (defaults where a value was wrong) and appends every problem to
``where.problems`` as ``dotted.path[index].key: what is wrong; how to fix it``. Unknown
keys get the one "did you mean" hint of the code base, written here.

A converter is a callable ``(value, where) -> value`` raising :class:`Invalid` ("what is
wrong; how to fix it"); a nested one reports its own problems through ``where``. Factories:
:func:`text`, :func:`flag`, :func:`integer`, :func:`number`, :func:`choice`,
:func:`strings`, :func:`url`, :func:`secret`, :func:`items`, :func:`section`, :func:`then`.

In-house, not pydantic v2 or msgspec: pydantic's import costs more than the whole config
stage and its messages name types, not fixes, with no "did you mean"; msgspec imports fast
but stops at the first problem. Both would still need this wording layer on top.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from publisher.dataclass import dataclass, field
from publisher.secret import ENV_REF, Secret


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: "No default": a key that is absent (or wrong) is left out of the result, so the
#: dataclass built from it keeps its own default.
MISSING: Final[Any] = _Missing()


class Invalid(ValueError):
    """Raised by a converter: ``str(exc)`` is "what is wrong; how to fix it"."""


@dataclass(frozen=True)
class Where:
    """A place in the YAML document, and the lists its problems and warnings go to."""

    path: str = ""
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The last key of the path (``rss_path`` for ``feeds.rss_path``)."""
        return self.path.rsplit(".", 1)[-1]

    def key(self, name: str) -> Where:
        return Where(f"{self.path}.{name}" if self.path else name, self.problems, self.warnings)

    def index(self, number: int) -> Where:
        return Where(f"{self.path}[{number}]", self.problems, self.warnings)

    def error(self, message: str) -> None:
        self.problems.append(f"{self.path or '(top level)'}: {message}")

    def warn(self, message: str) -> None:
        self.warnings.append(f"{self.path or '(top level)'}: {message}")


Convert = Callable[[Any, Where], Any]
#: A fixed message, or one made from the wrong value.
Message = str | Callable[[Any], str]


@dataclass(frozen=True)
class Field:
    """How one key is read.

    ``default`` is used when the key is absent, null or wrong (``MISSING``: leave it out).
    ``required``: absence is a problem, reported as ``missing``. ``null``: an explicit
    null is kept as None (``limit: null`` = no limit) instead of meaning "absent".
    ``to``: the name in the result, when it differs from the key. ``merge``: the field is
    a :func:`section` whose values are merged into this level's result (nested spellings
    of flat options, like ``cards.fonts.bold`` -> ``font_bold``). ``always``: the
    converter also runs for an absent or null key, with None (a section read elsewhere).
    """

    convert: Convert
    default: Any = MISSING
    required: bool = False
    null: bool = False
    to: str | None = None
    merge: bool = False
    missing: str = "required"
    always: bool = False


@dataclass(frozen=True)
class Schema:
    """The keys of one mapping.

    ``also``: keys that are allowed here but read by someone else (``kind`` of a target).
    ``renamed``: old key -> new key; the old spelling still works, with a warning.
    ``removed``: key -> how to do without it; the key is reported as a problem.
    """

    fields: Mapping[str, Field]
    also: tuple[str, ...] = ()
    renamed: Mapping[str, str] = field(default_factory=dict)
    removed: Mapping[str, str] = field(default_factory=dict)

    @property
    def known(self) -> tuple[str, ...]:
        """Every key a user may write here (old spellings excluded), sorted."""
        return tuple(sorted({*self.fields, *self.also}))

    def read(self, raw: Any, where: Where) -> dict[str, Any]:
        """Convert ``raw`` (a mapping, or None for empty); report every problem to ``where``."""
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            # One line for the whole mapping, not one more per required key inside it.
            where.error(f"must be a mapping, not {kind(raw)}")
            return self.read({}, Where(where.path))
        data = self._renamed(raw, where)
        values: dict[str, Any] = {}
        for key, spec in self.fields.items():
            _read_field(key, spec, data.get(key), key in data, where, values)
        self._unknown(raw, where)
        return values

    def _renamed(self, raw: Mapping[Any, Any], where: Where) -> dict[str, Any]:
        data = {str(k): v for k, v in raw.items()}
        for old, new in self.renamed.items():
            if old not in data:
                continue
            if new in data:  # two values for one option: the user must choose
                where.key(old).error(
                    f"is the old name of '{new}', which is also set; remove '{old}'"
                )
            else:
                where.key(old).warn(f"is now called '{new}'; rename it")
                data[new] = data[old]
            del data[old]
        return data

    def _unknown(self, raw: Mapping[Any, Any], where: Where) -> None:
        for key in raw:
            name = str(key)
            if name in self.fields or name in self.also or name in self.renamed:
                continue
            if name in self.removed:
                where.key(name).error(f"is no longer used; {self.removed[name]}")
            else:
                where.key(name).error(f"unknown key; {did_you_mean(name, self.known)}")


def _read_field(
    key: str, spec: Field, value: Any, present: bool, where: Where, values: dict[str, Any]
) -> None:
    at = where.key(key)
    target = spec.to or key
    if value is None and isinstance(spec.convert, _Section):
        value = {}  # an empty section still gets its defaults and its required keys
    if value is None and not spec.always:
        if present and spec.null:
            values[target] = None
        elif spec.required:
            at.error(spec.missing)
        elif spec.default is not MISSING:
            values[target] = spec.default
        return
    try:
        result = spec.convert(value, at)
    except Invalid as exc:
        at.error(str(exc))
        if spec.default is not MISSING:
            values[target] = spec.default
        return
    if spec.merge and isinstance(result, dict):
        values.update(result)
    else:
        values[target] = result


def did_you_mean(key: str, known: tuple[str, ...] | list[str], otherwise: str = "") -> str:
    """The fix for an unknown ``key``: the closest known key, else ``otherwise`` (or all)."""
    import difflib  # here: only a config with an unknown key needs it (~1 ms to import)

    ordered = sorted(known)
    hint = difflib.get_close_matches(key, ordered, n=1)
    return (
        f"did you mean '{hint[0]}'?" if hint else otherwise or f"known keys: {', '.join(ordered)}"
    )


def kind(value: Any) -> str:
    """How a YAML value is named in a message: "a mapping", "a list", "empty", "int"."""
    return {dict: "a mapping", list: "a list", type(None): "empty"}.get(
        type(value), type(value).__name__
    )


def _invalid(message: Message | None, value: Any, usual: str) -> Invalid:
    """The converter's own ``message`` if it was given one, else the usual wording."""
    if message is None:
        return Invalid(usual)
    return Invalid(message(value) if callable(message) else message)


def expand_env(value: str, where: Where) -> str:
    """``${NAME}`` replaced by the environment variable; an unset one is a problem."""

    def sub(match: Any) -> str:
        name = str(match.group(1))
        if name not in os.environ:
            where.error(f"environment variable {name} is not set; export it")
            return ""
        return os.environ[name]

    return ENV_REF.sub(sub, value)


def text(*, message: Message | None = None, nonempty: bool = False, env: bool = True) -> Convert:
    """Text (a YAML number is read as its text), stripped; ``${ENV}`` expanded if ``env``."""

    def convert(value: Any, where: Where) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _invalid(message, value, f"must be text, not {kind(value)}")
        result = (expand_env(str(value), where) if env else str(value)).strip()
        if nonempty and not result:
            raise _invalid(message, value, "must be non-empty text")
        return result

    return convert


def flag(*, message: Message | None = None) -> Convert:
    """``true`` or ``false``; YAML's ``yes``/``no`` are text here, and refused."""

    def convert(value: Any, where: Where) -> bool:
        if isinstance(value, bool):
            return value
        raise _invalid(message, value, f"must be true or false, not {value!r}")

    return convert


def _range_words(low: float | None, high: float | None, noun: str) -> str:
    if low is not None and high is not None:
        return f"must be {noun} from {low} to {high}"
    at_least = f" of at least {low}" if low is not None else ""
    return f"must be {noun}{at_least or (f' of at most {high}' if high is not None else '')}"


def integer(
    low: int | None = None, high: int | None = None, *, message: Message | None = None
) -> Convert:
    """A whole number within ``[low, high]`` (either end may be open)."""

    def convert(value: Any, where: Where) -> int:
        whole = isinstance(value, int) and not isinstance(value, bool)
        if whole and (low is None or value >= low) and (high is None or value <= high):
            return int(value)
        raise _invalid(
            message, value, f"{_range_words(low, high, 'a whole number')}, not {value!r}"
        )

    return convert


def number(
    low: float | None = None,
    high: float | None = None,
    *,
    above: float | None = None,
    message: Message | None = None,
) -> Convert:
    """A number within ``[low, high]``, or strictly over ``above``; returned as a float."""

    def convert(value: Any, where: Where) -> float:
        fits = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and (low is None or value >= low)
            and (high is None or value <= high)
            and (above is None or value > above)
        )
        if fits:
            return float(value)
        words = f"must be a number above {above}" if above is not None else ""
        words = words or _range_words(low, high, "a number")
        raise _invalid(message, value, f"{words}, not {value!r}")

    return convert


def choice(*options: str, message: Message | None = None) -> Convert:
    """One of ``options``, exactly as written."""

    def convert(value: Any, where: Where) -> str:
        if isinstance(value, str) and value in options:
            return value
        raise _invalid(message, value, f"must be one of {', '.join(options)}, not {value!r}")

    return convert


def strings(*, message: Message | None = None) -> Convert:
    """A list of text values (one value alone counts as a list of one), stripped, blanks
    dropped; returned as a tuple."""

    def convert(value: Any, where: Where) -> tuple[str, ...]:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _invalid(message, value, "must be a list of text values")
        return tuple(v.strip() for v in values if v.strip())

    return convert


def url(example: str = "https://example.org", *, env: bool = True) -> Convert:
    """An absolute http(s) URL, stripped and without a trailing slash."""

    def convert(value: Any, where: Where) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise Invalid(f"must be text, not {kind(value)}")
        written = str(value).strip()
        if env:
            reported = len(where.problems)
            written = expand_env(written, where).strip()
            if len(where.problems) > reported:
                return ""  # the unset variable is the problem, already reported
        parts = urlsplit(written)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Invalid(f"{written!r} is not an absolute http(s) URL; write it like {example}")
        return written.rstrip("/")

    return convert


def secret() -> Convert:
    """A credential, written only as ``${ENV_VAR}``; an unset variable is not a problem
    here (the value is None), because ``check`` runs where the secrets are not set."""

    def convert(value: Any, where: Where) -> Secret:
        match = ENV_REF.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise Invalid(
                "secrets are not written in config.yaml; write it as ${ENV_VAR} "
                "and set that variable in the environment"
            )
        return Secret(match.group(1), os.environ.get(match.group(1)))

    return convert


def items(convert: Convert, *, message: Message | None = None) -> Convert:
    """A list whose every item goes through ``convert`` at ``path[i]``; a wrong item is
    reported and left out, the others are kept."""

    def convert_list(value: Any, where: Where) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise _invalid(message, value, f"must be a list, not {kind(value)}")
        result = []
        for number_, item in enumerate(value):
            at = where.index(number_)
            try:
                result.append(convert(item, at))
            except Invalid as exc:
                at.error(str(exc))
        return tuple(result)

    return convert_list


@dataclass(frozen=True)
class _Section:
    schema: Schema

    def __call__(self, value: Any, where: Where) -> dict[str, Any]:
        return self.schema.read(value, where)


def section(schema: Schema) -> Convert:
    """A nested mapping read by ``schema``; absent or null is read as empty, so its
    defaults apply and its required keys are reported."""
    return _Section(schema)


def then(convert: Convert, *checks: Callable[[Any], Any]) -> Convert:
    """``convert``, then each check on its result: it returns the value or raises Invalid."""

    def chained(value: Any, where: Where) -> Any:
        result = convert(value, where)
        for check in checks:
            result = check(result)
        return result

    return chained
