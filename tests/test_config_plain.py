"""Plain ``config.yaml`` read without PyYAML (``config/plainconfig.py``, issue 12) against
``yaml.safe_load``, which the loader calls for every config the reader leaves to it.

On seeded random configs made from a small grammar (block mappings and lists nested at
every indentation, ``- key: value`` items, ``- - x``, one-line flow collections nested in
each other, keys YAML reads as other types, repeated keys, plain values in every YAML 1.1
spelling, dates, quoted text with ``#``, ``:``, ``''``, escapes, emoji and ``${VAR}``,
comments, blank lines, trailing spaces, CRLF, a BOM, and what the reader leaves to PyYAML:
anchors, tags, block scalars, values over two lines, tabs, markers), whenever the reader
answers its answer must be safe_load's: equal, of the same type at every level, keys in
the same order. And it must answer most of them, and the configs this repository writes.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import FEEDS_CONFIG, REPO
from publisher.config import plainconfig

KEYS = (
    *("title", "url", "folder", "enabled", "kind", "name", "targets", "tags", "summary_keys"),
    *("live_wait", "og-image", "_x", "a1", "timezone", "backfill", "formats", "limit"),
    *("yes", "no", "on", "Off", "y", "null", "~", "12", "1.5", "<<", "true", "2024-01-01"),
    *("'quoted'", '"dq"', "key with space", "ключ", "x:y", "-k", "?k", "k#", "&a k", "!t k"),
)
#: Values the reader answers (with the keys before "yes" in KEYS).
USUAL = (
    *("Hello world", "Lantern Blog", "UTC", "Europe/Berlin", "public", ".publisher", "rss"),
    *("https://blog.example.org", "/blog/{id}/", "*/index.md", "outbox.jsonl", "${SLACK_URL}"),
    *("true", "false", "3", "0", "2.5", "null", "'${TOKEN}'", '"a: b"', "'it''s'", "C#"),
)
PLAIN = (
    *USUAL[:11],
    *("yes", "no", "on", "off", "y", "n", "Y", "NO", "True", "false", "~", "null", "Null"),
    *("0x1F", "0o17", "017", "08", "1_000", "1:30", "190:20:30", ".inf", "-.inf", ".NaN"),
    *("-.5", "1e3", "1.0e+3", "+1", "0.", "-1", "12", "0", "-0", "+.5", "1.5", "0b101"),
    *("2024-05-01", "2024-05-01T17:00:00Z", "2001-12-14 21:59:43.10 -5", "1995-1-2"),
    *("a - b", "a-b", "it's", "AT&T", "a, b", "a [b] c", "{x}", "x}", "100%", "a  b"),
    *("日本語のタイトル", "emoji 🎉", "naïve café", "a:b", "a#b", "C#", "-x", "-", "--"),
    *("---", "...", "a: b", "a:", "&anchor a", "*alias", "!tag a", "!!str 1", "|", ">"),
    *("%x", "@x", "`x`", "?x", "? x", ":x", "=", "<<", "a\tb", "a\u00a0b", "a\u2028b"),
)
QUOTED = (
    *("'single'", "'it''s'", "'a: b # c'", "' padded '", "''", "'日本 🎉'", "'${TOKEN}'"),
    *("'#'", "'yes'", "'12'", "'a'''", "''''", "'a\tb'", "'open", "'a' b", "'a'#c"),
    *('"double"', '"a: b"', '"esc \\n"', '"q \\" q"', '""', '"a # b"', '"x\\u0041"'),
    *('"${SLACK_URL}"', '"it\'s"', '"a', '"yes"', '"2024-05-01"'),
)
COMMENTS = ("", " # note", "  #c", "#c", "  ", " ", "\t", " #", " # a\x01b", " # a\x85b: c")


class Grammar:
    """Random configs; ``hard`` is how often a choice may be an odd one (an odd key or
    separator, a line the reader leaves to PyYAML), ``values`` how often a value is drawn
    from every spelling rather than the usual ones."""

    def __init__(self, rng: random.Random, hard: float, values: float) -> None:
        self.rng = rng
        self.hard = hard
        self.values = values

    def odd(self) -> bool:
        return self.rng.random() < self.hard

    def pick(self, usual: tuple[str, ...], every: tuple[str, ...]) -> str:
        return self.rng.choice(every if self.odd() else usual)

    def config(self) -> str:
        rng = self.rng
        lines = self.mapping(2 if self.odd() else 0, 0)
        text = "\n".join(lines) + rng.choice(("\n", "\n", "", "\n\n"))
        if rng.random() < 0.05:
            text = text.replace("\n", "\r\n")
        if rng.random() < 0.03:
            text = "\ufeff" + text
        return text

    def key(self, used: list[str]) -> str:
        if used and self.rng.random() < self.hard / 4:
            return self.rng.choice(used)  # repeated
        if self.odd():
            return self.rng.choice(KEYS)
        return self.rng.choice([k for k in KEYS[:17] if k not in used])

    def value(self) -> str:
        if self.rng.random() < self.values:
            return self.rng.choice(PLAIN if self.rng.random() < 0.7 else QUOTED)
        return self.rng.choice(USUAL)

    def scalar(self) -> str:
        return self.flow(0) if self.rng.random() < 0.25 else self.value()

    def flow(self, depth: int) -> str:
        """A one-line ``[...]`` or ``{...}``, sometimes broken."""
        rng = self.rng
        mapping = rng.random() < 0.45
        words = []
        used: list[str] = []
        for _ in range(rng.choice((0, 1, 2, 2, 3))):
            value = self.flow(depth + 1) if depth < 2 and rng.random() < 0.15 else self.value()
            if mapping:
                used.append(self.key(used))
                value = used[-1] + self.pick((": ",), (": ", ":", " : ", ":  ")) + value
            words.append(value)
        comma = self.pick((", ", ","), (", ", ",", " , ", ",  ", ",,"))
        inner = comma.join(words) + self.pick(("",), ("", ",", ", ", " "))
        pad = self.pick(("",), ("", " ", "  "))
        opening, closing = "{}" if mapping else "[]"
        if self.odd() and rng.random() < 0.2:
            closing = rng.choice(("", "]", "}", "] x", "]#c"))
        return opening + pad + inner + pad + closing

    def mapping(self, indent: int, depth: int) -> list[str]:
        lines: list[str] = []
        used: list[str] = []
        for _ in range(self.rng.randint(1, 4)):
            name = self.key(used)
            used.append(name)
            lines += self.noise(indent)
            lines += self.entry(" " * indent + name, indent, depth, indentless=True)
        return lines

    def sequence(self, indent: int, depth: int) -> list[str]:
        rng = self.rng
        lines: list[str] = []
        for _ in range(rng.randint(1, 3)):
            lines += self.noise(indent)
            dash = " " * indent + self.pick(("- ",), ("- ", "-  ", "-", "-   "))
            kind = rng.random()
            if kind < 0.35 and depth < 3:
                # "- key: value" and the keys below it, at the column after the dash
                if not dash.endswith(" "):
                    dash += " "
                inner = self.mapping(len(dash), depth + 1)
                column = len(dash) + (rng.choice((-1, 1)) if self.odd() else 0)
                if inner[0].startswith(" " * column) and inner[0].strip():
                    lines.append(dash + inner[0][column:])
                    lines += inner[1:]
                else:
                    lines += [dash.rstrip(" "), *inner]
            elif kind < 0.42 and depth < 3:
                inner = self.sequence(len(dash) + (not dash.endswith(" ")), depth + 1)
                lines.append(dash.rstrip(" ") + " " + inner[0].lstrip(" "))
                lines += inner[1:]
            else:
                lines += self.entry(dash.rstrip(" "), indent, depth, indentless=False, dash=True)
        return lines

    def entry(
        self, head: str, indent: int, depth: int, *, indentless: bool, dash: bool = False
    ) -> list[str]:
        """``head`` (a key, or a dash) with its value: on the line, or below it."""
        rng = self.rng
        separator = " " if dash else self.pick((": ",), (": ", ":  ", ":", " : ", ":\t"))
        comment = self.pick(("", "", "", " # note", "  "), COMMENTS)
        kind = rng.random()
        if kind < 0.55 or depth >= 3:
            return [head + separator + self.scalar() + comment, *self.continuation(indent)]
        header = (head if dash else head + ":") + comment
        if kind < 0.62:
            return [header]  # null, or what the caller's next line makes of it
        below = max(0, indent + (rng.choice((0, 1, 3, 4, -1)) if self.odd() else 2))
        if rng.random() < 0.5:
            if indentless and rng.random() < 0.4:
                below = indent
            return [header, *self.sequence(below, depth + 1)]
        return [header, *self.mapping(below, depth + 1)]

    def continuation(self, indent: int) -> list[str]:
        """Now and then, a line that carries the value on (or breaks the document)."""
        if not self.odd() or self.rng.random() > 0.2:
            return []
        return [
            " " * (indent + self.rng.choice((1, 2, 4)))
            + self.rng.choice(("more", "# c", "x: y", "- z"))
        ]

    def noise(self, indent: int) -> list[str]:
        """Lines that say nothing to YAML, or what the reader leaves to PyYAML."""
        rng = self.rng
        if rng.random() < 0.8:
            return []
        if not self.odd():
            return [rng.choice(("", "   ", "# comment", "  # indented", " " * indent + "#"))]
        return [rng.choice(ODD_LINES).replace("\n", "\n" + " " * indent)]


#: Lines the reader leaves to PyYAML (a document marker, an anchor, a block scalar...).
ODD_LINES = (
    *("---", "...", "%YAML 1.1", "anchored: &a x", "alias: *a", "tagged: !!str 12"),
    *("block: |\n  text", "folded: >-\n  text", "\ttabbed: x", "? complex", "odd: 'one\n  two'"),
)


def random_config(rng: random.Random) -> str:
    hard = rng.choice((0.0, 0.02, 0.05, 0.15, 0.4))
    return Grammar(rng, hard, rng.choice((0.05, 0.2, 0.5))).config()


def typed(value: Any) -> Any:
    """``value`` with each type spelled out (True is not 1, 1.0 is not 1, nan is itself)
    and each mapping's keys in their order."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    return (type(value).__name__, repr(value))


def safe_load(text: str) -> Any:
    try:
        return typed(yaml.safe_load(text))
    except Exception as exc:  # what PyYAML refuses: the reader must not answer
        return ("refused", type(exc).__name__)


@pytest.mark.parametrize("seed", range(4))
def test_plain_configs_read_as_safe_load_reads_them(seed: int) -> None:
    rng = random.Random(seed)
    answered = documents = 0
    for _ in range(800):
        text = random_config(rng)
        fast = plainconfig.read(text)
        documents += 1
        if fast is None:
            continue
        answered += 1
        assert typed(fast) == safe_load(text), repr(text)
    # Half of the documents hold something the reader leaves to PyYAML; it must still
    # answer the rest, or this tests little.
    print(f"seed {seed}: answered {answered} of {documents}", file=sys.stderr)
    assert answered >= documents // 4


#: What a mutation inserts: the characters and runs YAML's structure turns on.
MUTATIONS = (*" :-#'\"[]{},\nx1?&*!|>.", "  ", "- ", ": ", " #", "\n  ", "\n- ")


@pytest.mark.parametrize("seed", range(2))
def test_mutated_configs_read_as_safe_load_reads_them(seed: int) -> None:
    # Random configs with a few characters inserted or deleted anywhere: shapes the
    # grammar does not write (a colon glued to a quote, a bracket left open, a dash
    # mid-line). Of those the reader answers, safe_load must say the same.
    rng = random.Random(100 + seed)
    answered = 0
    for _ in range(1000):
        text = random_config(rng)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            if rng.random() < 0.6:
                text = text[:at] + rng.choice(MUTATIONS) + text[at:]
            else:
                text = text[:at] + text[at + rng.randint(1, 3) :]
        fast = plainconfig.read(text)
        if fast is not None:
            answered += 1
            assert typed(fast) == safe_load(text), repr(text)
    assert answered >= 100


#: Configs to hold exactly: every shape a plain config is written in, and the hard values.
SAMPLES = (
    "site:\n  title: Blog\n  url: https://blog.example.org\n",
    "a:\n- x\n- y\nb: 1\n",
    "a:\n  - x: 1\n    y: [a, 'b', {c: d}]\n  -   z: 2\n      w:\n      - 3\n",
    "targets:\n  - kind: slack\n    url: ${SLACK_WEBHOOK_URL}\n  -\n    kind: outbox\n",
    "a: - - x\n",
    "x:\n  - - a\n    - b\n  - - c\n",
    "a: [yes, no, on, off, y, n, ~, null, Null, 0x1F, 0o17, 017, 1_000, 1:30, .inf]\n",
    "a: [-.5, 1e3, +1, 0., .NaN, -0, 0b101, 08, 190:20:30]\n",
    "a: 'it''s # not a comment: really'  # a comment\nb: \"${X} \U0001f389\"\n",
    "a: 2024-05-01\n",
    "a: [1, 2024-05-01]\n",
    "a: {b: 2001-12-14 21:59:43.10 -5}\n",
    "a: x\n  b\n",
    "a: 'x\n  y'\n",
    "a: &x 1\nb: *x\n",
    "a: 1\na: 2\n",
    "a: [b, [c, {d: [e]}], {}, []]\n",
    "a: {b: c,}\n",
    "a: [b,]\n",
    "a: [,]\n",
    "a: {b: }\n",
    "a: {b:c}\n",
    "a: [b: c]\n",
    "a: [http://x:8080/y]\n",
    "a: b # c\n  # deeper comment\nd: e\n",
    "\ufeffa: 1\r\nb: 2\r\n",
    "a:\tb\n",
    "  a: 1\n  b: 2\n",
    "  a: 1\nb: 2\n",
    "a:\n    b: 1\n  c: 2\n",
    "a: 1\n- b\n",
    "- a\n- b\n",
    'a: "x\\ny"\n',
    "yes: 1\n",
    "a: 1 # c\nb:  # c\n  c: d\n",
    "- a:\n  - x\n- b\n",
    "x:\n- a:\n  - x\n- b\n",
    "a: ---\nb: ...\nc:\n- ---\n",
    "# a\x01b\na: 1\n",
    "a: 1 # b\x85c: 2\n",
    "k" * 1024 + ": 1\n",  # PyYAML's longest simple key
    "k" * 1025 + ": 1\n",
    "a: {" + "k" * 1025 + ": 1}\n",
)


@pytest.mark.parametrize("text", SAMPLES)
def test_each_sample_reads_as_safe_load_reads_it(text: str) -> None:
    fast = plainconfig.read(text)
    if fast is not None:
        assert typed(fast) == safe_load(text)


def test_the_usual_configs_are_answered() -> None:
    from bench.bench_naive import CONFIG as BENCH_CONFIG

    configs = {
        "config.yaml": (REPO / "config.yaml").read_text(encoding="utf-8-sig"),
        "the bench's": BENCH_CONFIG,
        "FEEDS_CONFIG": FEEDS_CONFIG,
    }
    for name, text in configs.items():
        fast = plainconfig.read(text)
        assert fast is not None, name
        assert typed(fast) == safe_load(text), name
    # What the README documents: a target's secret as ${VAR}, nested sections.
    text = (
        "site:\n  title: Lantern Blog\n  url: https://lantern.example.org\n"
        "  author: {name: Ann, email: ann@example.org}\n"
        "announce:\n  live_wait: 2.5\n  targets:\n"
        "    - kind: slack\n      name: team-chat\n      url: ${SLACK_WEBHOOK_URL}\n"
        "    - kind: mastodon\n      instance: https://mastodon.social\n"
        "      token: ${MASTODON_TOKEN}\n      max_per_run: 3\n"
    )
    assert typed(plainconfig.read(text)) == safe_load(text)


def test_what_is_left_to_pyyaml() -> None:
    left = (
        "a: 2024-05-01\n",  # safe_load makes a date
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |\n  text\n",
        "a: x\n  y\n",
        "a: 1\na: 2\n",
        "a:\tb\n",
        "---\na: 1\n",
        'a: "x\\ny"\n',
        "- a\n",
        "",
        "# only a comment\n",
    )
    for text in left:
        assert plainconfig.read(text) is None, text


def test_examples_are_read_alike() -> None:
    for path in sorted(Path(REPO, "examples").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8-sig")
        fast = plainconfig.read(text)
        if fast is not None:
            assert typed(fast) == safe_load(text), path.name
