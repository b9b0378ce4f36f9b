"""parse_target_options: per-kind keys, the literal-secret rule, every problem at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from publisher.announce import kinds, parse_target_options
from publisher.announce.registry import BUILTINS, announcer_class
from publisher.secret import Secret


def test_every_builtin_kind_is_registered() -> None:
    assert set(BUILTINS) <= set(kinds())
    for kind in BUILTINS:
        cls = announcer_class(kind)
        assert cls.kind == kind
        assert cls.limit.max > 0
        assert isinstance(cls.idempotent, bool)


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK", "https://hooks.slack.com/services/T/B/abcdefgh")
    options, problems = parse_target_options("slack", {"kind": "slack", "url": "${HOOK}"})
    assert problems == []
    assert options["url"] == Secret("HOOK", None)
    assert options["url"].value == "https://hooks.slack.com/services/T/B/abcdefgh"
    assert "abcdefgh" not in repr(options)


@pytest.mark.parametrize(
    ("kind", "raw", "key"),
    [
        ("slack", {"url": "https://hooks.slack.com/services/T/B/secret"}, "url"),
        ("mastodon", {"instance": "https://m.example", "token": "abc123"}, "token"),
        (
            "bluesky",
            {"handle": "me.example", "app_password": "aaaa-bbbb-cccc-dddd"},
            "app_password",
        ),
        ("webhook", {"url": "${X}", "secret": "whsec_abc"}, "secret"),
    ],
)
def test_literal_secrets_are_refused(kind: str, raw: dict[str, str], key: str) -> None:
    _, problems = parse_target_options(kind, {"kind": kind, **raw}, where="announce.targets[2]")
    assert any(
        p.startswith(f"announce.targets[2].{key}: secrets are not written in config.yaml")
        for p in problems
    )


def test_every_problem_is_reported_at_once() -> None:
    raw = {
        "kind": "mastodon",
        "instance": "not a url",
        "visibility": "everyone",
        "max_per_run": 0,
        "max_age": "soon",
        "link_posts": "yes",
        "tokn": "${T}",
    }
    _, problems = parse_target_options("mastodon", raw, where="announce.targets[0]")
    text = "\n".join(problems)
    for expected in (
        "announce.targets[0].instance: 'not a url' is not an absolute http(s) URL",
        "announce.targets[0].token: required",
        "announce.targets[0].visibility: must be one of public, unlisted, private, direct",
        "announce.targets[0].max_per_run: must be a whole number of at least 1",
        "announce.targets[0].max_age: 'soon' is not a duration",
        "announce.targets[0].link_posts: must be true or false",
        "announce.targets[0].tokn: unknown key; did you mean 'token'?",
    ):
        assert expected in text, text


def test_defaults_and_durations() -> None:
    options, problems = parse_target_options(
        "outbox", {"kind": "outbox", "path": "out.jsonl", "max_age": "12h"}
    )
    assert problems == []
    assert options["max_age"] == timedelta(hours=12)
    assert options["max_per_run"] == 5
    assert options["require_live"] is False  # the outbox needs no live page
    options, _ = parse_target_options(
        "slack", {"kind": "slack", "url": "${X}", "categories": "news"}
    )
    assert options["require_live"] is True
    assert options["categories"] == ["news"]


def test_unknown_kind() -> None:
    _, problems = parse_target_options("mastadon", {})
    assert problems == [
        "announce.targets[0].kind: unknown kind 'mastadon'; did you mean 'mastodon'?"
    ]


def test_deadline_and_retry_time() -> None:
    base = {"kind": "outbox", "path": "out.jsonl"}
    options, problems = parse_target_options("outbox", base)
    assert problems == [] and options["deadline"] is None and options["retry_time"] == 60.0
    options, problems = parse_target_options("outbox", {**base, "deadline": 300, "retry_time": 5})
    assert problems == [] and options["deadline"] == 300.0 and options["retry_time"] == 5.0
    for bad in (0, -1, "soon", True):
        _, problems = parse_target_options("outbox", {**base, "deadline": bad})
        assert len(problems) == 1, bad
        assert problems[0].startswith("announce.targets[0].deadline: must be a number of seconds")


OUTBOX = {"kind": "outbox", "path": "out.jsonl"}


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"backfill": -1}, "backfill: must be a whole number (0 for none), not -1"),
        ({"timeout": 0}, "timeout: must be a number of seconds above 0, not 0"),
        ({"categories": [1]}, "categories: must be a list of text values"),
        ({"require_live": "no"}, "require_live: must be true or false, not 'no'"),
        ({"template": {"a": 1}}, "template: must be text, not a mapping"),
        ({"max_per_run": 1.5}, "max_per_run: must be a whole number of at least 1, not 1.5"),
    ],
)
def test_each_option_kind_has_its_message(extra: dict[str, object], problem: str) -> None:
    _, problems = parse_target_options("outbox", {**OUTBOX, **extra})
    assert problems == [f"announce.targets[0].{problem}"]


def test_values_by_kind_of_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOM", "!abc:example.org")
    monkeypatch.delenv("UNSET_ROOM", raising=False)
    base = {"kind": "matrix", "homeserver": "https://m.example/", "token": "${T}"}
    options, problems = parse_target_options(
        "matrix", {**base, "room_id": "${ROOM}", "timeout": 3, "tags": ["a", " ", "b "]}
    )
    assert problems == []
    assert options["homeserver"] == "https://m.example"
    assert options["room_id"] == "!abc:example.org"
    assert options["timeout"] == 3.0 and isinstance(options["timeout"], float)
    assert options["tags"] == ["a", "b"]
    assert options["msgtype"] == "m.notice" and options["link_posts"] is True
    # A plain option's unset variable reads as nothing here: `check` runs without secrets.
    options, problems = parse_target_options("matrix", {**base, "room_id": "${UNSET_ROOM}"})
    assert problems == [] and options["room_id"] == ""


def test_chat_id_is_text() -> None:
    raw = {"kind": "telegram", "token": "${T}"}
    options, problems = parse_target_options("telegram", {**raw, "chat_id": -100123})
    assert problems == [] and options["chat_id"] == "-100123"
    _, problems = parse_target_options("telegram", {**raw, "chat_id": True})
    assert problems == [
        "announce.targets[0].chat_id: must be a chat id like -1001234567890 "
        "or a channel name like @mychannel"
    ]


def test_unknown_kind_without_a_close_match_lists_the_kinds() -> None:
    _, problems = parse_target_options("zzzzzz", {})
    assert problems[0].startswith("announce.targets[0].kind: unknown kind 'zzzzzz'; use one of ")
    assert "slack" in problems[0]
