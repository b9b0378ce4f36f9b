"""The pieces under the Action: merging two ledgers, the summary table and outputs, the
SQLite claim, and the docs that a new user follows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fakes.posts import NOW, make_post

from publisher.announce.ledger import Ledger
from publisher.automation.merge import EMPTY, merge_ledgers
from publisher.automation.summary import markdown, outputs, split_report

REPO = Path(__file__).resolve().parent.parent


def row(post: str, status: str, target: str = "out", **extra: object) -> dict[str, object]:
    return {"post_id": post, "target": target, "status": status, **extra}


BASE = {"targets": [], "announcements": [row("a", "skipped")]}


@pytest.mark.parametrize(
    ("ours", "theirs", "expected", "conflicts"),
    [
        # only one side changed a row: that side wins
        ([row("a", "skipped"), row("b", "sent")], [row("a", "skipped")], {"a", "b"}, ()),
        ([row("a", "skipped")], [row("a", "skipped"), row("c", "sent")], {"a", "c"}, ()),
        # both added different posts: both kept
        (
            [row("a", "skipped"), row("b", "sent")],
            [row("a", "skipped"), row("c", "sent")],
            {"a", "b", "c"},
            (),
        ),
        # both changed one row the same way: kept once
        (
            [row("a", "skipped"), row("b", "sent", key="k")],
            [row("a", "skipped"), row("b", "sent", key="k")],
            {"a", "b"},
            (),
        ),
        # both sent the same post (different keys): a conflict, never a pick
        (
            [row("a", "skipped"), row("b", "sent", key="1")],
            [row("a", "skipped"), row("b", "sent", key="2")],
            {"a"},
            ("out/b",),
        ),
        # one side forgot a row the other did not touch: forgotten
        ([], [row("a", "skipped")], set(), ()),
    ],
)
def test_merge_ledgers(
    ours: list[dict[str, object]],
    theirs: list[dict[str, object]],
    expected: set[str],
    conflicts: tuple[str, ...],
) -> None:
    merged = merge_ledgers(
        BASE, {"targets": [], "announcements": ours}, {"targets": [], "announcements": theirs}
    )
    assert {r["post_id"] for r in merged.dump["announcements"]} == expected
    assert merged.conflicts == conflicts


def test_two_first_runs_of_a_target_keep_the_earlier_baseline() -> None:
    early = {"name": "out", "kind": "outbox", "baseline_at": "2026-05-01T00:00:00+00:00"}
    late = {**early, "baseline_at": "2026-05-02T00:00:00+00:00"}
    merged = merge_ledgers(
        EMPTY, {"targets": [late], "announcements": []}, {"targets": [early], "announcements": []}
    )
    assert merged.dump["targets"] == [early] and merged.conflicts == ()


def test_a_ledger_dumps_and_loads_the_same(tmp_path: Path) -> None:
    with Ledger(tmp_path / "a.sqlite") as ledger:
        ledger.record_baseline("out", "outbox", ["p1", "p2"], NOW)
        ledger.begin("p3", "out", "outbox", "k" * 32, NOW)
        ledger.sent("p3", "out", NOW, remote_id="1", remote_url=None, http_status=200)
        dump = ledger.dump()
    with Ledger(tmp_path / "b.sqlite") as other:
        other.load(dump)
        assert other.dump() == dump
        assert other.baseline_at("out") == NOW.isoformat(timespec="seconds")


def test_a_sqlite_claim_fails_once_the_row_moved_on(tmp_path: Path) -> None:
    post = make_post(1).id
    with Ledger(tmp_path / "l.sqlite") as ledger:
        assert ledger.begin(post, "out", "outbox", "k" * 32, NOW, expect=None) is not None
        assert ledger.begin(post, "out", "outbox", "x" * 32, NOW, expect=None) is None
        ledger.sent(post, "out", NOW, remote_id=None, remote_url=None, http_status=None)
        assert ledger.begin(post, "out", "outbox", "x" * 32, NOW, expect="failed") is None
        assert ledger.mark_interrupted(post, "out", "gone") is False


REPORT = {
    "dry_run": False,
    "posts": {"published": 3, "scheduled": [{"id": "s"}], "skipped": 0},
    "writes": [
        {"path": "feed.xml", "bytes": 10, "status": "updated"},
        {"path": "index.json", "bytes": 5, "status": "unchanged"},
    ],
    "published": [{"id": "p1", "title": "A | B <b>", "url": "https://blog.example.org/p1/"}],
    "announce": {
        "sent": 1,
        "in_doubt": 0,
        "failed": 1,
        "deferred": 0,
        "decisions": [
            {
                "post": "p1",
                "target": "slack",
                "reason": "new",
                "result": "sent",
                "remote_url": "https://chat.example.org/m/1",
            },
            {
                "post": "p1",
                "target": "mastodon",
                "reason": "new",
                "result": "failed",
                "error": "HTTP 401",
            },
            {"post": "p0", "target": "slack", "reason": "seen", "result": "skipped"},
        ],
    },
}


def test_outputs_and_summary_from_a_report() -> None:
    out = outputs(REPORT, 4)
    assert out.lines() == [
        "posts-built=3",
        "files-written=1",
        "files-deleted=0",
        "announcements-sent=1",
        "announcements-in-doubt=0",
        "announcements-failed=1",
        "exit-code=4",
    ]
    text = markdown(REPORT, 4)
    assert "| posts published | 3 (1 scheduled, 0 skipped with errors) |" in text
    assert "| files written | 1 of 2 |" in text
    assert (
        "[A \\| B &lt;b&gt;](https://blog.example.org/p1/) | slack | sent (new) | [open](https://chat.example.org/m/1) |"
        in text
    )
    assert "| mastodon | failed (new): HTTP 401 |" in text
    assert "seen" not in text  # only what happened, not every decision
    assert "| exit code | 4: done, but at least one announcement failed or is in doubt |" in text
    assert "deleted" not in text
    withdrawn = markdown({**REPORT, "deleted": ["og/gone.html", "tags/gone/rss.xml"]}, 0)
    assert "| files deleted | 2 (no longer produced) |" in withdrawn
    assert "- `tags/gone/rss.xml`" in withdrawn
    assert outputs({**REPORT, "deleted": ["og/gone.html"]}, 0).files_deleted == 1


def test_summary_lists_posts_left_for_a_later_run() -> None:
    pending = [
        {"post": "p1", "target": "slack", "reason": "new", "result": result}
        for result in ("paused", "deadline", "interrupted")
    ]
    text = markdown({**REPORT, "announce": {**REPORT["announce"], "decisions": pending}}, 0)
    for result in ("paused", "deadline", "interrupted"):
        assert f"| slack | {result} (new) |" in text


def test_mask_lines_before_the_json_are_split_off() -> None:
    raw = "::add-mask::s3cret\n::add-mask::other\n" + json.dumps(REPORT)
    commands, report = split_report(raw)
    assert commands == ["::add-mask::s3cret", "::add-mask::other"]
    assert report == REPORT
    assert split_report("") == ([], None)


def test_summary_command_writes_outputs_and_summary(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    report.write_text("::add-mask::s3cret\n" + json.dumps(REPORT), encoding="utf-8")
    out, summary = tmp_path / "out", tmp_path / "summary.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "publisher.automation",
            "summary",
            "--report",
            str(report),
            "--exit-code",
            "0",
        ],
        capture_output=True,
        text=True,
        env={"GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary), "PATH": ""},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "::add-mask::s3cret\n"
    assert "announcements-sent=1" in out.read_text(encoding="utf-8")
    assert summary.read_text(encoding="utf-8").startswith("## publisher")


def test_restore_outside_a_git_checkout_is_a_state_error(tmp_path: Path) -> None:
    (tmp_path / "posts").mkdir()
    (tmp_path / "config.yaml").write_text(
        "site: {title: T, url: https://blog.example.org}\n", encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "publisher.automation", "restore", "--config", "config.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)},
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "git ls-remote failed" in done.stderr


def test_the_automation_docs_cover_every_command_and_input() -> None:
    import yaml

    from publisher.automation.cli import automation

    docs = (REPO / "docs" / "automation.md").read_text(encoding="utf-8")
    assert "## Run it on GitHub Actions" in docs and "## Run it from cron" in docs
    for name in automation.commands:
        assert f"publish automation {name}" in docs, name
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"`{name}`" in docs, name
    for workflow in (REPO / "examples" / "github").glob("*.yml"):
        assert workflow.name in docs, workflow.name
