"""A damaged, empty or locked ledger is one clear error (exit 2) for every command that
reads it, never a traceback and never a new baseline; repairs of unknown rows fail loudly."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Site
from publisher import cli
from publisher.announce import ledger as ledger_module
from publisher.announce.ledger import sqlite as sqlite_ledger
from publisher.errors import StateError

OUTBOX = "announce:\n  targets:\n    - kind: outbox\n      path: outbox.jsonl\n"
NOW = "--now=2024-01-05T12:00:00Z"


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    """``publish ARGS`` in this process (fast): exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["publish", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.fixture
def announced(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A site whose ledger has a baseline and one sent post: a ledger worth keeping."""
    site.config(site.config_path.read_text() + OUTBOX)
    site.post("p1", "title: One\ndate: 2024-01-01")
    assert run(capsys, monkeypatch, "announce", NOW)[0] == 0
    site.post("p2", "title: Two\ndate: 2024-01-02")
    assert run(capsys, monkeypatch, "announce", NOW)[0] == 0
    site.post("p3", "title: Three\ndate: 2024-01-03")
    return site.root / "state" / "announce.sqlite"


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) >= 3 * 4096, "the fixture ledger should span several pages"
    path.write_bytes(data[:4096])


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 20)


def _zeroed_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # the right length, but a page of nonsense
    path.write_bytes(bytes(data))


COMMANDS = [
    ("announce", NOW),
    ("announce", "--dry-run", NOW),
    ("state", "list"),
    ("publish", NOW),
    ("--dry-run", "publish", NOW),
]


@pytest.mark.parametrize("damage", [_empty, _truncated, _garbage, _zeroed_page])
def test_a_damaged_ledger_is_one_clear_error_everywhere(
    announced: Path,
    damage: object,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    damage(announced)  # type: ignore[operator]
    before = announced.read_bytes()
    for command in COMMANDS:
        args = [a for a in command if a != "publish"]
        code, _, err = run(capsys, monkeypatch, *args)
        assert code == 2, (command, err)
        assert "Traceback" not in err
        (line,) = [line for line in err.splitlines() if line.startswith("error:")]
        assert "announce.sqlite: the announcement ledger is damaged" in line, line
        assert "Put back a good copy" in line
        # Never a new baseline: the damaged file is left exactly as it was.
        assert announced.read_bytes() == before
    assert not (announced.parent.parent / "outbox.jsonl").read_text().count("p3")


def test_a_missing_ledger_is_a_first_run(
    announced: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    announced.unlink()
    assert run(capsys, monkeypatch, "state", "list")[0] == 0
    code, _, err = run(capsys, monkeypatch, "announce", NOW)
    assert code == 0, err
    rows = run(capsys, monkeypatch, "state", "list")[1].splitlines()
    assert sorted(rows) == [f"outbox\tp{i}\tskipped\t0\t" for i in (1, 2, 3)]


def test_a_new_ledger_is_created_whole(tmp_path: Path) -> None:
    path = tmp_path / "state" / "announce.sqlite"
    with ledger_module.Ledger(path) as ledger:
        assert ledger.entries() == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["announce.sqlite"]
    ledger_module.check_file(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA application_id").fetchone() == (ledger_module.APPLICATION_ID,)


def test_a_sqlite_file_that_is_not_a_ledger_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "announce.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE photos (id INTEGER)")
    for readonly in (True, False):
        with pytest.raises(StateError, match="not an announcement ledger"):
            ledger_module.Ledger(path, readonly=readonly)


def test_a_held_lock_says_wait_and_never_to_move_the_ledger_aside(
    announced: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_ledger, "BUSY_TIMEOUT", 0.2)
    before = announced.read_bytes()
    holder = sqlite3.connect(announced, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        for args in (("announce", NOW), ("announce", "--dry-run", NOW), ("state", "list")):
            code, _, err = run(capsys, monkeypatch, *args)
            assert code == 2, (args, err)
            assert "another run holds the lock on the ledger; wait for it to finish" in err
            assert "aside" not in err and "damaged" not in err and "Traceback" not in err
        code, _, err = run(capsys, monkeypatch, "announce", "--detailed-exit-codes", NOW)
        assert code == cli.EXIT_BUSY, err
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert announced.read_bytes() == before
    assert run(capsys, monkeypatch, "announce", NOW)[0] == 0


def test_forget_and_mark_sent_refuse_unknown_posts_and_targets(
    announced: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = announced.read_bytes()
    cases = [
        (("state", "forget", "p9"), "the ledger has no row of post 'p9'; nothing was forgotten"),
        (("state", "forget", "p2", "--target", "nope"), "has no target named 'nope'"),
        (("state", "mark-sent", "p9"), "no post with id 'p9'; nothing was marked"),
        (("state", "mark-sent", "p2", "--target", "nope"), "no target named 'nope'"),
    ]
    for args, message in cases:
        code, _, err = run(capsys, monkeypatch, *args)
        assert code == 2, (args, err)
        assert message in err, err
        assert "Traceback" not in err
    assert announced.read_bytes() == before
    code, _, err = run(capsys, monkeypatch, "state", "mark-sent", "p3")
    assert code == 0 and "marked p3 as sent for 1 target(s)" in err
    code, _, err = run(capsys, monkeypatch, "state", "forget", "p2")
    assert code == 0 and "forgot 1 ledger row(s) of p2" in err


def test_a_run_killed_mid_write_is_rolled_back_not_called_damage(
    announced: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    child = (
        "import os, sqlite3\n"
        f"db = sqlite3.connect({str(announced)!r}, isolation_level=None)\n"
        "db.execute('PRAGMA cache_size=1')\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "db.execute('DELETE FROM announcements')\n"
        "for i in range(2000):\n"
        "    db.execute(\"INSERT INTO targets VALUES (?, 'x', 'y')\", ('t' * 200 + str(i),))\n"
        "os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", child], check=False)
    journal = announced.with_name("announce.sqlite-journal")
    assert journal.stat().st_size > 0  # a hot journal: the write never committed
    before = (announced.read_bytes(), journal.read_bytes())
    for args in (("state", "list"), ("announce", "--dry-run", NOW)):
        code, _, err = run(capsys, monkeypatch, *args)
        assert code == 0, err
    assert "outbox\tp2\tsent" in run(capsys, monkeypatch, "state", "list")[1]
    assert (announced.read_bytes(), journal.read_bytes()) == before  # read-only means it
    code, _, err = run(capsys, monkeypatch, "announce", NOW)
    assert code == 0, err
    assert not journal.exists()
    assert "outbox\tp2\tsent" in run(capsys, monkeypatch, "state", "list")[1]
