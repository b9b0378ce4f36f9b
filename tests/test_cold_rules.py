"""The rules across posts with each post's own part made early (``posts/rules.py``,
``Early``: as a read worker's records come back, issue 12) give the posts and problems
of the rules made in one go, on seeded random sites: tags spelled differently across
posts, URLs two posts share, og images there, missing, outside the site or in a
subfolder, posts whose fields or og image fail in a way the reader does not expect."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import random
from pathlib import Path
from typing import Any

import pytest

from conftest import Site
from publisher.config import load_config
from publisher.posts.found import context_for
from publisher.posts.model import Post
from publisher.posts.reader import parse_post
from publisher.posts.rules import Early, finalize

TAGS = ["Python", "python", "PYTHON", "Rust", "rust", "Go", "go-lang", "Go Lang", "ai", "AI"]
FIELDS = [f.name for f in dataclasses.fields(Post) if f.name not in ("body", "frontmatter")]


def _site(site: Site, rng: random.Random, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG")
    for n in range(rng.randint(20, 60)):
        post_id = f"p{n:03d}"
        lines = [f"title: Post {n}", f"date: 2024-0{rng.randint(1, 9)}-{rng.randint(10, 28)}"]
        tags = rng.sample(TAGS, rng.randint(0, 4))
        if tags:
            lines.append(f"tags: [{', '.join(tags)}]")
        if rng.random() < 0.2:
            lines.append(f"path: /shared-{rng.randint(0, 2)}/")
        image = rng.choice([None, "cover.png", "missing.png", "img/cover.png", "out.png"])
        if image is not None:
            lines.append(f"ogImage: {image}")
        site.post(post_id, "\n".join(lines), f"Body {n}.")
        folder = site.posts / post_id
        if image in ("cover.png", "img/cover.png"):
            (folder / image).parent.mkdir(exist_ok=True)
            (folder / image).write_bytes(b"\x89PNG" + bytes([n]))
        elif image == "out.png":
            (folder / image).symlink_to(secret)


def _records(site: Site) -> list[tuple[dict[str, Any], Path, str, str | None]]:
    config = load_config(site.config_path)
    ctx = context_for(config)
    records = []
    for path in sorted(site.posts.glob("*/index.md")):
        raw = path.read_bytes()
        file = f"posts/{path.parent.name}/index.md"
        record, _ = parse_post(raw, path.parent.name, file, ctx)
        assert record is not None
        records.append((record, path, file, hashlib.sha256(raw).hexdigest()))
    return records


def _shown(posts: list[Post]) -> list[tuple[Any, ...]]:
    return [
        (*(getattr(p, name) for name in FIELDS), p.origin, p.body_markdown, p.body_html)
        for p in posts
    ]


@pytest.mark.parametrize("seed", range(6))
def test_rules_made_early_are_the_rules_made_at_once(seed: int, site: Site, tmp_path: Path) -> None:
    rng = random.Random(seed)
    _site(site, rng, tmp_path)
    config = load_config(site.config_path)
    records = _records(site)
    if seed % 2:  # as in a cold build: the workers' og image look-ups handed back
        for start in range(0, len(records), 8):
            finalize(copy.deepcopy(records[start : start + 8]), config, [], hand_back=True)
            finalize(records[start : start + 8], config, [], hand_back=True)
    # Posts that fail where the reader does not expect it: before their URL is taken (an
    # og image that is no name) and after (a date that is no date), each sharing its URL
    # with a later post.
    records[1][0]["og_image"] = 5
    records[3][0]["date"] = "not a date"
    records[3][0]["og_image"] = None
    for at in (1, 3):
        records[at][0]["url"] = records[at + 1][0]["url"] = f"https://blog.example.org/{at}/"
    expected: list[Any] = []
    posts = finalize(copy.deepcopy(records), config, expected)
    early = Early(config, None)
    ahead = copy.deepcopy(records)
    for read in rng.sample(ahead, k=rng.randint(len(ahead) // 2, len(ahead))):
        early.add(read)
    got: list[Any] = []
    assert _shown(finalize(ahead, config, got, early=early)) == _shown(posts)
    assert got == expected
    assert any("is also the URL of post" in p.message for p in expected)
    assert sum("could not be read" in p.message for p in expected) == 2
