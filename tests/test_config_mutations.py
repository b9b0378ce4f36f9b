"""Broken config.yaml files through ``publish check``: one clear line, never a traceback.

A full config (every section, four kinds of target, secrets as ``${ENV}``) is mutated one
key at a time: the value replaced by null, a list, a mapping, a number, a boolean, empty
text, a date or an unset ``${ENV}`` reference; the key deleted; an unknown key added beside
it. Each mutant goes through the console entry point. Whatever the mutant, the run ends 0,
2 or 3, never with a traceback, and each config error line starts with the dotted path of
the key it is about. This is the table the refactor of issue 15 was checked against (old
and new ``publish check`` on the same mutants); the cases it found are pinned below.
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from cli_run import publish

from conftest import Site

BASE: dict[str, Any] = {
    "site": {
        "title": "Lantern Blog",
        "url": "https://lantern.example.org",
        "description": "News",
        "language": "en",
        "timezone": "UTC",
        "author": {"name": "The Lantern Team", "email": "team@lantern.example.org"},
    },
    "posts": {
        "folder": "posts",
        "glob": "*/index.md",
        "summary_keys": ["ogSummary", "description"],
        "default_path": "/blog/{id}/",
    },
    "output": {"folder": "public"},
    "state": {"folder": "state"},
    "feeds": {"enabled": True},
    "cards": {"enabled": False, "layout": "hero", "remote": {"enabled": False}},
    "announce": {
        "enabled": True,
        "live_wait": 0,
        "targets": [
            {"kind": "outbox", "name": "outbox", "path": "outbox.jsonl", "backfill": 3},
            {
                "kind": "mastodon",
                "name": "fosstodon",
                "instance": "https://fosstodon.org",
                "token": "${MASTODON_TOKEN}",
                "visibility": "public",
            },
            {"kind": "slack", "name": "team", "url": "${SLACK_URL}", "categories": ["releases"]},
            {"kind": "webhook", "name": "hook", "url": "${HOOK_URL}", "secret": "${HOOK_SECRET}"},
        ],
    },
}

ENV = {
    "PATH": "/usr/bin:/bin",
    "MASTODON_TOKEN": "tok-abcdef123456",
    "SLACK_URL": "https://hooks.slack.com/services/T0/B0/XYZSECRET",
    "HOOK_URL": "https://hooks.example.org/x",
    "HOOK_SECRET": "whsec-abcdef0123456789",
}

VALUES: dict[str, Any] = {
    "null": None,
    "list": [1, "a"],
    "mapping": {"x": 1},
    "number": -3,
    "boolean": True,
    "empty": "",
    "date": datetime.date(2020, 1, 1),
    "unset-env": "${V15_UNSET_VARIABLE}",
}

Key = str | int
#: A config error line: the dotted path (``announce.targets[2].url``), then what is wrong.
ERROR_LINE = re.compile(r"^config error: (\(top level\)|[a-z_]+(\.[a-z_]+|\[\d+\])*): \S")


def _keys(node: Any, path: tuple[Key, ...] = ()) -> Iterator[tuple[Key, ...]]:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield (*path, key)
        if isinstance(value, dict | list):
            yield from _keys(value, (*path, key))


def _parent(doc: Any, path: tuple[Key, ...]) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


def _dotted(path: tuple[Key, ...]) -> str:
    """``("announce", "targets", 2)`` as the messages write it: ``announce.targets[2]``."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else f".{key}" if text else key
    return text


Mutant = tuple[str, dict[str, Any]]


def _mutants() -> Iterator[tuple[str, Mutant]]:
    """Each mutant with the path its problem must be reported under (the mutated key's parent)."""
    for path in _keys(BASE):
        name, parent = _dotted(path), _dotted(path[:-1])
        for label, value in VALUES.items():
            doc = copy.deepcopy(BASE)
            _parent(doc, path)[path[-1]] = copy.deepcopy(value)
            yield f"{name}={label}", (parent, doc)
        doc = copy.deepcopy(BASE)
        del _parent(doc, path)[path[-1]]
        yield f"{name} deleted", (parent, doc)
        if isinstance(_parent(BASE, path)[path[-1]], dict):
            doc = copy.deepcopy(BASE)
            _parent(doc, path)[path[-1]]["colour_scheme"] = 1
            yield f"{name} + unknown key", (name, doc)


MUTANTS = dict(_mutants())


@pytest.fixture(scope="module")
def one_post_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = Site(tmp_path_factory.mktemp("mutants"))
    site.post("a", "title: A\ndate: 2024-01-02\ncategories: [releases]", "Hello.\n")
    return site


def test_the_table_is_large_enough() -> None:
    # Issue 15's done-when asks for 200+ broken configs.
    assert len(MUTANTS) > 400


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_a_broken_config_is_one_clear_line_per_problem(mutant: str, one_post_site: Site) -> None:
    where, doc = MUTANTS[mutant]
    config = one_post_site.root / "config.yaml"
    config.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    result = publish("--config", str(config), "check", cwd=one_post_site.root, env=ENV)
    assert "Traceback" not in result.stderr, result.stderr
    # 3: the config loaded and the check found a problem in what it would write (a
    # site.author.email that is a number reaches the RSS lint as "-3 (name)").
    assert result.returncode in (0, 2, 3), result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("config error")]
    for line in errors:
        assert ERROR_LINE.match(line), line
    if errors:
        # The problem is reported where it is: under the mutated key's parent (or the key).
        assert any(line.startswith(f"config error: {where}") for line in errors), errors
    if mutant.endswith("+ unknown key"):
        assert f"config error: {where}.colour_scheme: unknown key" in result.stderr


@pytest.mark.parametrize("title", ["", "   "])
def test_an_empty_site_title_is_a_config_error_not_a_feedgen_traceback(
    title: str, site: Site
) -> None:
    # Before: feedgen raised "Required fields not set (title)" from the feed lint.
    site.post("a", "title: A\ndate: 2024-01-02")
    site.config(f"site:\n  title: '{title}'\n  url: https://blog.example.org\n")
    result = publish("check", cwd=site.root)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        "config error: site.title: must be the site's name as non-empty text, "
        "e.g. title: Lantern Blog"
    ) in result.stderr


@pytest.mark.parametrize("glob", ["", "/srv/blog/*/index.md"])
def test_an_empty_or_absolute_posts_glob_is_a_config_error(glob: str, site: Site) -> None:
    # Before: pathlib's ValueError ("Unacceptable pattern") or NotImplementedError escaped.
    site.config(
        f"site:\n  title: T\n  url: https://blog.example.org\nposts:\n  folder: posts\n"
        f"  glob: '{glob}'\n"
    )
    result = publish("check", cwd=site.root)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        "config error: posts.glob: must be a pattern relative to posts.folder, e.g. */index.md"
    ) in result.stderr
