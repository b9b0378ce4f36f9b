"""config.yaml validation: every problem at once, with the key path and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import REPO, Site
from publisher.config import Config, ConfigError, SiteAuthor, load_config, parse_config
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


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (
            {"posts": {"default_path": "/blog/"}},
            "posts.default_path: must contain {id}, e.g. /blog/{id}/",
        ),
        (
            {"posts": {"generator": "jekyl"}},
            "posts.generator: unknown generator 'jekyl'; use one of ",
        ),
        ({"posts": {"url": "/{yeer}/{slug}/"}}, "posts.url: unknown token '{yeer}'; use {"),
        ({"posts": {"url": "blog/{slug}/"}}, "posts.url: must be a path starting with '/'"),
        ({"posts": {"glob": ["*.md"]}}, "posts.glob: must be text, not a list"),
        ({"posts": "posts"}, "posts: must be a mapping, not str"),
        ({"state": {"ledger": "mysql://db"}}, "state.ledger: must be a postgresql:// URL"),
        ({"output": {"folder": {"a": 1}}}, "output.folder: must be text, not a mapping"),
        (
            {"announce": {"live_wait": "soon"}},
            "announce.live_wait: must be a number of seconds, not 'soon'",
        ),
        ({"announce": {"live_wait": -1}}, "announce.live_wait: must be 0 or more seconds"),
        (
            {"announce": {"targets": {"kind": "slack"}}},
            "announce.targets: must be a list of targets",
        ),
        ({"announce": {"targets": ["slack"]}}, "announce.targets[0]: must be a mapping, not str"),
        # Each used to be a traceback (a number) or one line per character (text).
        ({"announce": {"targets": 3}}, "announce.targets: must be a list of targets"),
        ({"announce": {"targets": "slack"}}, "announce.targets: must be a list of targets"),
        ({"site": {"title": "T", "url": ["https://x.org"]}}, "site.url: must be text, not a list"),
        ({"site": {"title": "T", "url": 2.5}}, "site.url: '2.5' is not an absolute http(s) URL"),
        ({"site": {"title": "T", "url": ""}}, "site.url: '' is not an absolute http(s) URL"),
        ({"announce": {"targets": [{"name": "x"}]}}, "announce.targets[0].kind: required"),
        ({"cards": ["a"]}, "cards: must be a mapping, not a list"),
        ({"cards": {"enabled": 1}}, "cards.enabled: must be true or false, not 1"),
        ({"feeds": {"limt": 3}}, "feeds.limt: unknown key; did you mean 'limit'?"),
    ],
)
def test_each_section_reports_its_problem_once(extra: dict[str, object], problem: str) -> None:
    found = problems(minimal(**extra))
    assert len(found) == 1, found
    assert found[0].startswith(problem), found


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("  Ann  ", SiteAuthor(name="Ann")),
        (
            {"name": "Ann", "email": "ann@example.org"},
            SiteAuthor(name="Ann", email="ann@example.org"),
        ),
        (None, None),
    ],
)
def test_site_author_is_a_name_or_a_mapping(author: object, expected: SiteAuthor | None) -> None:
    config = parse_config(
        {"site": {"title": "T", "url": "https://x.org", "author": author}}, SOURCE
    )
    assert config.site.author == expected


def test_site_author_problems() -> None:
    site = {"title": "T", "url": "https://x.org"}
    for wrong in (3, "", " ", ["Ann"]):
        assert problems({"site": {**site, "author": wrong}}) == [
            "site.author: must be a name or a mapping with name and email"
        ]
    assert problems({"site": {**site, "author": {"email": "a@x.org", "nmae": "A"}}}) == [
        "site.author.name: required",
        "site.author.nmae: unknown key; did you mean 'name'?",
    ]


def test_values_are_read_into_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_URL", "postgresql://u:p@db/ledger")
    config = parse_config(
        minimal(
            site={
                "title": " T ",
                "url": "https://x.org/",
                "timezone": "Europe/Berlin",
                "language": "de",
            },
            posts={"glob": "*.md", "summary_keys": "excerpt", "default_path": "/b/{id}/"},
            output={"folder": "site"},
            state={"folder": "st", "ledger": "${PG_URL}"},
            feeds={"enabled": False},
            cards={"enabled": False},
            announce={"enabled": False, "live_wait": 5},
        ),
        SOURCE,
    )
    assert (config.site.title, config.site.url, config.site.language) == (
        "T",
        "https://x.org",
        "de",
    )
    assert config.site.tz.key == "Europe/Berlin"
    assert (config.posts.glob, config.posts.summary_keys) == ("*.md", ("excerpt",))
    assert config.posts.default_path == "/b/{id}/"
    assert (config.output, config.state) == (Path("/site/site"), Path("/site/st"))
    assert config.ledger == "postgresql://u:p@db/ledger"
    assert not (config.feeds.enabled or config.cards.enabled or config.announce.enabled)
    assert config.announce.live_wait == 5.0


def test_every_public_name_is_still_importable_from_publisher_config() -> None:
    import publisher.config as package
    from publisher.config import model

    for name in (
        "Config",
        "SiteConfig",
        "SiteAuthor",
        "PostsConfig",
        "TargetConfig",
        "AnnounceConfig",
        "FeedsConfig",
        "CardsConfig",
    ):
        assert getattr(package, name) is getattr(model, name)
    assert package.ConfigError is ConfigError
    assert set(package.__all__) >= {"load_config", "parse_config", "ConfigError"}


def test_email_html_template_is_checked_when_the_config_loads(tmp_path: Path) -> None:
    (tmp_path / "ok.html.j2").write_text("<p>{{ title }}</p>", encoding="utf-8")
    (tmp_path / "broken.html.j2").write_text("<p>{{ title }</p>", encoding="utf-8")
    email = {
        "kind": "email",
        "host": "smtp.example.org",
        "username": "u",
        "password": "${SMTP_PASSWORD}",
        "from": "blog@example.org",
        "to": "list@example.org",
    }

    def load(template: str) -> Config | list[str]:
        data = minimal(announce={"targets": [{**email, "html_template": template}]})
        try:
            return parse_config(data, tmp_path / "config.yaml")
        except ConfigError as exc:
            return exc.problems

    config = load("ok.html.j2")
    assert isinstance(config, Config)
    assert config.announce.targets[0].options["html_template"] == str(tmp_path / "ok.html.j2")
    assert load("missing.html.j2") == [
        "announce.targets[0].html_template: missing.html.j2 does not exist; "
        "fix the path (it is relative to config.yaml)"
    ]
    (problem,) = load("broken.html.j2")
    assert problem.startswith(
        "announce.targets[0].html_template: broken.html.j2:1: template syntax error: "
    )


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "x", "${UNSET_FOR_FUZZ}", "https://x.org", "/{id}/", "slack", "hugo"])
)
_KEYS = st.sampled_from(
    [
        "title",
        "url",
        "kind",
        "name",
        "targets",
        "folder",
        "enabled",
        "template",
        "limit",
        "author",
        "generator",
        "site",
        "ledger",
        "live_wait",
        "path",
        "token",
        "formats",
        "zz",
    ]
)
_YAMLISH = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4)
)
_SECTIONS = ("site", "posts", "output", "state", "feeds", "cards", "announce")


@settings(max_examples=60, deadline=None, derandomize=True)
@example({"announce": {"targets": True}})  # a TypeError in the loader before the schema
@example({"site": {"author": {"name": "A", "email": []}}})  # likewise
@given(
    st.dictionaries(
        st.sampled_from(_SECTIONS), st.dictionaries(_KEYS, _YAMLISH, max_size=4) | _YAMLISH
    )
    | _YAMLISH
)
def test_any_yaml_gives_a_config_or_one_line_problems(data: object) -> None:
    """Whatever the YAML holds: a Config, or ConfigError lines naming where; no traceback."""
    try:
        parse_config(data, SOURCE)
    except ConfigError as exc:
        assert exc.problems
        for line in exc.problems:
            where, _, what = line.partition(": ")
            assert what and "\n" not in line, line
            assert where == "(top level)" or (where and " " not in where), line
