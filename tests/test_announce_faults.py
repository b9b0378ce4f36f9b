"""Fault tests: SIGKILL mid-batch then rerun, two runs at once, a flapping target, and not
one secret in any byte the tool prints or writes under all of it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fakes.harness import PLATFORMS, announce, baseline, running
from fakes.platforms import MastodonFake, SlackFake
from fakes.posts import make_post, target
from fakes.server import Fault

from publisher.announce import list_state, redact
from publisher.announce.redact import register_secret
from publisher.errors import StateError

CHILD = Path(__file__).parent / "fakes" / "announce_child.py"


def _wait_for(predicate, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def _child(spec: dict[str, object], tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    path = tmp_path / f"spec-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def test_sigkill_mid_batch_then_rerun_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    n = 8
    with SlackFake() as slack, MastodonFake() as mastodon:
        assert isinstance(slack, SlackFake) and isinstance(mastodon, MastodonFake)
        env = {"K_SLACK": slack.url, "K_MASTODON": mastodon.token}
        targets = [
            ["slack", "slack", {"url": "${K_SLACK}", "max_per_run": 50}],
            [
                "mastodon",
                "mastodon",
                {"instance": mastodon.base, "token": "${K_MASTODON}", "max_per_run": 50},
            ],
        ]
        os.environ.update(env)
        try:
            baseline([target(*t) for t in targets], state)  # type: ignore[arg-type]
        finally:
            for key in env:
                os.environ.pop(key)
        # The 4th message to each platform arrives, and its answer never does: kill then.
        for fake in (slack, mastodon):
            fake.latency = 0.02
            _inject_hang_on(fake, 4, Fault.timeout(30))
        spec = {"state": str(state), "targets": targets, "posts": n}
        child = _child(spec, tmp_path, env)
        try:
            _wait_for(lambda: len(slack.delivered) >= 4 and len(mastodon.delivered) >= 4)
            time.sleep(0.1)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        assert child.returncode == -signal.SIGKILL
        assert len(slack.delivered) == 4 and len(mastodon.delivered) == 4

        rerun = _child(spec, tmp_path, env)
        out, err = rerun.communicate(timeout=60)
        assert rerun.returncode == 0, err
        report = json.loads(out)

    # At-least-once (Mastodon): every post there exactly once; the one in flight was resent
    # with its idempotency key and the platform answered with the first status.
    assert sorted(b["status"] for b in mastodon.delivered) == sorted(
        set(b["status"] for b in mastodon.delivered)
    )
    assert len(mastodon.delivered) == n
    keys = [w.headers["idempotency-key"] for w in mastodon.writes()]
    assert len(set(keys)) == n and len(keys) == n + 1
    # At-most-once (Slack): nothing twice; the one in flight is in doubt, not resent.
    texts = [b["text"] for b in slack.delivered]
    assert len(texts) == len(set(texts)) == n
    doubt = [d for d in report["decisions"] if d["target"] == "slack" and d["reason"] == "in_doubt"]
    assert len(doubt) == 1
    rows = {(r.target, r.status) for r in list_state(state / "announce.sqlite")}
    assert rows == {("slack", "sent"), ("slack", "in_doubt"), ("mastodon", "sent")}


def _inject_hang_on(fake, nth: int, fault: Fault) -> None:  # type: ignore[no-untyped-def]
    """Let nth-1 writes through, then hang on the nth (processed but never answered)."""
    original = fake.dispatch
    count = {"n": 0}

    def dispatch(handler, request):  # type: ignore[no-untyped-def]
        if fake.is_write(request):
            count["n"] += 1
            if count["n"] == nth:
                with fake.lock:
                    fake.faults.appendleft(fault)
        original(handler, request)

    fake.dispatch = dispatch


def test_two_concurrent_runs_send_each_announcement_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(PLATFORMS[1], monkeypatch, max_per_run=50) as (fake, config):
        fake.latency = 0.03
        baseline([config], state)
        posts = [make_post(i) for i in range(10)]
        results: list[object] = []

        def run(wait: float) -> None:
            try:
                results.append(announce([config], posts, state, lock_wait=wait))
            except StateError as exc:
                results.append(exc)

        threads = [threading.Thread(target=run, args=(w,)) for w in (0.0, 0.0, 10.0)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    contents = [b["content"] for b in fake.delivered]
    assert len(contents) == len(set(contents)) == 10
    sent = sum(getattr(r, "sent", 0) for r in results)
    assert sent == 10
    assert any(isinstance(r, StateError) for r in results) or len(results) == 3


def test_a_flapping_target_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    posts = [make_post(i) for i in range(6)]
    with (
        running(PLATFORMS[1], monkeypatch, max_per_run=50) as (flappy, discord),
        running(PLATFORMS[4], monkeypatch, max_per_run=50) as (good, mastodon),
    ):
        dead = target(
            "dead",
            "webhook",
            {"url": "${DEAD_URL}", "secret": "${DEAD_SECRET}", "timeout": 0.3, "max_per_run": 50},
        )
        monkeypatch.setenv("DEAD_URL", "http://127.0.0.1:9/nothing-listens-here")
        monkeypatch.setenv("DEAD_SECRET", "whsec_c2VjcmV0c2VjcmV0")
        flappy.flap_every = 2
        baseline([discord, mastodon, dead], state)
        first = announce([discord, mastodon, dead], posts, state)
        flappy.flap_every = 0
        second = announce([discord, mastodon, dead], posts, state)
    assert len(good.delivered) == 6 and first.count("sent") >= 6
    by_target = {
        t: [d.result for d in first.decisions if d.target == t]
        for t in ("discord", "mastodon", "dead")
    }
    assert by_target["mastodon"] == ["sent"] * 6
    assert set(by_target["dead"]) <= {"failed", "deferred"}
    # The flapping one got everything, each once, by the second run.
    contents = [b["content"] for b in flappy.delivered]
    assert len(contents) == len(set(contents)) == 6
    assert second.count("failed") + second.count("deferred") >= 1  # the dead one is still dead


def test_redact_hides_urls_paths_and_tokens() -> None:
    register_secret("https://hooks.slack.com/services/T000/B000/supersecretvalue123")
    text = (
        "HTTPSConnectionPool(host='hooks.slack.com', port=443): Max retries exceeded with url: "
        "/services/T000/B000/supersecretvalue123 (Caused by ...)"
    )
    assert "supersecretvalue123" not in redact(text)
    assert "…e123" in redact("https://hooks.slack.com/services/T000/B000/supersecretvalue123")


def test_no_secret_in_any_byte_printed_or_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    logs: list[str] = []
    secrets: list[str] = []
    stack = []
    configs = []
    for platform in PLATFORMS:
        cm = running(platform, monkeypatch, timeout=0.4, max_per_run=50)
        fake, config = cm.__enter__()
        stack.append(cm)
        configs.append(config)
        for value in config.options.values():
            if getattr(value, "value", None):
                secrets.append(value.value)
    # The parts of each secret a library might print on its own.
    from urllib.parse import urlsplit

    for value in list(secrets):
        parts = urlsplit(value)
        if parts.path and len(parts.path) > 8:
            secrets.append(parts.path)
    try:
        fakes = [cm.gen.gi_frame.f_locals["fake"] for cm in stack]  # type: ignore[attr-defined]
        outbox = target("outbox", "outbox", {"path": "out.jsonl"})
        every = [*configs, outbox]
        dry = announce(every, [make_post(0)], state, dry_run=True, log=logs.append)
        baseline(every, state)
        dry2 = announce(every, [make_post(1)], state, dry_run=True, log=logs.append)
        reports = [dry.as_dict(), dry2.as_dict()]
        for n, faults in enumerate(
            [
                [Fault.timeout(1.0)],
                [Fault.drop()],
                [Fault.status(429, retry_after=0.1)],
                [Fault.status(500)],
                [Fault.status(401)],
                [Fault.status(403)],
                [Fault.echo(404)],
                [Fault.echo(502)],
            ],
            start=2,
        ):
            for fake in fakes:
                fake.fail_next(*faults)
            posts = [make_post(i) for i in range(1, n + 1)]
            reports.append(announce(every, posts, state, log=logs.append).as_dict())
        # A dead host too: requests' own error text names the URL path.
        monkeypatch.setenv("T_SLACK_URL", "http://127.0.0.1:9/services/T000/B000/XXXXXXXXXXXXXXXX")
        dead = target("slack", "slack", {"url": "${T_SLACK_URL}"})
        reports.append(
            announce([dead], [make_post(i) for i in range(1, 12)], state, log=logs.append).as_dict()
        )
    finally:
        for cm in stack:
            cm.__exit__(None, None, None)
    printed = capfd.readouterr()
    written = b"".join(
        p.read_bytes() for p in [*state.iterdir(), tmp_path / "out.jsonl"] if p.is_file()
    )
    haystack = "\n".join(
        [*logs, json.dumps(reports, ensure_ascii=False), printed.out, printed.err]
    ) + written.decode("utf-8", "replace")
    assert logs and any("in_doubt" in line or "retrying" in line for line in logs)
    assert "…" in haystack  # secrets were there to hide, and were hidden
    for secret in secrets:
        assert secret not in haystack, f"a secret ending {secret[-4:]} leaked"


def test_github_actions_masks_each_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.announce import github_masks

    register_secret("a-token-for-the-mask-test")
    lines: list[str] = []
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert github_masks(lines.append) == 0 and lines == []
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert github_masks(lines.append) >= 1
    assert "::add-mask::a-token-for-the-mask-test" in lines


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_finishes_the_request_in_flight_and_sends_nothing_more(
    tmp_path: Path, signum: int, code: int
) -> None:
    state = tmp_path / "state"
    n = 6
    with SlackFake() as slack, MastodonFake() as mastodon:
        assert isinstance(slack, SlackFake) and isinstance(mastodon, MastodonFake)
        env = {"K_SLACK": slack.url, "K_MASTODON": mastodon.token}
        targets = [
            ["slack", "slack", {"url": "${K_SLACK}", "max_per_run": 50}],
            [
                "mastodon",
                "mastodon",
                {"instance": mastodon.base, "token": "${K_MASTODON}", "max_per_run": 50},
            ],
        ]
        os.environ.update(env)
        try:
            baseline([target(*t) for t in targets], state)  # type: ignore[arg-type]
        finally:
            for key in env:
                os.environ.pop(key)
        slack.latency = mastodon.latency = 0.3
        spec = {"state": str(state), "targets": targets, "posts": n}
        child = _child(spec, tmp_path, env)
        try:
            _wait_for(lambda: len(slack.delivered) >= 1 and len(mastodon.delivered) >= 1, 30)
            before = {"slack": len(slack.writes()), "mastodon": len(mastodon.writes())}
            child.send_signal(signum)
            out, err = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
        after = {"slack": len(slack.writes()), "mastodon": len(mastodon.writes())}
        assert child.returncode == code, err
        assert "Traceback" not in err
        report = json.loads(out)
        rows = list_state(state / "announce.sqlite")
        rerun = _child(spec, tmp_path, env)
        rerun_out, rerun_err = rerun.communicate(timeout=60)
        assert rerun.returncode == 0, rerun_err
    # At most the request in flight went out after the signal, and it was recorded.
    for name in ("slack", "mastodon"):
        assert before[name] <= after[name] <= before[name] + 1, (name, before, after)
    assert report["interrupted"] == signum
    stopped = [d for d in report["decisions"] if d["result"] == "interrupted"]
    assert len(stopped) == 2 * n - report["sent"] and stopped
    assert {r.status for r in rows} == {"sent"} and len(rows) == report["sent"]
    assert sum(after.values()) == report["sent"]
    # The next run sends the rest, each exactly once.
    assert json.loads(rerun_out)["sent"] == 2 * n - report["sent"]
    for texts in ([b["text"] for b in slack.delivered], [b["status"] for b in mastodon.delivered]):
        assert len(texts) == len(set(texts)) == n
