"""``publish build`` against the naive script issue 12 names, in one interleaved run.

    python bench/bench_naive.py [--sizes 1000 10000] [--rounds 2]

Needs ``python-frontmatter`` (``pip install python-frontmatter``), for the naive side only.

The same synthetic posts (~810 words, a cover image each, cards off: the cards have their
own bench) go to:

    naive      a plain serial script: python-frontmatter + markdown-it-py + feedgen, one RSS
               and one Atom feed holding every post with full content (NAIVE below)
    cold       ``publish build`` with no state and no output folder
    one edit   ``publish build`` again after one post's body changed
    no-op      ``publish build`` again with nothing changed

writing the same two feeds (feeds: formats [rss, atom], limit null, content full). Each
measurement is a fresh process, as cron starts it; the rows of one round run one after
the other (naive, cold, one edit, no-op), rounds repeat that, and each row reports the
best wall time and the peak RSS of its process (``wait4``; a worker pool's children are
counted separately, the largest of them is reported as "worker"). Ratios divide by the
naive script's best time in the same run. ``publish`` runs as the console script a user runs,
with publisher's modules compiled first (as an installed package has them), on a site written
more than two seconds before the first build.
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

CONFIG = """site: {title: Bench, url: 'https://blog.example.org', timezone: UTC}
posts: {folder: posts, default_path: '/blog/{id}/'}
output: {folder: public}
state: {folder: .publisher}
cards: {enabled: false}
feeds: {formats: [rss, atom], limit: null, content: full}
"""

NAIVE = """
import sys
from datetime import datetime, time, timezone
from pathlib import Path
import frontmatter
from feedgen.feed import FeedGenerator
from markdown_it import MarkdownIt

root = Path(sys.argv[1])
md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
fg = FeedGenerator()
fg.id("https://blog.example.org/")
fg.title("Bench")
fg.link(href="https://blog.example.org/", rel="alternate")
fg.description("Bench")
posts = []
for path in sorted((root / "posts").glob("*/index.md")):
    post = frontmatter.load(path)
    date = datetime.combine(post["date"], time(), tzinfo=timezone.utc)
    posts.append((date, path.parent.name, post, md.render(post.content)))
for date, name, post, html in sorted(posts, key=lambda p: (p[0], p[1])):
    entry = fg.add_entry()
    url = f"https://blog.example.org/blog/{name}/"
    entry.id(url)
    entry.title(post["title"])
    entry.link(href=url)
    entry.published(date)
    entry.updated(date)
    entry.description(post.get("description", ""))
    entry.content(html, type="CDATA")
out = root / "naive"
out.mkdir(exist_ok=True)
fg.rss_file(str(out / "rss.xml"))
fg.atom_file(str(out / "atom.xml"))
"""

VOCABULARY = (
    "kernel flow packet cluster node agent relay probe socket trace latency metric span "
    "service mesh proxy policy network release upgrade community talk roadmap cache"
)
WORDS = VOCABULARY.split()
#: A 1x1 PNG: the reader checks the cover exists; cards are off, so nothing decodes it.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def write_site(root: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for i in range(n):
        folder = root / "posts" / f"post-{i:05d}"
        folder.mkdir(parents=True)
        (folder / "cover.png").write_bytes(PNG)
        title = " ".join(rng.choices(WORDS, k=6)).capitalize()
        paragraphs = []
        for k in range(9):
            words = rng.choices(WORDS, k=90)
            words[rng.randrange(90)] = "**" + words[0] + "**"
            if k == 4:
                paragraphs.append("| a | b |\n|---|---|\n| " + " | ".join(words[:2]) + " |")
            paragraphs.append(" ".join(words).capitalize() + ".")
        date = (datetime(1995, 1, 1) + timedelta(days=i)).date()  # all in the past
        (folder / "index.md").write_text(
            f"---\ntitle: {title}\ndate: {date.isoformat()}\n"
            f"description: {title} in short\nogImage: cover.png\ntags: [{WORDS[i % 20]}]\n---\n"
            + "\n\n".join(paragraphs)
            + "\n",
            encoding="utf-8",
        )


def run(command: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MB, CPU seconds) of one process. The CPU time is user +
    system of the process and of the children it waited for (a worker pool's processes):
    on a shared machine it moves far less with the load than the wall time does."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 5):
        raise SystemExit(f"{command} exited {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def edit_one(root: Path, n: int, round_: int) -> None:
    path = root / "posts" / f"post-{n // 2:05d}" / "index.md"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\nEdited in round {round_}.\n")


def bench(n: int, rounds: int) -> dict[str, tuple[float, float, float]]:
    best: dict[str, tuple[float, float, float]] = {}

    def keep(row: str, measured: tuple[float, float, float]) -> None:
        old = best.get(row)
        best[row] = (
            (min(measured[0], old[0]), max(measured[1], old[1]), min(measured[2], old[2]))
            if old
            else measured
        )

    # The command a user runs (the console script), else the module.
    script = Path(sys.executable).with_name("publish")
    publish = [str(script)] if script.exists() else [sys.executable, "-m", "publisher"]
    publish += ["-q", "build"]
    with tempfile.TemporaryDirectory(prefix="bench-naive-") as tmp:
        root = Path(tmp)
        write_site(root, n)
        # A checkout is older than the build that reads it: files changed in the last two
        # seconds are hashed rather than trusted by their stat (see docs/performance.md).
        time.sleep(2.1)
        for round_ in range(rounds):
            keep("naive", run([sys.executable, "-c", NAIVE, str(root)], root))
            for folder in (".publisher", "public"):
                shutil.rmtree(root / folder, ignore_errors=True)
            keep("cold", run(publish, root))
            edit_one(root, n, round_)
            keep("one edit", run(publish, root))
            keep("no-op", run(publish, root))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    # An installed package has its modules compiled; a source checkout run with
    # PYTHONDONTWRITEBYTECODE set would compile publisher again in every measured process.
    import publisher

    compileall.compile_dir(Path(publisher.__file__).parent, quiet=1)
    print(
        f"{'posts':>6}  {'work':<9} {'seconds':>8} {'peak MB':>8} {'vs naive':>9}"
        f" {'CPU s':>7} {'CPU vs naive':>13}"
    )
    for n in args.sizes:
        best = bench(n, args.rounds)
        naive, _, naive_cpu = best["naive"]
        for row, (seconds, rss, cpu) in best.items():
            print(
                f"{n:>6}  {row:<9} {seconds:>8.2f} {rss:>8.0f} {seconds / naive:>8.2f}x"
                f" {cpu:>7.2f} {cpu / naive_cpu:>12.2f}x"
            )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
