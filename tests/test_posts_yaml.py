"""Frontmatter built by ``fullyaml._construct`` (a direct walk of the YAML nodes, issue
12) is what PyYAML's ``construct_document`` builds: the same values, the same duplicate-key
warnings, the same problems for bad values, tags and depth, and one shared object where
an alias shares a list or mapping. Seeded random documents mix every scalar kind, flow and
block collections, anchors and aliases, merge keys, explicit tags and duplicates.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from publisher.errors import PostError
from publisher.posts import frontmatter, fullyaml


def outcome(text: str, monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[str, Any]:
    try:
        data, warnings = frontmatter.parse(text, "post.md")
    except PostError as exc:
        return "problem", exc.problem
    return "ok", (repr(data), [(w.field, w.message, w.line) for w in warnings])


def reference(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    with monkeypatch.context() as patch:
        patch.setattr(fullyaml, "_construct", lambda loader, node: fullyaml.PYYAML)
        return outcome(text)


SCALARS = (
    "plain text",
    "'quoted: yes'",
    '"esc\\taped \\u00e9"',
    "12",
    "0x1F",
    "1_000",
    "12:30",
    "1.5",
    ".inf",
    "-.NaN",
    "1e3",
    "true",
    "No",
    "off",
    "~",
    "null",
    "",
    "2024-05-01",
    "2024-05-01T17:00:00Z",
    "!!str 12",
    "!!int 1 C",
    "!!float n",
    "!!binary aGk=",
    "!!timestamp 2024-05-01",
    "!custom x",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!python/name:os.system",
    "&s shared",
    "*s",
    "日本語",
)
KEYS = ("title", "date", "tags", "a", "1", "true", "null", "? [x, y]", "? {k: v}")


def value(rng: random.Random, depth: int) -> str:
    roll = rng.random()
    if depth > 3 or roll < 0.55:
        return rng.choice(SCALARS)
    if roll < 0.7:
        return "[" + ", ".join(rng.choice(SCALARS[:18]) for _ in range(rng.randint(0, 4))) + "]"
    if roll < 0.8:
        return "&anchor [" + ", ".join(rng.choice(("a", "b", "1"))) + "]"
    if roll < 0.85:
        return "*anchor"
    if roll < 0.9:
        return "{<<: {m: 1}, n: 2}"
    inner = ", ".join(f"{rng.choice(KEYS[:6])}: {value(rng, depth + 1)}" for _ in range(3))
    return "{" + inner + "}"


def document(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(0, 8)):
        key = rng.choice(KEYS)
        if key.startswith("?"):
            lines.append(f"{key}\n: {value(rng, 0)}")
        elif rng.random() < 0.2:
            lines.append(f"{key}:\n  - {value(rng, 1)}\n  - {value(rng, 1)}")
        else:
            lines.append(f"{key}: {value(rng, 0)}")
    if rng.random() < 0.1:
        lines.append("base: &base {x: 1, y: [1, 2]}\nderived:\n  <<: *base\n  y: 3")
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(4))
def test_random_frontmatter_is_built_as_pyyaml_builds_it(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    kinds = set()
    for _ in range(500):
        text = document(rng)
        got = outcome(text)
        assert got == reference(text, monkeypatch), text
        kinds.add(got[0])
    assert kinds == {"ok", "problem"}


@pytest.mark.parametrize("depth", [10, 200, 499, 503, 700, 999, 1001])
def test_deep_nesting_is_refused_or_read_as_before(
    depth: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for text in (
        "a: " + "[" * depth + "]" * depth,
        "a: " + "{b: " * depth + "1" + "}" * depth,
        "a: " + "[{b: " * (depth // 2) + "1" + "}]" * (depth // 2),
    ):
        assert outcome(text) == reference(text, monkeypatch)


def test_an_alias_keeps_one_shared_list() -> None:
    data, _ = frontmatter.parse("a: &x [1, 2]\nb: *x\n", "post.md")
    assert data["a"] is data["b"]


def test_a_usual_post_takes_the_direct_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("construct_document was used")

    monkeypatch.setattr(fullyaml._Loader, "construct_document", refuse)
    data, _ = frontmatter.parse("title: T\ndate: 2024-05-01\ntags: [a, b]\ndraft: false\n", "p")
    assert data == {"title": "T", "date": "2024-05-01", "tags": ["a", "b"], "draft": False}
