"""publisher.schema: every problem at once, one line each, with the path and the fix."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.schema import (
    MISSING,
    Field,
    Invalid,
    Schema,
    Where,
    choice,
    did_you_mean,
    flag,
    integer,
    items,
    kind,
    number,
    secret,
    section,
    strings,
    text,
    then,
    url,
)
from publisher.secret import Secret


def read(schema: Schema, raw: Any, path: str = "top") -> tuple[dict[str, Any], list[str]]:
    where = Where(path)
    return schema.read(raw, where), where.problems


AUTHOR = Schema({"name": Field(text(), required=True), "email": Field(text())})
SITE = Schema(
    {
        "title": Field(text(), required=True),
        "url": Field(url("https://blog.example.org"), required=True),
        "language": Field(text(), default="en"),
        "draft": Field(flag(), default=False),
        "limit": Field(integer(1), default=20, null=True),
        "ratio": Field(number(0.5, 2.0), default=1.0),
        "visibility": Field(choice("public", "unlisted"), default="public"),
        "keys": Field(strings(), default=("a",)),
        "author": Field(section(AUTHOR)),
        "targets": Field(items(section(AUTHOR)), default=()),
    }
)


def test_valid_input_is_converted_and_defaults_fill_the_rest() -> None:
    values, problems = read(
        SITE,
        {
            "title": "  Blog ",
            "url": "https://b.example/",
            "keys": "one",
            "author": {"name": "Ann"},
            "targets": [{"name": "x", "email": "x@example.org"}],
        },
    )
    assert problems == []
    assert values == {
        "title": "Blog",
        "url": "https://b.example",
        "language": "en",
        "draft": False,
        "limit": 20,
        "ratio": 1.0,
        "visibility": "public",
        "keys": ("one",),
        "author": {"name": "Ann"},
        "targets": ({"name": "x", "email": "x@example.org"},),
    }


def test_every_problem_is_reported_at_once_with_its_path_and_fix() -> None:
    values, problems = read(
        SITE,
        {
            "url": "blog.example.org",
            "draft": "yes",
            "limit": 0,
            "ratio": 3,
            "visibility": "everyone",
            "keys": [1],
            "author": {"nmae": "A"},
            "targets": [{"name": "ok"}, "text", {"email": []}],
            "titel": "T",
        },
    )
    assert problems == [
        "top.title: required",
        "top.url: 'blog.example.org' is not an absolute http(s) URL; "
        "write it like https://blog.example.org",
        "top.draft: must be true or false, not 'yes'",
        "top.limit: must be a whole number of at least 1, not 0",
        "top.ratio: must be a number from 0.5 to 2.0, not 3",
        "top.visibility: must be one of public, unlisted, not 'everyone'",
        "top.keys: must be a list of text values",
        "top.author.name: required",
        "top.author.nmae: unknown key; did you mean 'name'?",
        "top.targets[1]: must be a mapping, not str",
        "top.targets[2].name: required",
        "top.targets[2].email: must be text, not a list",
        "top.titel: unknown key; did you mean 'title'?",
    ]
    # Wrong values fall back to their defaults, so a caller can still build its options.
    assert values["draft"] is False and values["limit"] == 20 and values["ratio"] == 1.0
    assert "title" not in values


def test_null_means_absent_unless_the_field_keeps_null() -> None:
    base = {"title": "T", "url": "https://x.example", "author": {"name": "A"}}
    values, problems = read(SITE, {**base, "limit": None})
    assert problems == [] and values["limit"] is None
    values, _ = read(SITE, {**base, "language": None})
    assert values["language"] == "en"
    # An absent or empty section is read as empty: its required keys are still asked for.
    assert read(SITE, {**base, "author": None})[1] == ["top.author.name: required"]


def test_missing_default_leaves_the_key_out() -> None:
    schema = Schema({"a": Field(integer()), "b": Field(integer(), default=MISSING)})
    values, problems = read(schema, {"b": "x"})
    assert values == {}
    assert problems == ["top.b: must be a whole number, not 'x'"]


def test_not_a_mapping() -> None:
    assert read(SITE, ["a"], path="")[1][0] == "(top level): must be a mapping, not a list"
    assert read(AUTHOR, None)[1] == ["top.name: required"]
    assert kind(None) == "empty" and kind({}) == "a mapping" and kind(3) == "int"


def test_did_you_mean_or_the_list_of_keys() -> None:
    assert did_you_mean("titel", ("url", "title")) == "did you mean 'title'?"
    assert did_you_mean("zzz", ["url", "title"]) == "known keys: title, url"
    _, problems = read(AUTHOR, {"name": "A", "zzz": 1})
    assert problems == ["top.zzz: unknown key; known keys: email, name"]


def test_also_keys_are_allowed_but_not_read() -> None:
    schema = Schema({"a": Field(text())}, also=("kind",))
    assert read(schema, {"kind": "x", "a": "y"}) == ({"a": "y"}, [])
    assert schema.known == ("a", "kind")


def test_renamed_keys_still_work_with_a_warning() -> None:
    schema = Schema({"max_per_run": Field(integer(1))}, renamed={"limit": "max_per_run"})
    where = Where("t")
    assert schema.read({"limit": 3}, where) == {"max_per_run": 3}
    assert where.problems == []
    assert where.warnings == ["t.limit: is now called 'max_per_run'; rename it"]
    _, problems = read(schema, {"limit": 3, "max_per_run": 4})
    assert problems == [
        "top.limit: is the old name of 'max_per_run', which is also set; remove 'limit'"
    ]


def test_removed_keys_say_what_to_do_instead() -> None:
    schema = Schema({"a": Field(text())}, removed={"xslt": "feeds are no longer styled"})
    assert read(schema, {"xslt": True})[1] == [
        "top.xslt: is no longer used; feeds are no longer styled"
    ]


def test_to_and_merge_map_nested_spellings_onto_flat_names() -> None:
    fonts = Schema({"bold": Field(text(), to="font_bold"), "regular": Field(text())})
    schema = Schema({"fonts": Field(section(fonts), merge=True), "width": Field(integer())})
    assert read(schema, {"fonts": {"bold": "B.otf"}, "width": 3}) == (
        {"font_bold": "B.otf", "width": 3},
        [],
    )
    assert read(schema, {"fonts": {"bolt": "B"}})[1] == [
        "top.fonts.bolt: unknown key; did you mean 'bold'?"
    ]


def test_environment_references(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_URL", "https://env.example/")
    schema = Schema({"url": Field(url()), "name": Field(text()), "token": Field(secret())})
    monkeypatch.setenv("TOKEN", "s3cr3t")
    values, problems = read(
        schema, {"url": "${SITE_URL}", "name": "a ${SITE_URL}", "token": "${TOKEN}"}
    )
    assert problems == []
    assert values["url"] == "https://env.example"
    assert values["name"] == "a https://env.example/"
    assert values["token"] == Secret("TOKEN", None) and values["token"].value == "s3cr3t"
    assert "s3cr3t" not in repr(values)
    monkeypatch.delenv("SITE_URL")
    assert read(schema, {"url": "${SITE_URL}"})[1] == [
        "top.url: environment variable SITE_URL is not set; export it"
    ]


def test_secrets_are_never_literal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNSET_TOKEN", raising=False)
    schema = Schema(
        {"token": Field(secret(), required=True, missing="required (write it as ${ENV_VAR})")}
    )
    values, problems = read(schema, {"token": "${UNSET_TOKEN}"})
    assert problems == [] and values["token"].value is None
    _, problems = read(schema, {"token": "abc123"})
    assert problems == [
        "top.token: secrets are not written in config.yaml; write it as ${ENV_VAR} "
        "and set that variable in the environment"
    ]
    assert "abc123" not in problems[0]
    assert read(schema, {})[1] == ["top.token: required (write it as ${ENV_VAR})"]


def test_custom_messages_and_checks() -> None:
    def even(value: int) -> int:
        if value % 2:
            raise Invalid(f"{value} is odd; use an even number such as {value + 1}")
        return value

    schema = Schema(
        {
            "n": Field(then(integer(), even)),
            "size": Field(integer(6, 400, message="must be a font size in px, 6 to 400")),
            "fit": Field(choice("cover", "contain", message=lambda v: f"{v!r} is not a fit")),
            "seconds": Field(number(above=0)),
            "name": Field(text(nonempty=True)),
            "flag": Field(flag(message="say true or false")),
        }
    )
    _, problems = read(
        schema, {"n": 3, "size": 2, "fit": "fill", "seconds": 0, "name": " ", "flag": 1}
    )
    assert problems == [
        "top.n: 3 is odd; use an even number such as 4",
        "top.size: must be a font size in px, 6 to 400",
        "top.fit: 'fill' is not a fit",
        "top.seconds: must be a number above 0, not 0",
        "top.name: must be non-empty text",
        "top.flag: say true or false",
    ]
    assert read(schema, {"n": 4, "seconds": 2})[0] == {"n": 4, "seconds": 2.0}


def test_booleans_are_not_numbers_and_numbers_are_text() -> None:
    schema = Schema({"n": Field(integer()), "x": Field(number()), "t": Field(text())})
    _, problems = read(schema, {"n": True, "x": False, "t": False})
    assert len(problems) == 3
    assert read(schema, {"t": 2024})[0] == {"t": "2024"}


def test_where_paths() -> None:
    where = Where("announce.targets")
    assert where.index(2).key("url").path == "announce.targets[2].url"
    assert where.index(2).key("url").name == "url"
    assert Where().key("site").path == "site"


def test_importing_the_schema_is_cheap() -> None:
    # The build must stay fast: the schema pulls in no validation framework.
    code = "import sys, publisher.schema; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'msgspec', 'attrs', 'yaml')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["title", "url", "name", "email", "keys", "x"]), inner, max_size=4
        )
    ),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.dictionaries(st.sampled_from([*SITE.fields, "titel"]), _VALUES) | _VALUES)
def test_read_never_raises_and_every_problem_names_its_place(raw: Any) -> None:
    values, problems = read(SITE, raw)
    assert isinstance(values, dict)
    for line in problems:
        assert line.startswith("top") and ": " in line and "\n" not in line, line
    assert set(values) <= set(SITE.fields)
