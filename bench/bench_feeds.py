"""Time building every feed for 1,000 and 10,000 synthetic posts, next to a naive feedgen script.

    python bench/bench_feeds.py [--sizes 1000 10000]

Both are measured in the same run on the same Post objects. "naive" is what a quick
script does: one FeedGenerator, add every post (title, link, id, summary, body, date),
write RSS and Atom. "publisher" writes RSS, Atom and JSON Feed with sanitized bodies, sniffed
og images and, for "all feeds", one feed per category and per tag plus featured and popular.
"vs naive" and "vs n+md" divide by the naive script's time without and with markdown.

The "cache" rows pass a state folder (``cache_dir``): "cold" starts each run without one
and writes it; "warm, one post changed" first builds the unchanged posts (untimed), then
times the build with one post's title edited, which the feeds issue wants under a tenth of
the naive script with markdown (the last lines say whether it is). Times are the best of
3 runs (of 1 above 2,000 posts, except for the two rows that make the target ratio).
Memory is the peak of Python allocations (tracemalloc) during each build.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, replace
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
NAIVE_MARKDOWN = "naive feedgen + markdown"
WARM_ONE_CHANGED = "all feeds, warm cache, one post changed"


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


@dataclass(frozen=True)
class Run:
    name: str
    run: Callable[[], dict[str, Any]]
    #: Untimed, before each timed run: puts the state folder where the measurement starts.
    prepare: Callable[[], object] = lambda: None
    #: A row of the target ratio: timed at least three times at every size, so one busy
    #: moment on a shared machine does not decide it.
    target: bool = False


def runs(posts: list[Post], changed: list[Post], state: Path) -> list[Run]:
    everything = FeedOptions(limit=None, categories=True, tags=True, featured=True, popular=True)

    def cold_cache() -> None:
        shutil.rmtree(state, ignore_errors=True)

    def cached(chosen: list[Post]) -> Callable[[], dict[str, bytes]]:
        return lambda: build_feeds(SITE, chosen, everything, cache_dir=state)

    return [
        Run("naive feedgen (rss+atom, all posts)", lambda: naive(posts)),
        Run(NAIVE_MARKDOWN, lambda: naive(posts, markdown=True), target=True),
        Run("main feeds, all posts", lambda: build_feeds(SITE, posts, FeedOptions(limit=None))),
        Run("all feeds, all posts", lambda: build_feeds(SITE, posts, everything)),
        Run(
            "all feeds, one post changed, no cache", lambda: build_feeds(SITE, changed, everything)
        ),
        Run("all feeds, cold cache (written)", cached(posts), prepare=cold_cache),
        Run(WARM_ONE_CHANGED, cached(changed), prepare=cached(posts), target=True),
        Run("all feeds, warm cache, nothing changed", cached(posts), prepare=cached(posts)),
        Run("default options (limit 20)", lambda: build_feeds(SITE, posts, FeedOptions())),
    ]


def measure(run: Run, repeat: int) -> tuple[float, float, int]:
    """(best seconds, peak MiB, files) over ``repeat`` runs."""
    best = float("inf")
    files = 0
    for _ in range(repeat):
        run.prepare()
        started = time.perf_counter()
        files = len(run.run())
        best = min(best, time.perf_counter() - started)
    run.prepare()
    tracemalloc.start()
    run.run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak / 2**20, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    print(
        f"{'posts':>6} {'build':<40} {'seconds':>8} {'vs naive':>9} {'vs n+md':>8} "
        f"{'peak MiB':>9} {'files':>6}"
    )
    verdicts = []
    with tempfile.TemporaryDirectory() as temp:
        for size in args.sizes:
            posts = synthetic_posts(size, Path(temp) / str(size))
            repeat = 3 if size <= 2000 else 1
            changed = posts[:]
            changed[size // 2] = replace(changed[size // 2], title="Edited title")
            seconds_of: dict[str, float] = {}
            for run in runs(posts, changed, Path(temp) / f"state-{size}"):
                seconds, peak, files = measure(run, max(repeat, 3) if run.target else repeat)
                seconds_of[run.name] = seconds
                baseline = next(iter(seconds_of.values()))
                markdown = seconds_of.get(NAIVE_MARKDOWN)
                vs_markdown = f"{seconds / markdown:>7.2f}x" if markdown else f"{'-':>8}"
                print(
                    f"{size:>6} {run.name:<40} {seconds:>8.3f} {seconds / baseline:>8.2f}x "
                    f"{vs_markdown} {peak:>9.1f} {files:>6}"
                )
            ratio = seconds_of[WARM_ONE_CHANGED] / seconds_of[NAIVE_MARKDOWN]
            verdicts.append(
                f"{size:>6} posts: {WARM_ONE_CHANGED} = {ratio:.3f}x naive feedgen + markdown "
                f"(target < 0.10x: {'ok' if ratio < 0.1 else 'MISS'})"
            )
    print("\n".join(verdicts))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max resident set size of the whole run: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
