"""Benchmark Open Graph cards: cold and warm builds against a plain Pillow loop.

Run ``python bench/bench_cards.py`` (N = 100 and 1,000) or ``--sizes 50`` for a quick look.
The baseline (the "Pillow floor" of issue 12) is measured in the same run on the same
images and titles: decode each source image, resize it to 1200x630 with LANCZOS, draw the
post's title in the card font, encode a JPEG; once serially and once with two processes.
Rounds are interleaved (floor, cold, warm, floor, ...) and the best of each is kept, so a
busy moment on a shared machine hurts both sides alike. Targets (issue 12): a cold build
within 1.2x of the two-process floor; a build with nothing changed within 10% of the cold
build at 100 cards and 2% at 1,000.

"Nothing changed" is measured twice: in the benchmark's own process, right after the cold
build (modules loaded, the layouts read), and in a new process, as ``publish build`` runs
it (imports, the render cache opened, every input hashed again), timed from the parent.

Each measurement also gives its CPU seconds (this process and its reaped worker processes,
user + system): on a machine other jobs share, wall-clock seconds move with their load
while CPU seconds stay put, so the CPU ratio says whether a change made the cards cheaper
and the wall ratio whether the target is met. The header says whether OpenCV's face
detector (the ``faces`` extra) is in use; ``--no-faces`` measures the cards without it.

Source images are generated once per run (a mix of JPEG, PNG and WebP from 800 to 4000 px,
with lying extensions) and reused across posts, as a blog reuses hero images of similar
sizes; each post has its own title, so every card is distinct.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from publisher.cards import CardOptions, build_cards, faces
from publisher.config import SiteConfig
from publisher.output import OutputWriter
from publisher.posts.model import Author, Post

SITE = SiteConfig(
    title="Bench Blog",
    url="https://bench.example.org",
    description="",
    language="en",
    timezone="UTC",
    author=None,
)
WORDS = [
    "kernel",
    "eBPF",
    "packet",
    "cluster",
    "node",
    "agent",
    "relay",
    "probe",
    "socket",
    "trace",
    "latency",
    "service",
    "mesh",
    "proxy",
    "sidecar",
    "policy",
    "network",
    "dashboard",
    "release",
    "upgrade",
    "performance",
    "memory",
    "cache",
]
SOURCES = 40


def make_sources(folder: Path) -> list[Path]:
    rng = random.Random(4)
    paths = []
    for index in range(SOURCES):
        width = rng.choice([800, 1200, 1600, 2400, 4000])
        height = int(width * rng.uniform(0.45, 0.75))
        image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
        draw = ImageDraw.Draw(image)
        for _ in range(40):
            x, y, r = rng.randrange(width), rng.randrange(height), rng.randrange(10, width // 5)
            draw.ellipse(
                (x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in "rgb")
            )
        fmt = ("JPEG", "PNG", "WEBP")[index % 3]
        out = io.BytesIO()
        image.save(out, fmt, **({"quality": 88} if fmt != "PNG" else {}))
        path = folder / f"source-{index}.png"  # every third one really is a PNG
        path.write_bytes(out.getvalue())
        paths.append(path)
    return paths


def make_posts(root: Path, sources: list[Path], count: int) -> list[Post]:
    rng = random.Random(count)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    posts = []
    for index in range(count):
        post_id = f"post-{index:05d}"
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(4, 12))).capitalize()
        posts.append(
            Post(
                id=post_id,
                source=root / post_id / "index.md",
                url=f"{SITE.url}/{post_id}/",
                page_url=f"{SITE.url}/{post_id}/",
                path=None,
                external_url=None,
                title=f"{title} #{index}",
                summary=" ".join(rng.choice(WORDS) for _ in range(24)),
                date=start + timedelta(days=index),
                updated=None,
                og_image=sources[index % len(sources)],
                og_image_url=None,
                categories=("Engineering",),
                tags=(),
                authors=(Author(name="Bench"),),
                is_featured=False,
                is_popular=False,
                draft=False,
                body_markdown="",
                body_html="",
                frontmatter={},
            )
        )
    return posts


def baseline_one(work: tuple[Path, str]) -> int:
    path, title = work
    font = ImageFont.truetype(str(CardOptions().bold_font), 56)
    with Image.open(path) as image:
        image = image.convert("RGB").resize((1200, 630), Image.Resampling.LANCZOS)
        draw = ImageDraw.Draw(image)
        words, line, y = title.split(), "", 60
        for word in words:  # greedy wrap at 1,080 px, as a person would write it
            if line and draw.textlength(f"{line} {word}", font=font) > 1080:
                draw.text((60, y), line, font=font, fill=(255, 255, 255))
                line, y = word, y + 68
            else:
                line = f"{line} {word}".strip()
        draw.text((60, y), line, font=font, fill=(255, 255, 255))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=88)
        return len(out.getvalue())


def cpu_seconds() -> float:
    """User + system CPU of this process and of its worker processes once reaped."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Timer:
    """Wall and CPU seconds of a ``with`` block (pools are shut down inside it)."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, cpu_seconds() - self.cpu


def baseline(posts: list[Post], workers: int) -> Timer:
    work = [(p.og_image, p.title) for p in posts if p.og_image is not None]
    with Timer() as timer:
        if workers == 1:
            for item in work:
                baseline_one(item)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                list(pool.map(baseline_one, work, chunksize=4))
    return timer


def cards(posts: list[Post], work: Path, jobs: int) -> tuple[Timer, int, int]:
    with Timer() as timer:
        result = build_cards(
            SITE,
            posts,
            CardOptions(fallback_fonts=()),
            output=OutputWriter(work / "public"),
            cache_dir=work / "state",
            jobs=jobs,
            root=work,
        )
    return timer, result.rendered, result.reused


def warm_in_new_process(args: argparse.Namespace, root: Path, work: Path, count: int) -> Timer:
    """The nothing-changed build in a new process (``--warm-only``), as a user runs it."""
    command = [sys.executable, __file__, "--warm-only", str(root), str(work), str(count)]
    command += ["--jobs", str(args.jobs), *(["--no-faces"] if args.no_faces else [])]
    with Timer() as timer:
        ran = subprocess.run(command, check=False)
    assert ran.returncode == 0, "the nothing-changed build in a new process failed"
    return timer


def warm_only(args: argparse.Namespace) -> int:
    """Run by :func:`warm_in_new_process`: the same posts, the cards of ``work`` again."""
    root, work, count = Path(args.warm_only[0]), Path(args.warm_only[1]), int(args.warm_only[2])
    sources = sorted(root.glob("source-*.png"), key=lambda p: int(p.stem.split("-")[1]))
    _, rendered, reused = cards(make_posts(root, sources, count), work, args.jobs)
    return 0 if (rendered, reused) == (0, count) else 1


def measure(args: argparse.Namespace, root: Path, posts: list[Post]) -> dict[str, Timer]:
    """Interleaved rounds; for each measurement the round with the least wall time, and
    separately the least CPU time (the two may come from different rounds)."""
    best: dict[str, Timer] = {}

    def keep(label: str, timer: Timer) -> None:
        kept = best.setdefault(label, timer)
        kept.wall, kept.cpu = min(kept.wall, timer.wall), min(kept.cpu, timer.cpu)

    for _ in range(args.rounds):
        if args.serial:
            keep("serial", baseline(posts, 1))
        keep("floor", baseline(posts, 2))
        work = root / f"run-{len(posts)}"
        shutil.rmtree(work, ignore_errors=True)
        cold, rendered, _ = cards(posts, work, args.jobs)
        warm, again, reused = cards(posts, work, args.jobs)
        assert rendered == len(posts) and again == 0 and reused == len(posts)
        keep("cold", cold)
        keep("warm", warm)
        keep("new process", warm_in_new_process(args, root, work, len(posts)))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="comma-separated post counts")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for cards")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (best kept)")
    parser.add_argument("--serial", action="store_true", help="also time a 1-process floor")
    parser.add_argument(
        "--no-faces", action="store_true", help="cards without OpenCV's face detector"
    )
    parser.add_argument("--warm-only", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.no_faces:
        # The worker processes are forked from this one and inherit the switch.
        faces._modules = lambda: None  # type: ignore[assignment]
    if args.warm_only:
        return warm_only(args)
    print(f"faces: {faces.detector()}; load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory(prefix="bench-cards-") as temp:
        root = Path(temp)
        sources = make_sources(root)
        print(
            f"{'posts':>6} {'measurement':<26} {'seconds':>8} {'ms/card':>8} {'cpu s':>7}"
            f" {'ratio (wall)':>30} {'ratio (cpu)':>12}"
        )
        for count in (int(s) for s in args.sizes.split(",")):
            best = measure(args, root, make_posts(root, sources, count))
            floor, cold, warm = best["floor"], best["cold"], best["warm"]
            warm_target = "10%" if count <= 100 else "2%"
            rows = [("Pillow floor, 1 process", best["serial"], "", "")] if args.serial else []
            rows += [
                ("Pillow floor, 2 processes", floor, "", ""),
                (
                    f"cards cold, {args.jobs} jobs",
                    cold,
                    f"{cold.wall / floor.wall:.2f}x floor (<=1.2x)",
                    f"{cold.cpu / floor.cpu:.2f}x",
                ),
                (
                    "cards nothing changed",
                    warm,
                    f"{warm.wall / cold.wall:.1%} of cold (<={warm_target})",
                    f"{warm.cpu / cold.cpu:.1%}",
                ),
                (
                    "  the same, new process",
                    best["new process"],
                    f"{best['new process'].wall / cold.wall:.1%} of cold",
                    f"{best['new process'].cpu / cold.cpu:.1%}",
                ),
            ]
            for label, timer, ratio, cpu_ratio in rows:
                print(
                    f"{count:>6} {label:<26} {timer.wall:>8.2f} {timer.wall / count * 1000:>8.1f}"
                    f" {timer.cpu:>7.2f} {ratio:>30} {cpu_ratio:>12}"
                )
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
