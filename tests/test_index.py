"""``posts.json``'s literal text (``publisher/index.py``): laid out from an index of two
posts, it is the text rendering every mark would give, for any count and site."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import BASE_CONFIG
from publisher import index, jsontext
from publisher.config import load_config
from publisher.output import OutputWriter
from publisher.posts.model import Author, Post
from publisher.splicing import template


@pytest.mark.parametrize("title", ["Blog", 'A "quoted" t\u00eftle \u2603 \\ / \x7f', ""])
def test_the_literals_are_those_of_every_mark_rendered(tmp_path: Path, title: str) -> None:
    (tmp_path / "config.yaml").write_text(BASE_CONFIG, encoding="utf-8")
    (tmp_path / "posts").mkdir()
    config = load_config(tmp_path / "config.yaml")
    config = replace(config, site=replace(config.site, title=title))

    def render(marks: list[bytes]) -> bytes:
        return index._render(config, [index._MARK] * len(marks)).encode("utf-8")

    for count in (0, 1, 2, 3, 7, 100):
        assert index._literals(config, count) == template(render, index._MARK_TEXT, count)


# A post's entry is written by a template (index._flat_entry), not the general encoder:
# the two must give the same text for any post, and the template must hand back any value
# it would write otherwise.
_TEXTS = ["", "plain", 'q"uote\\ /', "tab\tnew\nline", "\x00\x1f\x7f", "\u00e9\u2603\U0001f600"]


def _random_post(rng: random.Random, n: int) -> Post:
    def text() -> str:
        return "".join(rng.choice(_TEXTS) for _ in range(rng.randrange(3)))

    def maybe() -> str | None:
        return None if rng.random() < 0.4 else text()

    def moment() -> datetime:
        zone = rng.choice([UTC, timezone(timedelta(hours=-5, minutes=-30))])
        return datetime(2020 + n % 5, 1 + n % 12, 1 + n % 28, n % 24, n % 60, tzinfo=zone)

    authors = tuple(
        Author(name=text(), org=maybe(), email=maybe()) for _ in range(rng.randrange(3))
    )
    return Post(
        id=f"post-{n}-{text()}",
        source=Path("posts") / str(n) / "index.md",
        url=text(),
        page_url=text(),
        path=maybe(),
        external_url=maybe(),
        title=text(),
        summary=maybe(),
        date=moment(),
        updated=None if rng.random() < 0.5 else moment(),
        og_image=None if rng.random() < 0.5 else Path("posts") / str(n) / f"{text()}x.png",
        og_image_url=maybe(),
        categories=tuple(text() for _ in range(rng.randrange(3))),
        tags=tuple(text() for _ in range(rng.randrange(4))),
        authors=authors,
        is_featured=rng.random() < 0.5,
        is_popular=rng.random() < 0.5,
        draft=False,
        body_markdown="",
        body_html="",
    )


def _general(post: Post) -> bytes | None:
    text = jsontext.dumps_nested(index.post_summary(post), depth=2)
    return text.encode("utf-8") if text is not None else None


def test_an_entry_is_the_general_encoders_text() -> None:
    rng = random.Random(12)
    for n in range(3000):
        post = _random_post(rng, n)
        assert index._entry(post) == _general(post), post


class _Text(str):
    pass


@pytest.mark.parametrize(
    "change",
    [
        {"title": _Text("a str subclass")},
        {"is_featured": 1},
        {"is_popular": 0},
        {"summary": 3},
        {"tags": ("a", _Text("b"))},
        {"categories": (1,)},
        {"authors": (Author(name="Ada", org=7),)},  # type: ignore[arg-type]
        {"external_url": _Text("https://elsewhere.example/")},
    ],
)
def test_an_unusual_value_gets_the_general_encoders_text(change: dict[str, object]) -> None:
    post = replace(_random_post(random.Random(3), 3), **change)  # type: ignore[arg-type]
    assert index._entry(post) == _general(post)
    with pytest.raises(index._Unusual):
        index._flat_entry(post)


def test_posts_json_holds_each_entry_as_the_general_encoder_writes_the_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "config.yaml").write_text(BASE_CONFIG, encoding="utf-8")
    (tmp_path / "posts").mkdir()
    config = load_config(tmp_path / "config.yaml")
    rng = random.Random(5)
    posts = [_random_post(rng, n) for n in range(40)]
    writer = OutputWriter(tmp_path / "public")
    index.write_index(config, posts, writer, None)
    expected = json.dumps(
        {
            "site": {"title": config.site.title, "url": config.site.url},
            "posts": [index.post_summary(p) for p in posts],
        },
        ensure_ascii=False,
        indent=2,
        sort_keys=True,
    )
    written = (tmp_path / "public" / "posts.json").read_bytes()
    assert written == (expected + "\n").encode("utf-8")
