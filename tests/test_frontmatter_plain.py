"""Plain ``key: value`` frontmatter read without libyaml (``posts/plainyaml.py``, issue 12)
against PyYAML, its general path.

On seeded random documents of keys YAML reads as other types (``yes``, ``null``, ``12``),
repeated keys, plain words, numbers in every YAML 1.1 spelling, booleans, nulls, dates,
URLs, quoted text with colons, hashes, escapes and quotes, one-line lists, empty values,
indented and commented lines, tabs, indicators and odd characters (CJK, U+0085, U+2028,
U+00A0, a BOM, controls), ``frontmatter.parse`` must return the same mapping (types
included), warnings and errors with the shortcut as without it, and the shortcut must
answer for most of them (or it tests nothing).
"""

from __future__ import annotations

import random

import pytest

from publisher.errors import PostError
from publisher.posts import frontmatter, fullyaml, plainyaml
from publisher.posts.limits import Limits

KEYS = (
    *("title", "date", "tags", "ogImage", "draft", "description", "og-image", "_x", "a1"),
    *("yes", "no", "on", "off", "y", "n", "null", "true", "False", "12", "1.5", "~", "<<"),
    *("title", "title", "Title", "key with space", "ключ", "x:y", "-k", "?k", "k#"),
)
PLAIN = (
    *("Hello world", "Probe cluster proxy", "2024-05-01", "2024-05-01T17:00:00Z", "1995-1-2"),
    *("12", "-3", "+4", "0x1F", "0o17", "017", "0b101", "1_000", "1:30", "190:20:30", "1.5"),
    *("1e3", "1.0e+3", ".5", "-.inf", ".NaN", "1.2.3", "yes", "No", "ON", "off", "y", "n"),
    *("true", "False", "null", "~", "Null", "=", "<<", "-", "a - b", "a-b", "it's", "AT&T"),
    *("a, b", "a [b] c", "{x}", "x}", "a ]", "100%", "50 % off", "a  b", "日本語のタイトル"),
    *("emoji 🎉", "naïve café", "a\u00a0b", "a\u0085b", "a\u2028b", "\ufeffa", "a\x01b"),
    *("a\tb", "https://example.org/x", "a:b", "a: b", "a #b", "a#b", "cover.png", "./x.png"),
    *("&anchor a", "*alias", "!tag a", "!!str 1", "|", ">", "'", '"', "%x", "@x", "`x`", "?x"),
)
QUOTED = (
    *("'single'", "'it''s'", "'a: b # c'", "' padded '", "''", "'日本'", "'a\tb'", "'a\x85b'"),
    *('"double"', '"a: b"', '"esc \\n"', '"q \\" q"', '""', '"a # b"', '"x\\u0041"', "'a"),
)
LISTS = (
    *("[]", "[a]", "[a, b]", "[a,b]", "[ a , b ]", "[a b, c]", "[1, yes, null, ~, 1.5]"),
    *("[a,]", "[, a]", "[a, [b]]", "[a: b]", "[-1]", "[a, 'b']", "[a", "[a] x", "[日本, 한국]"),
)


#: What most posts hold: keys that are strings, values the shortcut reads.
USUAL = (
    *("title: Hello world", "date: 2024-05-01", "tags: [a, b]", "ogImage: cover.png"),
    *("draft: true", "description: 'A: b'", 'summary: "x # y"', "weight: 12", "tags: []"),
    *("title: 日本語のタイトル", "categories: [Mesh, eBPF]", "title: Hello  world  "),
    *(
        "url: /:section/:year/:month/:slug/",
        "date: 2026-01-05T10:30:00",
        "canonical: https://a.org/",
    ),
    *("tags:\n  - a\n  - b", "categories:\n- Mesh\n- 'eBPF: deep'", "summary:", "lang: C#"),
)


#: Lines of a list below a "key:" line, and what breaks one.
ITEMS = (
    *("  - Community", "  - 'quoted: text'", '  - "Say \\"hi\\""', "- flush left", "   - deeper"),
    *("  - a: b", "  - a:", "  -", "  - ", "  - [x]", "  - # c", "  -  spaced", "\t- tab"),
    *("  - - nested", "  - yes", "  - 12", "  - ~", "  - 2024-05-01T10:30:00", "  -x", "    x"),
    *("  - https://a.org/x", "  - C#", "  - a #b", "  - 日本"),
)


def random_line(rng: random.Random) -> str:
    if rng.random() < 0.12:
        key = rng.choice(("tags", "categories", "authors", "yes", "x:y"))
        header = key + rng.choice((":", ":", ": ", ":  ", ": # c"))
        return "\n".join([header, *rng.choices(ITEMS, k=rng.randint(0, 4))])
    if rng.random() < 0.75:
        return rng.choice(USUAL)
    kind = rng.random()
    if kind < 0.06:
        return rng.choice(("", "   ", "\t", "# comment", "  indented: x", "- item", "..."))
    key = rng.choice(KEYS)
    value = rng.choice((PLAIN, PLAIN, QUOTED, LISTS))
    separator = rng.choice((": ", ": ", ": ", ":  ", ":", ":\t"))
    tail = rng.choice(("", "", "", "  ", " # note", "\t"))
    if rng.random() < 0.04:
        return key + ":"
    return key + separator + rng.choice(value) + tail


def random_document(rng: random.Random) -> str:
    return "\n".join(random_line(rng) for _ in range(rng.randint(1, 7))) + rng.choice(("", "\n"))


def outcome(text: str, limits: Limits) -> object:
    try:
        mapping, warnings = frontmatter.parse(text, "post.md", 2, limits)
    except PostError as exc:
        return exc.problem
    return repr(mapping), warnings  # repr: True is not 1, 1.0 is not 1, nan is itself


@pytest.mark.parametrize("seed", range(4))
def test_plain_frontmatter_reads_as_pyyaml_reads_it(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    limits = Limits()
    read = plainyaml.read
    answered = 0

    def counted(*args: object) -> object:
        nonlocal answered
        found = read(*args)  # type: ignore[arg-type]
        answered += found is not None
        return found

    for _ in range(1500):
        text = random_document(rng)
        monkeypatch.setattr(plainyaml, "read", counted)
        fast = outcome(text, limits)
        monkeypatch.setattr(plainyaml, "read", lambda *args: None)
        assert fast == outcome(text, limits), repr(text)
    assert answered >= 300


def test_the_caps_are_left_to_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "tags: [" + ", ".join(f"t{i}" for i in range(50)) + "]\ntitle: " + "x" * 300
    for limits in (Limits(frontmatter_values=40), Limits(frontmatter_expanded_chars=200)):
        assert plainyaml.read(text, 40, 200) is None
        fast = outcome(text, limits)
        monkeypatch.setattr(plainyaml, "read", lambda *args: None)
        assert isinstance(fast, type(outcome(text, limits)))
        assert fast == outcome(text, limits)
        monkeypatch.undo()


def test_every_value_and_key_alone_reads_as_pyyaml_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limits = Limits()
    lines = [f"title: {v}" for v in (*PLAIN, *QUOTED, *LISTS)]
    lines += [f"{k}: x" for k in KEYS] + [f"x: {v}  " for v in PLAIN]
    for line in lines:
        fast = outcome(line, limits)
        monkeypatch.setattr(plainyaml, "read", lambda *args: None)
        assert fast == outcome(line, limits), repr(line)
        monkeypatch.undo()


def test_generator_constructors_are_kept_as_inspect_tells_them() -> None:
    # fullyaml wraps PyYAML's constructors in its error check, all but the generators
    # (which build a mapping or list in two steps); it tells them apart without inspect.
    import inspect

    import yaml

    mapping = fullyaml.DEFAULT_MAPPING_TAG  # frontmatter's own, never wrapped
    kept = {
        tag
        for tag, construct in fullyaml._Loader.yaml_constructors.items()
        if construct is yaml.SafeLoader.yaml_constructors[tag] and tag != mapping
    }
    generators = {
        tag
        for tag, construct in yaml.SafeLoader.yaml_constructors.items()
        if inspect.isgeneratorfunction(construct)
    }
    assert generators and kept == (generators | {None}) - {mapping}


#: Pieces of plain words: every character PyYAML's implicit resolvers look at.
PIECES = (
    *"0123456789_:.-+eExXbBoO~<=!&*aAnNyYtTfF",
    *("0x", "0b", "0o", "1_0", "60", "59", "inf", "Inf", "INF", "nan", "NaN", "NAN"),
    *("yes", "Yes", "YES", "no", "No", "on", "ON", "off", "Off", "true", "True", "FALSE"),
    *("null", "Null", "NULL", "1e3", "e+", "e-", "<<", "1:", ":5", "9" * 30),
)


def pyyaml_value(word: str) -> object:
    """What frontmatter's PyYAML loader makes of the plain scalar ``word``; "refused" for
    what it refuses (it then says why) or makes no value of."""
    import yaml

    loader = fullyaml._RESOLVER
    tag = loader.resolve(yaml.ScalarNode, word, (True, False))
    if tag == "tag:yaml.org,2002:str":
        return word
    construct = loader.yaml_constructors.get(tag)
    if construct is None:
        return "refused"
    try:
        return construct(loader, yaml.ScalarNode(tag, word))
    except yaml.YAMLError:
        return "refused"


def own_value(word: str) -> object:
    try:
        return plainyaml.plain_value(word)
    except plainyaml.NotPlain:
        return "refused"


@pytest.mark.parametrize("seed", range(3))
def test_plain_scalars_resolve_as_pyyaml_resolves_them(seed: int) -> None:
    # plainyaml's own resolver (so a plain build imports no PyYAML) against PyYAML's, on
    # seeded random words built of what its YAML 1.1 resolvers look at.
    rng = random.Random(seed)
    kinds: dict[str, int] = {}
    for _ in range(30_000):
        word = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))
        expected = pyyaml_value(word)
        assert repr(own_value(word)) == repr(expected), word
        kind = "refused" if expected == "refused" else type(expected).__name__
        kinds[kind] = kinds.get(kind, 0) + 1
        assert plainyaml.string_key(word) == (
            bool(plainyaml._KEY(word)) and expected == word and type(expected) is str
        )
    # Every kind is reached, or the words test too little.
    assert set(kinds) == {"str", "int", "float", "bool", "NoneType", "refused"}, kinds
    assert min(kinds.values()) >= 30, kinds


def test_the_usual_plain_scalars() -> None:
    words = ("yes", "No", "0x1F", "-0b101", "017", "1:30", "190:20:30", "~", ".inf", "-.INF")
    words += (".NaN", "1_000", "1.5e+3", "1.", "+.5", "null", "<<", "=", "0b", "2024-05-01")
    for word in words:
        assert repr(own_value(word)) == repr(pyyaml_value(word)), word
    assert (
        own_value("1:30") == 90
        and own_value("0x1F") == 31
        and own_value("2024-05-01") == ("2024-05-01")
    )
