"""Benchmark a run with nothing new: the cron/Action case, ``publish`` on 1,000 posts.

Run ``python bench/bench_noop.py`` (N = 1,000), ``--posts 5000``, ``--repeat 5`` or
``--cards`` (also build Open Graph cards; the first run then takes minutes). Each
measurement is a fresh ``publish`` process, as cron starts it:

    first run    everything built, the ledger's baseline recorded (not timed against a target)
    no-op run    the same command again: nothing to write, nothing to announce
    baseline     a fresh Python process that imports publisher and reads and hashes every
                 post file: the least any run that looks at every post must do

See README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = """site: {{title: Bench, url: 'https://blog.example.org', timezone: UTC}}
posts: {{folder: posts, default_path: '/blog/{{id}}/'}}
output: {{folder: public}}
state: {{folder: .publisher}}
cards: {{enabled: {cards}}}
announce:
  targets:
    - {{kind: outbox, name: outbox, path: outbox.jsonl}}
"""
VOCABULARY = (
    "kernel flow packet cluster node agent relay probe socket trace latency metric span "
    "service mesh proxy policy network release upgrade community talk roadmap cache"
)
WORDS = VOCABULARY.split()
BASELINE = """
import hashlib, sys
from pathlib import Path
import publisher.cli
for path in sorted(Path(sys.argv[1]).glob('*/index.md')):
    hashlib.sha256(path.read_bytes()).hexdigest()
"""


def write_site(root: Path, n: int, *, cards: bool, seed: int = 7) -> None:
    rng = random.Random(seed)
    (root / "config.yaml").write_text(CONFIG.format(cards=str(cards).lower()), encoding="utf-8")
    for i in range(n):
        folder = root / "posts" / f"post-{i:05d}"
        folder.mkdir(parents=True)
        title = " ".join(rng.choices(WORDS, k=6)).capitalize()
        paragraphs = "\n\n".join(
            " ".join(rng.choices(WORDS, k=rng.randint(40, 90))).capitalize() + "." for _ in range(6)
        )
        day = 1 + i % 28
        month = 1 + (i // 28) % 12
        (folder / "index.md").write_text(
            f"---\ntitle: '{title}'\ndate: '2025-{month:02d}-{day:02d}T{i % 24:02d}:00:00Z'\n"
            f"ogSummary: '{title} in short'\ntags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]\n"
            f"---\n\n## {title}\n\n{paragraphs}\n",
            encoding="utf-8",
        )


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cards", action="store_true", help="also build cards")
    args = parser.parse_args()
    publish = [sys.executable, "-m", "publisher", "--config", "config.yaml", "--json"]
    root = Path(tempfile.mkdtemp(prefix="bench-noop-"))
    try:
        write_site(root, args.posts, cards=args.cards)
        first, _ = timed(publish, root)
        noop_times, reports = [], []
        for _ in range(args.repeat):
            seconds, out = timed(publish, root)
            noop_times.append(seconds)
            reports.append(json.loads(out))
        base_times = [
            timed([sys.executable, "-c", BASELINE, str(root / "posts")], root)[0]
            for _ in range(args.repeat)
        ]
        report = reports[-1]
        changed = [w for w in report["writes"] if w["status"] != "unchanged"]
        sent = (report.get("announce") or {}).get("sent", 0)
        noop, base = statistics.median(noop_times), statistics.median(base_times)
        print(f"posts: {args.posts}, cards: {'on' if args.cards else 'off'}")
        print(f"{'measurement':<12} {'seconds':>8} {'x_baseline':>11}")
        print(f"{'first run':<12} {first:>8.2f} {first / base:>11.1f}")
        print(f"{'no-op run':<12} {noop:>8.2f} {noop / base:>11.1f}")
        print(f"{'baseline':<12} {base:>8.2f} {1.0:>11.1f}")
        print(
            f"no-op run: {len(changed)} files changed, {sent} announcements sent, "
            f"{report['posts']['from_cache']} of {report['posts']['files']} posts from cache, "
            f"{len(report['writes'])} output files checked"
        )
        if changed or sent:
            raise SystemExit("the no-op run changed something: it should not have")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
