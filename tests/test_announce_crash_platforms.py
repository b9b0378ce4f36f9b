"""SIGKILL mid-batch, then a rerun, over new platforms: Threads (killed with a publish
unanswered, or between a container and its publish) and Google Chat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fakes.platforms_more import (
    THREADS_TOKEN,
    GoogleChatFake,
    ThreadsFake,
)

from publisher.announce import list_state

CHILD = Path(__file__).parent / "fakes" / "announce_child.py"


# -- crash: SIGKILL mid-batch, then a rerun ---------------------------------------------


def _hang_on(fake: Any, matches: Any, nth: int, seconds: float = 30.0) -> None:
    """The nth request matching ``matches`` is processed, then never answered."""
    original = fake.dispatch
    count = {"n": 0}

    def dispatch(handler: Any, request: Any) -> None:
        if matches(request):
            count["n"] += 1
            if count["n"] == nth:
                response = fake.route(request)
                if response.processed:
                    fake.processed_event.set()
                time.sleep(seconds)
                return
        original(handler, request)

    fake.dispatch = dispatch


@pytest.mark.parametrize("where", ["publish", "between"])
def test_sigkill_mid_batch_then_rerun_posts_each_exactly_once_on_new_platforms(
    where: str, tmp_path: Path
) -> None:
    """Threads (killed while its 4th publish is unanswered, or between its 4th container
    and its publish) and Google Chat (killed on an unanswered 4th message), then rerun:
    every post on each platform exactly once."""
    state = tmp_path / "state"
    n = 7
    with ThreadsFake() as threads, GoogleChatFake() as chat:
        assert isinstance(threads, ThreadsFake) and isinstance(chat, GoogleChatFake)
        env = {"K_THREADS": THREADS_TOKEN, "K_GCHAT": chat.url}
        targets = [
            [
                "threads",
                "threads",
                {"token": "${K_THREADS}", "api": threads.base, "max_per_run": 50},
            ],
            ["googlechat", "googlechat", {"url": "${K_GCHAT}", "max_per_run": 50}],
        ]
        spec = {"state": str(state), "targets": targets, "posts": 0}
        baseline_run = subprocess.run(
            [sys.executable, str(CHILD), _spec(tmp_path, spec)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert baseline_run.returncode == 0, baseline_run.stderr
        if where == "publish":
            _hang_on(threads, threads.is_write, 4)
        else:  # the status read between the 4th container and its publish
            _hang_on(
                threads,
                lambda r: r.method == "GET" and r.path.rsplit("/", 1)[-1] in threads.containers,
                4,
            )
        _hang_on(chat, chat.is_write, 4)
        child = subprocess.Popen(
            [sys.executable, str(CHILD), _spec(tmp_path, {**spec, "posts": n})],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while (
                not (len(chat.messages) >= 4 and len(threads.containers) >= 4)
                and time.monotonic() < deadline
            ):
                time.sleep(0.02)
            time.sleep(0.2)
        finally:
            child.kill()
            child.wait()
        published_before = len(threads.posts)
        rerun = subprocess.run(
            [sys.executable, str(CHILD), _spec(tmp_path, {**spec, "posts": n})],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rerun.returncode == 0, rerun.stderr
    assert published_before == (4 if where == "publish" else 3)
    texts = [p["text"] for p in threads.posts]
    assert len(texts) == len(set(texts)) == n  # 0 duplicates, 0 losses
    assert len(chat.messages) == n and chat.duplicates == 1
    rows = {(r.target, r.status) for r in list_state(state / "announce.sqlite")}
    assert rows == {("threads", "sent"), ("googlechat", "sent")}


def _spec(tmp_path: Path, spec: dict[str, Any]) -> str:
    path = tmp_path / f"spec-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return str(path)
