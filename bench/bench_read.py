"""Benchmark reading posts: publisher's cold and warm reads against a naive ten-line loop.

Run ``python bench/bench_read.py`` (N = 1,000 and 10,000), ``--sizes 500,2000`` or
``--quick`` (N = 200). Every measurement runs in a fresh subprocess of this script
(``--measure KIND --dir SITE``) so its peak memory (ru_maxrss) is its own. See README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import markdown_it
import yaml

KINDS = ("baseline", "cold", "warm-one", "warm-nothing")
LABELS = {"warm-one": "warm, one changed", "warm-nothing": "warm, nothing changed"}
TARGETS = {"cold": 1.0, "warm-one": 0.1}  # at most this many times the baseline's time
ROW = "{:<22} {:>8} {:>9} {:>16} {:>13} {:>8} {:>8} {:>10} {:>10}"
HEADER = "measurement seconds posts/s x_baseline_time target peak_MB workers worker_MB cache_hits"
VOCABULARY = (
    "kernel flow packet cluster node agent relay probe socket trace latency metric span "
    "service mesh proxy sidecar policy network dashboard release upgrade schema stable "
    "community meetup talk contributor roadmap feature bug fix performance memory cache "
    "the a of to and in for with on is that we our this it as by from are will can don’t "
    "it’s café — naïve"
)
WORDS = VOCABULARY.split()
TAGS = ("eBPF", "ebpf", "Kubernetes", "Observability", "Service Mesh", "Security", "Networking")
CATEGORIES = ("Community", "Technology", "Release", "Events")
CONFIG = """site: {title: Bench, url: 'https://blog.example.org', timezone: UTC, author: Bench Team}
posts: {folder: posts, glob: '*/index.md', default_path: '/blog/{id}/'}
state: {folder: .publisher}
"""


def sentence(rng: random.Random, low: int = 8, high: int = 20, plain: bool = False) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    if plain:
        return " ".join(words).capitalize()
    if rng.random() < 0.3:
        words[rng.randrange(len(words))] = f"`{rng.choice(WORDS)}()`"
    if rng.random() < 0.3:
        words[rng.randrange(len(words))] = (
            f"[{rng.choice(WORDS)}](https://example.net/{rng.choice(WORDS)})"
        )
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def body(rng: random.Random, mdx: bool) -> str:
    parts = ["import authors from 'utils/author-data';"] if mdx else []
    parts += ["_Author: Jane Doe, Lantern Project_"] if not mdx else []
    parts += [paragraph(rng), f"![{sentence(rng, 3, 5, True)}](diagram-{rng.randint(1, 3)}.png)"]
    for section in range(rng.randint(3, 4)):
        parts += [f"## {sentence(rng, 2, 5, True)}", paragraph(rng), paragraph(rng)]
        if section == 0:
            parts.append("\n".join(f"- {sentence(rng, 3, 8)}" for _ in range(rng.randint(3, 6))))
        elif section == 1:
            rows = [
                f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {sentence(rng, 2, 4)} |"
                for _ in range(5)
            ]
            parts.append("\n".join(["| name | value | note |", "| --- | ---: | --- |", *rows]))
        elif section == 2:
            code = "\n".join(
                f"    {rng.choice(WORDS)}_{n} = {rng.randint(0, 99)}" for n in range(8)
            )
            parts.append(f"```python\ndef {rng.choice(WORDS)}():\n{code}\n```")
    parts += ["<BlogAuthor {...authors.janeDoe} />"] if mdx else []
    return "\n\n".join(parts) + "\n"


def post(i: int, seed: int) -> str:
    rng = random.Random(seed * 1_000_003 + i)
    day = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    title = sentence(rng, 4, 9, True).replace("'", "''")
    summary = sentence(rng, 10, 25, True).replace("'", "''")
    link = rng.random() < 0.1
    lines = [
        "---",
        f"path: '/blog/{day.replace('-', '/')}/post-{i}'",
        f"date: '{day}T{rng.randint(0, 23):02d}:00:00.000Z'",
        f"title: '{title}'",
        f"isFeatured: {str(rng.random() < 0.1).lower()}",
        f"ogSummary: '{summary}'",
        "categories:",
        *(f"  - {c}" for c in rng.sample(CATEGORIES, rng.randint(1, 2))),
        "tags:",
        *(f"  - {t}" for t in rng.sample(TAGS, rng.randint(1, 4))),
    ]
    if link:
        lines.append(f"externalUrl: 'https://videos.example.org/talk-{i}'")
    return "\n".join([*lines, "---", ""]) + ("" if link else body(rng, rng.random() < 0.3))


def generate(site: Path, count: int, seed: int) -> None:
    site.mkdir(parents=True)
    (site / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for i in range(count):
        folder = site / "posts" / f"post-{i:05d}"
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(post(i, seed), encoding="utf-8")


def touch_one(site: Path, nonce: int) -> None:
    """Change one post's body, so exactly one cache entry misses."""
    path = site / "posts" / "post-00000" / "index.md"
    path.write_text(path.read_text(encoding="utf-8") + f"\nEdited, revision {nonce}.\n", "utf-8")


def baseline(site: Path) -> int:
    """What a person would write in ten lines."""
    md = markdown_it.MarkdownIt("commonmark").enable("table")
    count = 0
    for path in sorted((site / "posts").glob("*/index.md")):
        _, meta, text = path.read_text(encoding="utf-8").split("---\n", 2)
        yaml.safe_load(meta)
        md.render(text)
        count += 1
    return count


def measure(kind: str, site: Path, state: Path, jobs: int | None) -> dict[str, Any]:
    """Run one measurement in this process; the parent reads the JSON it prints."""
    hits, problems, pools = None, 0, [1]
    if kind == "baseline":  # publisher is not even imported, so as not to count its memory
        start = time.perf_counter()
        posts = baseline(site)
    else:
        import publisher.posts.collect
        from publisher.build import load_posts
        from publisher.config import parse_config

        class CountingPool(ProcessPoolExecutor):  # records the worker count publisher asks for
            def __init__(self, max_workers: int | None = None, **kwargs: Any) -> None:
                pools.append(max_workers or 0)
                super().__init__(max_workers, **kwargs)

        publisher.posts.collect.ProcessPoolExecutor = CountingPool  # type: ignore[misc]
        data = yaml.safe_load((site / "config.yaml").read_text(encoding="utf-8"))
        config = parse_config({**data, "state": {"folder": str(state)}}, site / "config.yaml")
        start = time.perf_counter()
        result = load_posts(config, readonly=False, jobs=jobs)
        posts, hits, problems = len(result.posts), result.cache_hits, len(result.problems)
    seconds = time.perf_counter() - start
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / scale
    return dict(
        seconds=seconds,
        posts=posts,
        hits=hits,
        problems=problems,
        rss=rss,
        worker_rss=children,
        workers=max(pools),
    )


def run(kind: str, site: Path, state: Path, jobs: int | None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--measure", kind, "--dir", str(site), "--state", str(state)]
    cmd += ["--jobs", str(jobs)] if jobs is not None else []
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def bench(count: int, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-read-") as tmp:
        site, state = Path(tmp) / "site", Path(tmp) / "state"
        generate(site, count, args.seed)
        runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        for kind in KINDS:  # in this order: cold leaves the cache the warm runs start from
            for n in range(args.repeat):
                if kind == "cold":
                    shutil.rmtree(state, ignore_errors=True)  # empty cache each time
                elif kind == "warm-one":
                    touch_one(site, n)  # the cache holds every post but this one
                runs[kind].append(run(kind, site, state, args.jobs))
    report(count, args.repeat, runs)


def report(count: int, repeat: int, runs: dict[str, list[dict[str, Any]]]) -> None:
    base = statistics.median(r["seconds"] for r in runs["baseline"])
    load = "/".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"\nN = {count:,} posts; median of {repeat} runs, each in its own process; load {load}")
    print(ROW.format(*(h.replace("_", " ") for h in HEADER.split())))
    for kind in KINDS:
        rs = runs[kind]
        sec = statistics.median(r["seconds"] for r in rs)
        ratio = sec / base
        target = TARGETS.get(kind)
        verdict = f"<= {target:.2f}x " + ("ok" if ratio <= target else "MISS") if target else ""
        cells = [
            LABELS.get(kind, kind),
            f"{sec:.3f}",
            f"{count / sec:,.0f}",
            f"{ratio:.2f}x",
            verdict,
        ]
        cells.append(f"{max(r['rss'] for r in rs):.0f}")
        if kind == "baseline":
            cells += ["-", "-", "-"]
        else:
            workers = max(r["workers"] for r in rs)
            cells += [workers, f"{max(r['worker_rss'] for r in rs):.0f}", rs[-1]["hits"]]
        print(ROW.format(*cells))
        bad = [r for r in rs if r["posts"] != count or r["problems"]]
        if bad:
            print(f"  warning: {kind} read {bad[0]['posts']} posts, {bad[0]['problems']} problems")


def profile(count: int, seed: int) -> None:
    """cProfile of one cold, serial (jobs=1) read; top entries in publisher's code."""
    with tempfile.TemporaryDirectory(prefix="bench-read-") as tmp:
        generate(Path(tmp) / "site", count, seed)
        profiler = cProfile.Profile()
        profiler.runcall(measure, "cold", Path(tmp) / "site", Path(tmp) / "state", 1)
    print(f"\ncold read of {count:,} posts, jobs=1, top 10 cumulative in publisher code")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"publisher[/\\]", 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated post counts")
    parser.add_argument("--quick", action="store_true", help="N = 200 only (smoke test)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--jobs", type=int, default=None, help="publisher workers (default: cores)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic posts")
    parser.add_argument("--profile", action="store_true", help="cProfile a serial cold read")
    parser.add_argument("--measure", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.dir, args.state, args.jobs)))
        return
    sizes = [200] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",")]
    if args.profile:
        profile(sizes[0], args.seed)
        return
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"cores: os.cpu_count() = {os.cpu_count()}, usable by this process = {affinity}")
    jobs = args.jobs or "default = os.cpu_count()"
    print(f"publisher jobs: {jobs}; it uses a process pool only for >= 200 cache misses")
    for count in sizes:
        bench(count, args)


if __name__ == "__main__":
    main()
