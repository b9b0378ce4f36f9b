"""The Action's ledger save: tried again after a failed push, run even when publish was
killed after sending, and, when every try fails, a list of what to record by hand.
The site's 'GitHub' is a bare repository whose pre-receive hook refuses pushes on cue."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from automation_runner import NOW, ActionRun, SiteRepo, git, run_action

from publisher.automation.statebranch import is_permanent

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

NEW = "2026-05-20-new-one"
FAST = {"PUBLISHER_SAVE_BACKOFF": "0.05"}


@pytest.fixture
def site(tmp_path: Path) -> SiteRepo:
    repo = SiteRepo(tmp_path, tmp_path / "announced" / "outbox.jsonl")
    repo.outbox.parent.mkdir()
    repo.merge("2026-05-10-old-one")
    assert run_action(repo).results["save"] == 0  # the baseline is on the branch
    repo.merge(NEW)
    return repo


def refuse_pushes(site: SiteRepo, times: int, answer: str) -> None:
    """The next ``times`` pushes to the site's repository fail with ``answer``."""
    (site.origin / "refusals").write_text(str(times))
    hook = site.origin / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        "n=$(cat refusals 2>/dev/null || echo 0)\n"
        'if [ "$n" -gt 0 ]; then\n'
        "  echo $((n - 1)) > refusals\n"
        f"  echo '{answer}' >&2\n"
        "  exit 1\n"
        "fi\n"
    )
    hook.chmod(0o755)


def announced(site: SiteRepo) -> list[str]:
    if not site.outbox.exists():
        return []
    return [json.loads(line)["post_id"] for line in site.outbox.read_text().splitlines()]


def branch_rows(site: SiteRepo) -> set[tuple[str, str, str]]:
    data = json.loads(git(site.origin, "show", "publisher-state:ledger.json"))
    return {(r["target"], r["post_id"], r["status"]) for r in data["announcements"]}


def job(site: SiteRepo, env: dict[str, str], **kwargs: object) -> ActionRun:
    return ActionRun(site.checkout(), inputs={"args": f"--now {NOW}"}, env=env, **kwargs).run()  # type: ignore[arg-type]


def test_a_transient_push_failure_is_tried_again_with_a_growing_wait(site: SiteRepo) -> None:
    refuse_pushes(site, 2, "error: RPC failed; HTTP 502 curl 22 The requested URL returned 502")
    run = job(site, FAST)
    assert run.results["publish"] == 0 and run.results["save"] == 0, run.log
    assert "trying again in 0.05 s" in run.logs["save"]
    assert "trying again in 0.1 s" in run.logs["save"]
    assert ("outbox", NEW, "sent") in branch_rows(site)  # the next run will not resend it


def test_a_refusal_stops_at_once_and_failing_tries_list_what_is_missing(
    site: SiteRepo,
) -> None:
    refuse_pushes(site, 10, "remote: Permission to example/site.git denied to github-actions[bot].")
    run = job(site, FAST)
    assert run.results["save"] == 2, run.log
    log = run.logs["save"]
    assert "trying again" not in log  # retrying cannot fix permissions
    assert "permissions: contents: write" in log and f"outbox/{NEW}" in log

    refuse_pushes(site, 10, "fatal: the remote end hung up unexpectedly")
    run = job(site, {**FAST, "PUBLISHER_SAVE_ATTEMPTS": "3"})
    assert run.results["save"] == 2, run.log
    log = run.logs["save"]
    assert log.count("trying again") == 2
    assert "after 3 tries" in log and "the remote end hung up" in log
    assert f"Not on the branch yet: outbox/{NEW}" in log
    assert f"publish state mark-sent {NEW} --target outbox" in log
    assert "::error title=publisher state::" in log
    assert ("outbox", NEW, "sent") not in branch_rows(site)


def test_the_ledger_is_saved_when_publish_is_killed_after_sending(site: SiteRepo) -> None:
    run = job(site, FAST, killed_after=frozenset({"publish"}))
    assert announced(site) == [NEW]
    assert run.results.get("save") == 0, run.log  # if: always()
    assert ("outbox", NEW, "sent") in branch_rows(site)


def test_nothing_is_saved_after_a_failed_restore(tmp_path: Path) -> None:
    site = SiteRepo(tmp_path, tmp_path / "outbox.jsonl")
    site.merge("2026-05-10-old-one")
    run = ActionRun(
        site.checkout(), inputs={"args": f"--now {NOW}", "require-state-branch": "true"}
    ).run()
    assert run.results["restore"] == 2
    assert "save" not in run.results and "publish" not in run.results
    assert site.branch_head() is None


def test_restore_replaces_a_damaged_ledger_with_the_branch_copy(site: SiteRepo) -> None:
    workspace = site.checkout()
    ledger = workspace / ".publisher" / "announce.sqlite"
    ledger.parent.mkdir()
    ledger.write_bytes(b"")  # what a full disk leaves
    run = ActionRun(workspace, inputs={"args": f"--now {NOW}"}, env=FAST).run()
    assert run.results["restore"] == 0, run.log
    assert "the ledger here was damaged: moved to" in run.logs["restore"]
    assert run.results["publish"] == 0 and announced(site) == [NEW]  # not a new baseline
    (aside,) = ledger.parent.glob("announce.sqlite.damaged-*")
    assert aside.read_bytes() == b""


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [
        # CI once gave up at once on a 502: the rejected commit's id held "403".
        (
            "remote: error: RPC failed; HTTP 502 curl 22 The requested URL returned 502\n"
            "To ../origin-1079.git\n"
            " ! [remote rejected] f532132fd40322fa623af712219f0acb34e23d76 -> publisher-state "
            "(pre-receive hook declined)",
            False,
        ),
        ("To https://example.org/site-403.git\n ! [rejected] (fetch first)", False),
        ("fatal: the remote end hung up unexpectedly", False),
        ("remote: Permission to example/site.git denied to github-actions[bot].", True),
        ("fatal: unable to access: The requested URL returned error: 403", True),
        ("remote: error: GH006: Protected branch update failed", True),
    ],
)
def test_only_whole_words_outside_ids_and_urls_make_a_refusal_permanent(
    answer: str, permanent: bool
) -> None:
    assert is_permanent(answer) is permanent
