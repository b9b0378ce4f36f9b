"""Opt-in: the big crash trial of issue 10, run the way a user runs publisher.

The real ``publish announce`` command in a site folder, against an outbox and seven fake
platforms on 127.0.0.1 whose writes are sometimes committed and their answer dropped,
refused with a 500 or answered too late, is stopped at random moments (mostly SIGKILL,
some SIGTERM and SIGINT), then run to completion. Counted on the platforms' side: no
announcement twice; none lost (sent in the ledger means it is there; anything not sent
is ``in_doubt`` on a platform without a key, and the last run says so).

It takes minutes, so it runs only when asked::

    PUBLISHER_TEST_KILLS=48 python -m pytest -q tests/test_announce_sigkill_cli.py

(``PUBLISHER_TEST_KILLS`` stops in all, spread over four seeded trials of 40 posts.)
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fakes.platforms import (
    BlueskyFake,
    DiscordFake,
    MastodonFake,
    MatrixFake,
    SiteFake,
    SlackFake,
    TelegramFake,
    WebhookReceiver,
)
from fakes.server import FakePlatform, Fault, Request, Response

from publisher.announce import list_state

KILLS = int(os.environ.get("PUBLISHER_TEST_KILLS", "0") or 0)
TRIALS = 4
POSTS = 40
POST_ID = re.compile(r"2026-11-\d\d-kt\d{3}")
WITHOUT_KEY = {"slack", "discord", "telegram"}
_PASS = Fault("none")

pytestmark = pytest.mark.skipif(
    KILLS <= 0, reason="slow crash trial: set PUBLISHER_TEST_KILLS=48 to run it"
)


class LiveSite(SiteFake):
    """Every page is deployed."""

    def route(self, request: Request) -> Response:
        return Response(200, "<html>ok</html>")


def _config(site: str, fakes: dict[str, Any]) -> str:
    common = "      max_per_run: 100\n      timeout: 2\n"
    targets = {
        "slack": "url: ${K_SLACK}",
        "discord": "url: ${K_DISCORD}",
        "telegram": f"token: ${{K_TG}}\n      chat_id: '@blog'\n      api: {fakes['telegram'].base}",
        "mastodon": f"instance: {fakes['mastodon'].base}\n      token: ${{K_MASTO}}",
        "bluesky": f"handle: {fakes['bluesky'].handle}\n      app_password: ${{K_BSKY}}\n"
        f"      service: {fakes['bluesky'].base}",
        "matrix": f"homeserver: {fakes['matrix'].base}\n      room_id: '!room:example.org'\n"
        "      token: ${K_MATRIX}",
        "webhook": "url: ${K_HOOK}\n      secret: ${K_HOOK_SECRET}",
    }
    lines = [
        f"site:\n  title: Crash trial\n  url: {site}\nposts:\n  folder: posts\n",
        "state:\n  folder: .publisher\nfeeds:\n  enabled: false\ncards:\n  enabled: false\n",
        "announce:\n  enabled: true\n  live_wait: 0\n  targets:\n",
        "    - kind: outbox\n      name: outbox\n      path: outbox.jsonl\n      max_per_run: 100\n",
    ]
    for kind, options in targets.items():
        lines.append(f"    - kind: {kind}\n      name: {kind}\n      {options}\n{common}")
    return "".join(lines)


def _post(root: Path, n: int) -> str:
    day = 1 + n % 28
    post_id = f"2026-11-{day:02d}-kt{n:03d}"
    folder = root / "posts" / post_id
    folder.mkdir(parents=True)
    (folder / "index.md").write_text(
        f"---\ntitle: 'Crash trial post {n}'\ndate: '2026-11-{day:02d}T10:00:00Z'\n"
        f"description: 'About post {n}'\n---\nBody {n}.\n",
        encoding="utf-8",
    )
    return post_id


def _arrived(name: str, root: Path, fakes: dict[str, FakePlatform]) -> Counter[str]:
    if name == "outbox":
        path = root / "outbox.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return Counter(json.loads(line)["post_id"] for line in lines)
    fake = fakes[name]
    with fake.lock:
        bodies = list(fake.delivered)
    return Counter(m.group(0) for b in bodies if (m := POST_ID.search(json.dumps(b))))


@pytest.mark.parametrize("seed", range(TRIALS))
def test_random_stops_through_the_cli_lose_and_double_nothing(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    kills = max(1, KILLS // TRIALS)
    fakes: dict[str, Any] = {
        "slack": SlackFake(),
        "discord": DiscordFake(),
        "telegram": TelegramFake(),
        "mastodon": MastodonFake(),
        "bluesky": BlueskyFake(),
        "matrix": MatrixFake(),
        "webhook": WebhookReceiver(),
    }
    site = LiveSite().start()
    for fake in fakes.values():
        fake.start()
    try:
        env = {
            **os.environ,
            "K_SLACK": fakes["slack"].url,
            "K_DISCORD": fakes["discord"].url,
            "K_TG": fakes["telegram"].token,
            "K_MASTO": fakes["mastodon"].token,
            "K_BSKY": fakes["bluesky"].password,
            "K_MATRIX": fakes["matrix"].token,
            "K_HOOK": fakes["webhook"].url,
            "K_HOOK_SECRET": fakes["webhook"].secret,
        }
        root = tmp_path / "site"
        (root / "posts").mkdir(parents=True)
        (root / "config.yaml").write_text(_config(site.base, fakes), encoding="utf-8")
        command = [sys.executable, "-m", "publisher", "announce", "--json"]

        def run() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                command, cwd=root, env=env, capture_output=True, text=True, timeout=300
            )

        _post(root, 0)  # the baseline: already published when the targets were added
        assert run().returncode == 0
        ids = [_post(root, n) for n in range(1, POSTS + 1)]
        for _ in range(kills):
            for fake in fakes.values():
                with fake.lock:
                    fake.faults.clear()
                fake.latency = rng.uniform(0.02, 0.12)
                choices = [Fault.drop()] * 3 + [Fault.status(500), Fault.timeout(2.5)]
                fake.fail_next(*[rng.choice([*choices, *[_PASS] * 10]) for _ in range(12)])
            child = subprocess.Popen(
                command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            time.sleep(rng.uniform(0.6, 4.0))
            stop = rng.choice([signal.SIGKILL] * 6 + [signal.SIGTERM, signal.SIGINT])
            running = child.poll() is None
            if running:
                child.send_signal(stop)
            out, err = child.communicate(timeout=120)
            assert b"Traceback" not in err, err.decode()[-2000:]
            if running and stop != signal.SIGKILL and child.returncode != 0:
                assert child.returncode == 128 + stop, err.decode()[-2000:]
                json.loads(out)  # the report is printed even when stopped
        for fake in fakes.values():
            with fake.lock:
                fake.faults.clear()
            fake.latency = 0.0
        time.sleep(3.0)  # a killed sender's request may land up to its timeout (2 s) late
        for _ in range(6):
            final = run()
            assert final.returncode in (0, 4) and "Traceback" not in final.stderr, final.stderr
            report = json.loads(final.stdout)["announce"]
            if report["sent"] == 0 and report["failed"] == 0 and not report["paused"]:
                break
        rows = {(r.target, r.post_id): r for r in list_state(root / ".publisher/announce.sqlite")}
        reported = {
            (d["target"], d["post"]) for d in report["decisions"] if d["reason"] == "in_doubt"
        }
        for name in ["outbox", *fakes]:
            arrived = _arrived(name, root, fakes)
            assert not {p: n for p, n in arrived.items() if n > 1}, (name, "duplicates")
            for post in ids:
                row = rows.get((name, post))
                assert row is not None, (name, post, "never tried")
                if row.status == "sent":
                    assert arrived[post] == 1, (name, post, "sent but not there")
                    continue
                assert row.status == "in_doubt" and name in WITHOUT_KEY, (name, post, row)
                assert (name, post) in reported, (name, post, "in doubt, not reported")
    finally:
        for fake in fakes.values():
            fake.stop()
        site.stop()
