"""Red team for issue 12's sixth session: plain frontmatter resolved without PyYAML's
resolver must read every plain scalar as PyYAML's ``CSafeLoader`` reads it.

YAML 1.1 as PyYAML implements it resolves a plain scalar by regular expressions chosen by
its first character: booleans in 22 spellings (not ``yEs``), nulls (``~``, ``null`` in
three spellings, nothing), ints (``0x``, ``0b``, a leading ``0`` for octal, ``_``
anywhere after the first digit, sexagesimal ``1:30``), floats (a ``.`` required, an
exponent only with its sign, ``.inf``/``.nan`` in three spellings, sexagesimal),
timestamps (text here: the loader drops that resolver), ``<<`` and ``=`` (no constructor:
an error). Its ``[0-9]`` is ASCII only, where ``str.isdigit`` and ``int()`` take any
Unicode digit; its ``$`` also matches before a final line break. Each scalar below is
drawn from those rules and their near misses, and read as a value, a list item (in a
one-line list and in ``- item`` lines) and a key, by ``frontmatter.parse`` with the
shortcut and without it (the loader's general path): the same mapping (types and reprs:
``True`` is not ``1``), the same warnings, the same error line. And both against
PyYAML's ``CSafeLoader`` itself, with the timestamp resolver dropped as the reader drops
it.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
import yaml

from publisher.errors import PostError
from publisher.posts import frontmatter, plainyaml
from publisher.posts.limits import Limits

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Reference(yaml.CSafeLoader):  # type: ignore[misc,name-defined]
    """PyYAML's libyaml loader as the reader configures it: timestamps stay text."""


_Reference.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

#: Unicode digits ``int()`` and ``str.isdigit`` take and YAML's ``[0-9]`` does not:
#: Arabic-Indic, fullwidth, Devanagari, superscript two, a circled one, Roman numeral one.
ODD_DIGITS = "\u0661\u0662\uff11\uff10\u0967\u00b2\u2460\u2170"


def _cased(rng: random.Random, word: str) -> str:
    """``word`` as written (lower, Title, UPPER) or with random case per letter."""
    kind = rng.randrange(4)
    if kind == 0:
        return word.lower()
    if kind == 1:
        return word.title()
    if kind == 2:
        return word.upper()
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in word)


def _digits(rng: random.Random, alphabet: str, most: int = 6) -> str:
    pool = alphabet + "_" * 2 + (ODD_DIGITS if rng.random() < 0.05 else "")
    return "".join(rng.choice(pool) for _ in range(rng.randint(0, most)))


def _sign(rng: random.Random) -> str:
    return rng.choice(("", "", "", "-", "+", "--", "+-"))


def _int(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return _sign(rng) + rng.choice(("0b", "0B", "0b_")) + _digits(rng, "01", 8)
    if kind == 1:
        return (
            _sign(rng) + rng.choice(("0x", "0X", "0x_")) + _digits(rng, "0123456789abcdefABCDEFg")
        )
    if kind == 2:
        return _sign(rng) + rng.choice(("0", "0o", "00", "0_")) + _digits(rng, "012345678")
    if kind == 3:
        parts = [rng.choice("123456789") + _digits(rng, "0123456789", 3)]
        parts += [_digits(rng, "0123456789", 2) for _ in range(rng.randint(1, 3))]
        return _sign(rng) + ":".join(parts)
    if kind == 4:
        return _sign(rng) + rng.choice("0123456789") + _digits(rng, "0123456789")
    return _sign(rng) + "9" * rng.choice((20, 4299, 4301))  # past int()'s digit limit


def _float(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return _sign(rng) + rng.choice(("", ".")) + _cased(rng, rng.choice(("inf", "nan", "in")))
    exponent = ""
    if rng.random() < 0.4:
        exponent = rng.choice("eE") + rng.choice(("", "+", "-", "_")) + _digits(rng, "0123", 3)
    if kind == 1:
        return _sign(rng) + "." + _digits(rng, "0123456789") + exponent
    if kind == 2:
        head = rng.choice(("", "0", "1", "_", "1_")) + _digits(rng, "0123456789", 3)
        return _sign(rng) + head + "." + _digits(rng, "0123456789", 3) + exponent
    if kind == 3:
        minutes = ":".join(_digits(rng, "0123456789", 2) for _ in range(rng.randint(1, 2)))
        return (
            _sign(rng)
            + "1"
            + _digits(rng, "0123456789", 2)
            + ":"
            + minutes
            + "."
            + _digits(rng, "05")
        )
    return _sign(rng) + _digits(rng, "0123456789", 4) + exponent


def _word(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:  # booleans: the 22 spellings, their near misses
        return _cased(
            rng,
            rng.choice(
                ("yes", "no", "true", "false", "on", "off", "y", "n", "ye", "tru", "nope", "onn")
            ),
        )
    if kind == 1:  # nulls
        return rng.choice(("~", "~~", "null", "Null", "NULL", "nULL", "nul", "None", "none", "~x"))
    if kind in (2, 3):
        return _int(rng)
    if kind in (4, 5):
        return _float(rng)
    if kind == 6:  # timestamps: text for this reader
        date = f"{rng.randint(1, 2099):04d}-{rng.randint(1, 13)}-{rng.randint(1, 32):02d}"
        if rng.random() < 0.5:
            date += (
                rng.choice(("T", "t", " ", "  "))
                + f"{rng.randint(0, 25)}:{rng.randint(0, 61):02d}:07"
            )
            date += rng.choice(("", ".5", "Z", " +1", "-05:30", " Z"))
        return date
    if kind == 7:
        return rng.choice(
            (
                "<<",
                "=",
                "<<<",
                "==",
                "<",
                "=x",
                "<<x",
                "<< ",
                ".",
                "._",
                "-.",
                "+",
                "-",
                "_",
                "0_",
                "._1",
            )
        )
    return rng.choice(
        (
            "hello",
            "1.2.3",
            "1,000",
            "1 000",
            "v1.0",
            "3rd",
            "0x",
            "1e3",
            "10%",
            "\u0661\u0662",
            "\uff11\uff12",
        )
    )


def _scalar(rng: random.Random) -> str:
    word = _word(rng).strip(" ")
    return word or "x"


def _canonical(value: Any) -> Any:
    """``value`` with its types kept (``True`` is not ``1``, ``1.0`` is not ``1``, every
    NaN the same)."""
    if isinstance(value, dict):
        return ("dict", [(_canonical(k), _canonical(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_canonical(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, repr(value))


def _parsed(text: str) -> Any:
    try:
        mapping, warnings = frontmatter.parse(text, "post.md", 2, Limits())
    except PostError as exc:
        return ("error", exc.problem)
    return _canonical(mapping), warnings


def _reference(text: str) -> Any:
    """What PyYAML's CSafeLoader makes of ``text`` (``error`` when it refuses it)."""
    try:
        data = yaml.load(text, Loader=_Reference)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, OverflowError):
        return "error"
    if not isinstance(data, dict):
        return "error"
    try:
        return _canonical({str(k): v for k, v in data.items()})  # the reader's top keys
    except ValueError:  # str() of an int past the digit limit
        return "error"


def _documents(rng: random.Random, word: str) -> list[str]:
    other = _scalar(rng)
    return [
        f"k: {word}",
        f"k: [{word}, {other}]",
        f"k:\n  - {word}\n  - {other}",
        f"{word}: x",
        f"title: t\nk: {word}\nn: {other}",
    ]


def _general(monkeypatch: pytest.MonkeyPatch, text: str) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(plainyaml, "read", lambda *args, **kwargs: None)
        return _parsed(text)


@pytest.mark.parametrize("seed", range(3))
def test_plain_scalars_read_as_pyyaml_reads_them(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    answered = 0
    read = plainyaml.read

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal answered
        found = read(*args, **kwargs)
        answered += found is not None
        return found

    for _ in range(1200):
        word = _scalar(rng)
        for text in _documents(rng, word):
            monkeypatch.setattr(plainyaml, "read", counted)
            fast = _parsed(text)
            monkeypatch.setattr(plainyaml, "read", read)
            assert fast == _general(monkeypatch, text), repr(text)
            if fast[0] != "error":
                assert fast[0] == _reference(text), repr(text)
            else:
                assert _reference(text) == "error" or "Duplicate" in str(fast), repr(text)
    assert answered >= 2000  # the shortcut answered most of them, or this tests nothing
