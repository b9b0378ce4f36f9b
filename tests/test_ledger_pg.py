"""The shared ledger on a real PostgreSQL server: same behaviour as SQLite, and each
(post, target) claimed once even when runners on several hosts race.

Needs a server: set PUBLISHER_TEST_PG=postgresql://USER:PASSWORD@127.0.0.1:PORT/DB
(.ci/run starts one on 127.0.0.1 and sets it). Each test works in a schema of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.harness import announce, baseline
from fakes.platforms import SlackFake
from fakes.posts import NOW, make_post, target

from publisher.announce import forget, list_state, mark_sent
from publisher.announce.ledger import open_ledger
from publisher.errors import StateError

psycopg = pytest.importorskip(
    "psycopg", reason="the PostgreSQL ledger needs psycopg: pip install 'publisher[postgres]'"
)

CHILD = Path(__file__).parent / "fakes" / "announce_child.py"
HOW = (
    "PostgreSQL ledger tests need a server: set PUBLISHER_TEST_PG="
    "postgresql://USER:PASSWORD@127.0.0.1:PORT/DB (.ci/run starts one and sets it)"
)


def _server() -> str:
    url = os.environ.get("PUBLISHER_TEST_PG", "")
    if not url:
        pytest.skip(HOW)
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.skip(f"{HOW}; {url.split('@')[-1]} did not answer: {exc}")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose connections work in a fresh, private schema."""
    server = _server()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in server else "?"
    yield f"{server}{joiner}options=-csearch_path%3D{schema}"
    with psycopg.connect(server, autocommit=True) as db:
        db.execute(f"DROP SCHEMA {schema} CASCADE")


def outbox(path: Path, **extra: object) -> object:
    return target("out", "outbox", {"path": str(path), "max_per_run": 100, **extra})


def lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _rows(location: str | Path) -> list[tuple[str, str, str, str | None, int]]:
    return [
        (e.post_id, e.target, e.status, e.reason, e.attempts)
        for e in list_state(location)  # timestamps and keys differ between runs
    ]


def test_postgres_and_sqlite_ledgers_decide_the_same(pg_url: str, tmp_path: Path) -> None:
    results = {}
    for name, location in (("sqlite", tmp_path / "state" / "announce.sqlite"), ("pg", pg_url)):
        box = tmp_path / f"{name}.jsonl"
        targets = [outbox(box)]
        old = [make_post(i) for i in range(3)]
        first = announce(targets, old, tmp_path / "state", ledger_path=location)
        second = announce(
            targets, [*old, make_post(5), make_post(6)], tmp_path / "state", ledger_path=location
        )
        third = announce(
            targets, [*old, make_post(5), make_post(6)], tmp_path / "state", ledger_path=location
        )
        results[name] = (
            [(d.post_id, d.reason, d.result) for d in first.decisions],
            [(d.post_id, d.reason, d.result) for d in second.decisions],
            [(d.post_id, d.reason, d.result) for d in third.decisions],
            _rows(location),
            [line["post_id"] for line in lines(box)],
        )
    assert results["pg"] == results["sqlite"]
    assert results["pg"][4] == [make_post(5).id, make_post(6).id]


def test_a_claimed_pair_cannot_be_claimed_by_another_runner(pg_url: str) -> None:
    post = make_post(1).id
    with open_ledger(pg_url) as a, open_ledger(pg_url) as b:
        assert a.begin(post, "out", "outbox", "k" * 32, NOW, expect=None) is not None
        # A is mid-send: B's claim fails without waiting, and B may not call it interrupted.
        assert b.begin(post, "out", "outbox", "x" * 32, NOW, expect=None) is None
        assert b.begin(post, "out", "outbox", "x" * 32, NOW, expect="sending") is None
        assert b.mark_interrupted(post, "out", "gone?") is False
        a.sent(post, "out", NOW, remote_id=None, remote_url=None, http_status=None)
        # Sent: a runner that planned it as new before A sent it loses the claim.
        assert b.begin(post, "out", "outbox", "x" * 32, NOW, expect=None) is None
        entry = b.get(post, "out")
        assert entry is not None and entry.status == "sent" and entry.key == "k" * 32


def test_a_runner_that_dies_mid_send_frees_its_claim(pg_url: str) -> None:
    post = make_post(1).id
    a = open_ledger(pg_url)
    assert a.begin(post, "out", "slack", "k" * 32, NOW, expect=None) is not None
    a.close()  # the connection ends as a killed process's would: its locks go with it
    with open_ledger(pg_url) as b:
        assert b.mark_interrupted(post, "out", "an earlier run stopped while sending it") is True
        entry = b.get(post, "out")
        assert entry is not None and entry.status == "in_doubt"


def test_two_processes_racing_send_each_announcement_once(pg_url: str, tmp_path: Path) -> None:
    n = 30
    box = tmp_path / "race.jsonl"
    with SlackFake() as slack:
        env = {"RACE_SLACK": slack.url}
        targets = [
            ["out", "outbox", {"path": str(box), "max_per_run": 100}],
            ["slack", "slack", {"url": "${RACE_SLACK}", "max_per_run": 100}],
        ]
        os.environ.update(env)
        try:
            baseline([target(*t) for t in targets], tmp_path / "state")  # type: ignore[arg-type]
        finally:
            os.environ.pop("RACE_SLACK")
        # The baseline above went to SQLite; give PostgreSQL the same empty first run.
        announce(
            [target(*t) for t in targets],  # type: ignore[arg-type]
            [],
            tmp_path / "state",
            ledger_path=pg_url,
        )
        spec = {
            "state": str(tmp_path / "state"),
            "ledger": pg_url,
            "targets": targets,
            "posts": n,
            "start_at": time.time() + 1.5,
        }
        children = []
        for i in range(2):
            path = tmp_path / f"spec-{i}.json"
            path.write_text(json.dumps(spec), encoding="utf-8")
            children.append(
                subprocess.Popen(
                    [sys.executable, str(CHILD), str(path)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env={**os.environ, **env},
                )
            )
        reports = []
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            reports.append(json.loads(out))
        delivered = list(slack.delivered)
    posts = {make_post(i).id for i in range(n)}
    assert sorted(line["post_id"] for line in lines(box)) == sorted(posts)
    texts = [body["text"] for body in delivered]
    assert len(texts) == len(set(texts)) == n
    sent = [d for r in reports for d in r["decisions"] if d["result"] == "sent"]
    assert len(sent) == 2 * n  # n per target, split between the two runners
    assert {(e.status, e.attempts) for e in list_state(pg_url)} == {("sent", 1)}


def test_a_dry_run_on_an_empty_database_creates_nothing(pg_url: str, tmp_path: Path) -> None:
    report = announce(
        [outbox(tmp_path / "o.jsonl")],
        [make_post(1)],
        tmp_path / "state",
        ledger_path=pg_url,
        dry_run=True,
    )
    assert [d.reason for d in report.decisions] == ["baseline"]
    schema = pg_url.rsplit("%3D", 1)[1]
    with psycopg.connect(_server(), autocommit=True) as db:
        tables = db.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchone()
    assert tables == (0,)


def test_state_commands_work_on_the_database(pg_url: str, tmp_path: Path) -> None:
    targets = [outbox(tmp_path / "o.jsonl")]
    announce(targets, [], tmp_path / "state", ledger_path=pg_url)
    post = make_post(1).id
    assert mark_sent(pg_url, post, targets, now=NOW) == 1  # type: ignore[arg-type]
    assert [(e.post_id, e.status, e.reason) for e in list_state(pg_url)] == [
        (post, "sent", "marked")
    ]
    assert forget(pg_url, post) == 1
    assert list_state(pg_url) == ()


def test_an_unreachable_server_is_a_state_error_without_the_password() -> None:
    url = "postgresql://publisher:s3cret-pass-word@127.0.0.1:1/blog"
    with pytest.raises(StateError) as caught:
        open_ledger(url)
    message = str(caught.value)
    assert "s3cret-pass-word" not in message
    assert "127.0.0.1" in message and "cannot connect" in message
