"""Benchmark announcing: 200 posts to 5 local fake platforms, one of them rate-limited.

Run ``python bench/bench_announce.py`` (``--posts N``, ``--rate 20/1`` for the
rate-limited target's bucket, ``--latency 0.005`` seconds per request). Prints each
target's own time, their sum, and the wall time of the whole run: targets are sent to
concurrently, so the wall time is close to the slowest target, not the sum, and the
rate-limited target does not hold up the others. See README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakes.harness import announce
from fakes.platforms import (
    Bucket,
    DiscordFake,
    MastodonFake,
    MatrixFake,
    SlackFake,
    WebhookReceiver,
)
from fakes.posts import make_post, target

from publisher.announce import RetryPolicy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument(
        "--rate", default="20/1", help="rate-limited target: N writes per S seconds"
    )
    parser.add_argument(
        "--latency", type=float, default=0.005, help="seconds each fake takes per write"
    )
    args = parser.parse_args()
    capacity, window = (float(x) for x in args.rate.split("/"))

    slack, mastodon, matrix, webhook = SlackFake(), MastodonFake(), MatrixFake(), WebhookReceiver()
    discord = DiscordFake(bucket=Bucket(int(capacity), window))
    fakes = [slack, discord, mastodon, matrix, webhook]
    for fake in fakes:
        fake.start()
        fake.latency = args.latency
    os.environ.update(
        {
            "B_SLACK": slack.url,
            "B_DISCORD": discord.url,
            "B_MASTODON": mastodon.token,
            "B_MATRIX": matrix.token,
            "B_HOOK": webhook.url,
            "B_HOOK_SECRET": webhook.secret,
        }
    )
    many = {"max_per_run": 100_000, "max_age": "3650d"}
    targets = [
        target("slack", "slack", {"url": "${B_SLACK}", **many}),
        target("discord (rate-limited)", "discord", {"url": "${B_DISCORD}", **many}),
        target(
            "mastodon", "mastodon", {"instance": mastodon.base, "token": "${B_MASTODON}", **many}
        ),
        target(
            "matrix",
            "matrix",
            {
                "homeserver": matrix.base,
                "room_id": "!r:example.org",
                "token": "${B_MATRIX}",
                **many,
            },
        ),
        target("webhook", "webhook", {"url": "${B_HOOK}", "secret": "${B_HOOK_SECRET}", **many}),
    ]
    posts = [make_post(i) for i in range(args.posts)]
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "state"
        announce(targets, [], state)
        started = time.perf_counter()
        report = announce(targets, posts, state, policy=RetryPolicy(attempts=10, budget=120.0))
        wall = time.perf_counter() - started
    for fake in fakes:
        fake.stop()

    print(
        f"{args.posts} posts to {len(targets)} targets; rate-limited bucket {args.rate}; latency {args.latency * 1000:.0f} ms"
    )
    for run in report.targets:
        sent = sum(d.result == "sent" and d.target == run.name for d in report.decisions)
        print(f"  {run.name:<24} {run.seconds:7.2f} s  {sent:4d} sent")
    total = sum(run.seconds for run in report.targets)
    print(f"  {'sum of per-target times':<24} {total:7.2f} s")
    print(f"  {'wall time':<24} {wall:7.2f} s  ({total / wall:.1f}x)")
    print(
        f"  sent {report.sent}, failed {report.failed}, in doubt {report.in_doubt}; 429s answered: "
        f"{sum(1 for r in discord.requests if r.method == 'POST') - len(discord.delivered)}"
    )


if __name__ == "__main__":
    main()
