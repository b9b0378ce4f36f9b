"""Time building every feed for 1,000 and 10,000 synthetic posts, next to a naive feedgen script.

    python bench/bench_feeds.py [--sizes 1000 10000]

Both are measured in the same run on the same Post objects. "naive" is what a quick
script does: one FeedGenerator, add every post (title, link, id, summary, body, date),
write RSS and Atom. "publisher" writes RSS, Atom and JSON Feed with sanitized bodies, sniffed
og images and, for "all feeds", one feed per category and per tag plus featured and popular.
Memory is the peak of Python allocations (tracemalloc) during each build.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from feedgen.feed import FeedGenerator
from markdown_it import MarkdownIt

from publisher.config import SiteAuthor, SiteConfig
from publisher.feeds import FeedOptions, build_feeds
from publisher.posts.model import Author, Post

SITE = SiteConfig(
    title="Bench Blog",
    url="https://bench.example.org",
    description="Synthetic posts.",
    language="en",
    timezone="UTC",
    author=SiteAuthor(name="Bench Team", email="team@bench.example.org"),
)
WORDS = ("flow", "packet", "kernel", "probe", "socket", "mesh", "latency", "cluster", "node")
MARKDOWN = MarkdownIt("commonmark")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(30_000)


def synthetic_posts(count: int, folder: Path) -> list[Post]:
    rng = random.Random(count)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    categories = [f"Category {n}" for n in range(8)]
    tags = [f"tag-{n}" for n in range(40)]
    posts = []
    for n in range(count):
        post_id = f"{n:05d}-post"
        source = folder / post_id / "index.md"
        image = None
        if n % 3 == 0:
            source.parent.mkdir(parents=True, exist_ok=True)
            image = source.parent / "card.png"
            image.write_bytes(PNG)
        paragraphs = [
            " ".join(rng.choice(WORDS) for _ in range(60)) for _ in range(rng.randint(3, 8))
        ]
        link = f"https://bench.example.org/docs/{n}"
        markdown = "\n\n".join(f"{p} [docs]({link})" for p in paragraphs)
        body = "\n".join(f'<p>{p} <a href="{link}">docs</a></p>' for p in paragraphs)
        page = f"https://bench.example.org/blog/{post_id}"
        posts.append(
            Post(
                id=post_id,
                source=source,
                url=page,
                page_url=page,
                path=f"/blog/{post_id}",
                external_url=None,
                title=f"Post {n}: {' '.join(rng.choice(WORDS) for _ in range(5))}",
                summary=" ".join(rng.choice(WORDS) for _ in range(20)),
                date=start + timedelta(hours=7 * n),
                updated=None,
                og_image=image,
                og_image_url=None,
                categories=(rng.choice(categories),),
                tags=tuple(sorted(set(rng.sample(tags, 3)))),
                authors=(Author(name=f"Author {n % 17}"),),
                is_featured=n % 50 == 0,
                is_popular=n % 30 == 0,
                draft=False,
                body_markdown=markdown,
                body_html=body,
                frontmatter={},
            )
        )
    return posts


def naive(posts: list[Post], *, markdown: bool = False) -> dict[str, bytes]:
    fg = FeedGenerator()
    fg.id(SITE.url)
    fg.title(SITE.title)
    fg.link(href=SITE.url)
    fg.description(SITE.description)
    for post in posts:
        entry = fg.add_entry()
        entry.id(post.url)
        entry.title(post.title)
        entry.link(href=post.url)
        entry.description(post.summary)
        html = MARKDOWN.render(post.body_markdown) if markdown else post.body_html
        entry.content(html, type="CDATA")
        entry.published(post.date)
    return {"rss.xml": fg.rss_str(pretty=True), "atom.xml": fg.atom_str(pretty=True)}


def runs(posts: list[Post], changed: list[Post]) -> list[tuple[str, Callable[[], Any]]]:
    everything = FeedOptions(limit=None, categories=True, tags=True, featured=True, popular=True)
    return [
        ("naive feedgen (rss+atom, all posts)", lambda: naive(posts)),
        ("naive feedgen + markdown", lambda: naive(posts, markdown=True)),
        ("main feeds, all posts", lambda: build_feeds(SITE, posts, FeedOptions(limit=None))),
        ("all feeds, all posts", lambda: build_feeds(SITE, posts, everything)),
        ("all feeds, one post changed", lambda: build_feeds(SITE, changed, everything)),
        ("default options (limit 20)", lambda: build_feeds(SITE, posts, FeedOptions())),
    ]


def measure(run: Callable[[], dict[str, Any]], repeat: int) -> tuple[float, float, int]:
    """(best seconds, peak MiB, files) over ``repeat`` runs."""
    best = float("inf")
    files = 0
    for _ in range(repeat):
        started = time.perf_counter()
        files = len(run())
        best = min(best, time.perf_counter() - started)
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak / 2**20, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    print(f"{'posts':>6} {'build':<36} {'seconds':>8} {'vs naive':>9} {'peak MiB':>9} {'files':>6}")
    with tempfile.TemporaryDirectory() as temp:
        for size in args.sizes:
            posts = synthetic_posts(size, Path(temp) / str(size))
            repeat = 3 if size <= 2000 else 1
            changed = posts[:]
            changed[size // 2] = replace(changed[size // 2], title="Edited title")
            baseline = None
            for name, run in runs(posts, changed):
                seconds, peak, files = measure(run, repeat)
                baseline = baseline or seconds
                print(
                    f"{size:>6} {name:<36} {seconds:>8.3f} {seconds / baseline:>8.2f}x "
                    f"{peak:>9.1f} {files:>6}"
                )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max resident set size of the whole run: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
