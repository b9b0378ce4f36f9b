"""Mutated posts read by every generator's rules: never a crash, never a bug report.

Seeded and bounded (a few hundred mutants per generator, a few seconds in all): each mutant
is parsed by ``parse_post`` with that generator's rules, and no problem may be the
"this is a bug in publisher" one that an unexpected exception becomes.
"""

from __future__ import annotations

import random

import pytest

from publisher.posts.reader import ReadContext, parse_post
from publisher.posts.sources import SOURCES
from publisher.posts.sources.base import SourceRules

TEMPLATES = [
    b"---\ntitle: Hello World\ndate: 2024-05-01T10:00:00+02:00\nslug: hi\n"
    b"authors: [ann]\ntags: [a, b]\ncategories: x y\nimage: ./img/a.png\n"
    b"url: /:section/:year/:month/:slug/\npermalink: /{{ page.fileSlug }}/\n"
    b"draft: false\n---\n# Heading\n\nFirst paragraph.\n<!--more-->\nRest.\n",
    b'+++\ntitle = "Hello"\ndate = 2024-05-01\n[taxonomies]\ntags = ["a"]\n'
    b'[extra]\nimage = "/x.png"\n+++\nBody <!-- more --> rest\n',
    b'{"title": "J", "date": "2024-05-01", "images": ["a.png"], "slug": "j"}\nBody\n',
    b"---\npubDate: 'Jul 08 2022'\nheroImage: '../../assets/x.jpg'\ntitle: A\n---\nText\n",
    b"---\ndate:\n  created: 2024-05-01\n  updated: 2024-06-01\n---\n# T `x`\n\nA <!-- more -->\n",
]

RULES = {
    "hugo": SourceRules(
        generator="hugo",
        permalink="/:section/:year/:month/:day/:slug/",
        base="blog",
        date_keys=("date", ":filename", "publishdate"),
    ),
    "jekyll": SourceRules(generator="jekyll", permalink="/:categories/:year/:title:output_ext"),
    "docusaurus": SourceRules(generator="docusaurus", base="blog", trailing_slash=False),
    "zola": SourceRules(generator="zola", base="blog", options=(("slugify", "on"),)),
    "eleventy": SourceRules(generator="eleventy", base="posts"),
    "astro": SourceRules(generator="astro", base="blog", date_keys=("pubdate", "date")),
    "mkdocs": SourceRules(
        generator="mkdocs",
        permalink="{date}/{slug}",
        base="blog",
        timezone="UTC",
        options=(("date_format", "yyyy/MM/dd"), ("separator", "-")),
    ),
    "generic": SourceRules(url="/{year}/{slug}/"),
}

_TOKENS = [
    b"---",
    b"+++",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"=",
    b'"',
    b"'",
    b"\n",
    b"\x00",
    b"\xff",
    b"&a",
    b"*a",
    b"!!python/name:x",
    b"9999-99-99",
    b"<!--more-->",
    b"/",
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(out) + 1)
        choice = rng.random()
        if choice < 0.4:
            out[at:at] = rng.choice(_TOKENS)
        elif choice < 0.7 and out:
            del out[at : at + rng.randint(1, 8)]
        else:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    return bytes(out)


@pytest.mark.parametrize("generator", sorted(SOURCES))
def test_mutated_posts_never_crash_a_generator(generator: str) -> None:
    rng = random.Random(f"sources-{generator}")
    ctx = ReadContext(
        site_url="https://example.org",
        timezone="UTC",
        summary_keys=("ogSummary", "description"),
        default_path="/{id}/",
        default_author=None,
        rules=RULES[generator],
    )
    ids = ["2024-05-01-hello", "2024/05-01-x/index", "_posts/2018/a", "Über Café", "a/b/c"]
    read = 0
    for index in range(400):
        raw = mutate(rng.choice(TEMPLATES), rng)
        record, problems = parse_post(raw, rng.choice(ids), f"post-{index}.md", ctx)
        bugs = [p for p in problems if "bug in publisher" in (p.fix or "")]
        assert not bugs, (generator, raw, bugs)
        if record is not None:
            read += 1
            assert record["page_url"].startswith("https://example.org/")
    assert read > 10  # the mutants still reach the generator's rules, not only the parser
