"""config.yaml validation: every problem at once, with the key path and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, Site
from publisher.config import ConfigError, load_config, parse_config
from publisher.secret import Secret

SOURCE = Path("/site/config.yaml")


def problems(data: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, SOURCE)
    return caught.value.problems


def minimal(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {"site": {"title": "T", "url": "https://example.org/"}}
    data.update(extra)
    return data


def test_minimal_config_has_defaults() -> None:
    config = parse_config(minimal(), SOURCE)
    assert config.site.url == "https://example.org"
    assert config.site.timezone == "UTC"
    assert config.site.language == "en"
    assert config.posts.folder == Path("/site/posts")
    assert config.posts.glob == "*/index.md"
    assert config.posts.summary_keys == ("ogSummary", "description")
    assert config.output == Path("/site/public")
    assert config.announce.targets == ()


def test_every_problem_is_reported_at_once() -> None:
    data = {
        "site": {"titel": "T", "url": "blog.example.org", "timezone": "Mars/Olympus"},
        "posts": {"folder": "posts", "summary_keys": 3},
        "feeds": {"enabled": "yes"},
        "announce": {
            "targets": [
                {"kind": "outbox", "path": "outbox.jsonl"},
                {"kind": "slack"},
                {"kind": "mastodn"},
            ]
        },
        "outptu": {},
    }
    assert problems(data) == [
        "site.url: 'blog.example.org' is not an absolute http(s) URL; write it like https://blog.example.org",
        "site.timezone: unknown time zone 'Mars/Olympus'; use an IANA name like Europe/Berlin or UTC",
        "site.title: required",
        "site.titel: unknown key; did you mean 'title'?",
        "posts.summary_keys: must be a list of text values",
        "feeds.enabled: must be true or false, not 'yes'",
        "announce.targets[1].url: required (write it as ${ENV_VAR})",
        "announce.targets[2].kind: unknown kind 'mastodn'; did you mean 'mastodon'?",
        "outptu: unknown key; did you mean 'output'?",
    ]


def test_top_level_must_be_a_mapping() -> None:
    assert problems(["a"])[0] == "(top level): must be a mapping, not a list"


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK", "https://hooks.example.invalid/T000/B000/abcdef")
    config = parse_config(
        minimal(announce={"targets": [{"kind": "slack", "url": "${SLACK_WEBHOOK}"}]}), SOURCE
    )
    secret = config.announce.targets[0].options["url"]
    assert isinstance(secret, Secret)
    assert secret.value == "https://hooks.example.invalid/T000/B000/abcdef"
    assert "abcdef" not in repr(config)
    assert str(secret) == "${SLACK_WEBHOOK}"


def test_unset_secret_is_not_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE", raising=False)
    config = parse_config(
        minimal(announce={"targets": [{"kind": "discord", "url": "${NOPE}"}]}), SOURCE
    )
    secret = config.announce.targets[0].options["url"]
    assert isinstance(secret, Secret) and secret.value is None


def test_literal_secret_is_refused() -> None:
    found = problems(
        minimal(announce={"targets": [{"kind": "slack", "url": "https://hooks.example.invalid/x"}]})
    )
    assert found == [
        "announce.targets[0].url: secrets are not written in config.yaml; write it as ${ENV_VAR} "
        "and set that variable in the environment"
    ]
    assert "hooks.example.invalid" not in found[0]


def test_env_reference_in_plain_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_URL", "https://from-env.example.org")
    assert parse_config({"site": {"title": "T", "url": "${SITE_URL}"}}, SOURCE).site.url == (
        "https://from-env.example.org"
    )
    monkeypatch.delenv("SITE_URL")
    assert problems({"site": {"title": "T", "url": "${SITE_URL}"}})[0] == (
        "site.url: environment variable SITE_URL is not set; export it"
    )


def test_duplicate_target_names() -> None:
    found = problems(
        minimal(
            announce={
                "targets": [
                    {"kind": "outbox", "path": "a.jsonl"},
                    {"kind": "outbox", "path": "b.jsonl"},
                ]
            }
        )
    )
    assert found == [
        "announce.targets[1].name: 'outbox' is used by another target; give each target its own name"
    ]


def test_load_config_reports_yaml_syntax_with_line(site: Site) -> None:
    site.config("site:\n  title: T\n  url: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_config(site.config_path)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(f"{site.config_path}:4: not valid YAML")


def test_load_config_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml")
    assert "no such file; pass --config FILE or create config.yaml" in caught.value.problems[0]


def test_missing_posts_folder(site: Site) -> None:
    site.config("site:\n  title: T\n  url: https://x.org\nposts:\n  folder: nowhere\n")
    with pytest.raises(ConfigError) as caught:
        load_config(site.config_path)
    assert caught.value.problems[0].startswith("posts.folder: '")
    assert caught.value.problems[0].endswith(
        "is not a folder; point it at the folder that holds the posts"
    )


def test_shipped_config_is_valid() -> None:
    config = load_config(REPO / "config.yaml")
    assert config.posts.folder == (REPO / "examples" / "blog" / "posts").resolve()
    assert config.site.url.startswith("https://")
