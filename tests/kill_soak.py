"""A soak of the incremental build under kills: random changes to a bench site, each
followed by a build killed at a random moment, then a build that must put it right.

After each round the site is held to four things: the build that puts it right exits 0
without a traceback; the output and state folders hold no temporary file; the output folder
is byte for byte a cold build's of the same posts; the build after it is a no-op. A change
is one of: a body edited, five posts edited, a new post, a post removed, a title changed, a
post made a draft or published again, a file touched without a change, or nothing. A kill
is SIGKILL to the process group or to the main process alone, SIGINT or SIGTERM.

``tests/test_kill_soak.py`` runs a few rounds in CI. By hand, for the claim "no kill leaves
the site wrong" (docs/performance.md)::

    python tests/kill_soak.py --posts 300 --rounds 150 --seed 2
    python tests/kill_soak.py --posts 150 --rounds 150 --seed 3 --feeds json

Each failed round is printed, and the site it failed on is kept beside the soak's folder.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from build_process import (
    aged_bench_site,
    cold_output,
    interrupted_starting,
    killed_build,
    leftovers,
    publish_build,
)

from conftest import tree_bytes

#: The bench config's feeds line, and what ``--feeds json`` puts in its place: three
#: formats and a limit, so that a change can move a post into or out of the feeds.
BENCH_FEEDS = "feeds: {formats: [rss, atom], limit: null, content: full}"
JSON_FEEDS = "feeds: {formats: [rss, atom, json], limit: 20, content: full}"
CHANGES = ("edit", "edit", "five", "new", "remove", "title", "draft", "touch", "none")
KILLS = ("group", "group", "main", "int", "term")
#: The latest moment of a kill, in seconds after the build starts: most builds of a few
#: hundred posts are over by then, so the kills land all along them.
LATEST = 0.45


class Failure(NamedTuple):
    round: int
    change: str
    kill: str
    delay: float
    problems: list[str]


def soak(
    folder: Path, *, posts: int, rounds: int, seed: int, feeds: str = BENCH_FEEDS
) -> list[Failure]:
    """Run ``rounds`` rounds on a bench site of ``posts`` posts made in ``folder``; the
    rounds that failed (the site each failed on kept as ``folder/failed-N``)."""
    root = aged_bench_site(folder / "site", posts)
    config = root / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(BENCH_FEEDS, feeds))
    rng = random.Random(seed)
    first = publish_build(root)
    if first.returncode != 0:
        raise RuntimeError(f"the first build failed: {first.stderr}")
    made = [posts]
    failures = []
    for round_ in range(rounds):
        change = _change(root, rng, made)
        kill = rng.choice(KILLS)
        delay = rng.uniform(0.0, LATEST)
        code, stderr = killed_build(root, delay, kill)
        problems = []
        if "Traceback" in stderr and not (kill == "int" and interrupted_starting(code, stderr)):
            problems.append(f"the killed build printed a traceback: {stderr[-600:]}")
        problems += _put_right(root, folder / "cold")
        if problems:
            failures.append(Failure(round_, change, kill, delay, problems))
            shutil.copytree(root, folder / f"failed-{round_}", symlinks=True)
            for state in ("public", ".publisher"):  # start the next round from a cold build
                shutil.rmtree(root / state, ignore_errors=True)
            publish_build(root)
    return failures


def _change(root: Path, rng: random.Random, made: list[int]) -> str:
    """Make one change of :data:`CHANGES` to the site's posts; its name."""
    change = rng.choice(CHANGES)
    names = sorted(p.name for p in (root / "posts").iterdir())
    if change in ("edit", "five"):
        for name in rng.sample(names, 1 if change == "edit" else min(5, len(names))):
            with (root / "posts" / name / "index.md").open("a", encoding="utf-8") as handle:
                handle.write(f"\nEdited {rng.random()}, with [a link](/x/{rng.randrange(9)}/).\n")
    elif change == "new":
        number = made[0]
        made[0] += 1
        new = root / "posts" / f"post-{number:05d}"
        new.mkdir()
        (new / "index.md").write_text(
            f"---\ntitle: New post {number}\ndate: 2021-0{1 + number % 9}-1{number % 9}\n"
            f"description: new\n---\nThe body of post {number}, *new*, with <b>HTML</b>.\n",
            encoding="utf-8",
        )
    elif change == "remove":
        shutil.rmtree(root / "posts" / rng.choice(names))
    else:
        path = root / "posts" / rng.choice(names) / "index.md"
        text = path.read_text(encoding="utf-8")
        if change == "title":
            path.write_text(text.replace("title: ", f"title: T{rng.randrange(99)} ", 1))
        elif change == "draft":
            if "draft: true\n" in text:
                path.write_text(text.replace("draft: true\n", ""))
            else:
                path.write_text(text.replace("---\n", "---\ndraft: true\n", 1))
        elif change == "touch":
            os.utime(path)
    return change


def _put_right(root: Path, cold: Path) -> list[str]:
    """What is wrong after the build that must put a killed one right."""
    ran = publish_build(root)
    if ran.returncode != 0 or "Traceback" in ran.stderr:
        return [f"the next build exited {ran.returncode}: {ran.stderr[-600:]}"]
    problems = []
    left = leftovers(root)
    if left:
        problems.append(f"temporary files left: {left}")
    got, expected = tree_bytes(root / "public"), cold_output(root, cold)
    if sorted(got) != sorted(expected):
        problems.append(f"not a cold build's files: {sorted(set(got) ^ set(expected))}")
    else:
        differ = sorted(name for name in got if got[name] != expected[name])
        if differ:
            problems.append(f"not a cold build's bytes: {differ}")
    again = publish_build(root, "-v")
    if again.returncode != 0 or "nothing changed" not in again.stderr:
        problems.append(f"the build after it is not a no-op: {again.stderr[-400:]}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--feeds", choices=["bench", "json"], default="bench")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kill-soak-"))
    feeds = JSON_FEEDS if args.feeds == "json" else BENCH_FEEDS
    failures = soak(folder, posts=args.posts, rounds=args.rounds, seed=args.seed, feeds=feeds)
    for failure in failures:
        print(failure)
    if failures:
        print(f"{args.rounds} rounds, {len(failures)} failed; their sites are in {folder}")
    else:
        print(f"{args.rounds} rounds, none failed")
        shutil.rmtree(folder)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
