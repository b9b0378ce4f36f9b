"""The GitHub Action, run locally as a runner would: two merges in a row, a lost ledger,
a stale or evicted local state, two runs at once, the token input over real git HTTP.
Each scenario runs several runner jobs (marked `slow`); the static checks of action.yml
and the example workflows are in test_automation_workflows.py."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from automation_runner import ACTION, NOW, ActionRun, SiteRepo, git, run_action

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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_an_evicted_state_folder_restores_from_the_branch(site: SiteRepo) -> None:
    """No cache to lose: every run starts from a fresh clone and the branch."""
    run_action(site)
    site.merge("2026-05-20-new-one")
    run = run_action(site)
    assert not (site.root / "runner-1" / "site" / ".publisher" / "x").exists()
    assert "restored the ledger from publisher-state" in run.logs["restore"]
    assert announced(site) == ["2026-05-20-new-one"]


@pytest.mark.slow
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


@pytest.mark.slow
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


# -- the documented inputs, run ------------------------------------------------------


@pytest.mark.slow
def test_documented_args_verbose_and_backfill_work(site: SiteRepo) -> None:
    """action.yml's own example, `--verbose --backfill 3`, on a first run."""
    description = yaml.safe_load(ACTION.read_text("utf-8"))["inputs"]["args"]["description"]
    assert "`--verbose --backfill 3`" in description
    run = run_action(site, args="--now 2026-06-01T12:00:00Z --verbose --backfill 3")
    assert run.results["publish"] == 0, run.log
    assert run.outputs["announcements-sent"] == "2"
    assert sorted(announced(site)) == ["2026-05-10-old-one", "2026-05-11-old-two"]


@pytest.mark.slow
def test_json_report_stays_pure_json_with_masks_in_github_actions(site: SiteRepo) -> None:
    secret = "https://hooks.example.org/services/T0/B0/" + "s3cretvalue" * 3
    config = site.config() + "    - kind: slack\n      url: ${SLACK_WEBHOOK_URL}\n"
    (site.author / "config.yaml").write_text(config, encoding="utf-8")
    site.merge()
    run = ActionRun(
        site.checkout(),
        inputs={"args": "--now 2026-06-01T12:00:00Z", "dry-run": "true"},
        env={"SLACK_WEBHOOK_URL": secret},
    ).run()
    assert run.results["publish"] == 0, run.log
    stdout = (run.temp / "publisher-report.json").read_text(encoding="utf-8")
    report = json.loads(stdout)  # the whole of stdout, nothing before or after
    assert report["command"] == "publish" and "::" not in stdout
    assert f"::add-mask::{secret}" in run.logs["publish"]  # on stderr, read by the runner
    assert run.outputs["posts-built"] == "2"


# -- the explicit token, over a real git smart-HTTP server on 127.0.0.1 -------------------


class _GitHost(BaseHTTPRequestHandler):
    """GitHub's side of a fetch and a push: ``git http-backend`` behind Basic auth, as
    GitHub takes a token (user ``x-access-token``)."""

    root: ClassVar[Path]
    token: ClassVar[str]
    seen: ClassVar[list[tuple[str, int]]] = []

    def _serve(self) -> None:
        scheme, _, credentials = self.headers.get("Authorization", "").partition(" ")
        expected = base64.b64encode(f"x-access-token:{self.token}".encode()).decode()
        # The auth scheme is case-insensitive (RFC 7235); actions/checkout writes "basic".
        if scheme.lower() != "basic" or credentials != expected:
            self.seen.append((self.path, 401))
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = {
            "PATH": os.environ.get("PATH", ""),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": "x-access-token",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        done = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(": ")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value))
        self.seen.append((self.path, status))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.slow
def test_the_state_branch_is_fetched_and_pushed_with_the_token_input(site: SiteRepo) -> None:
    """persist-credentials: false leaves the checkout no credentials: restore and save
    authenticate with the `token` input alone, and the token is never printed."""
    token = "ghs_" + "t0kenForTheStateBranch" * 2
    git(site.origin, "config", "http.receivepack", "true")
    _GitHost.root, _GitHost.token = site.root, token
    _GitHost.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GitHost)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"http://127.0.0.1:{server.server_port}"
    try:

        def runner(token_input: str) -> ActionRun:
            workspace = site.checkout()
            git(workspace, "remote", "set-url", "origin", f"{host}/origin.git")
            return ActionRun(
                workspace,
                inputs={"args": f"--now {NOW}", "token": token_input},
                env={"GITHUB_SERVER_URL": host},
            ).run()

        refused = runner("")  # no token and no persisted credentials: git cannot fetch
        assert refused.results["restore"] != 0 and "publish" not in refused.results
        assert ("/origin.git/info/refs?service=git-upload-pack", 401) in _GitHost.seen

        first = runner(token)
        assert first.results["restore"] == 0 and first.results["save"] == 0, first.log
        assert site.branch_head() is not None  # pushed over HTTP with the token
        site.merge("2026-05-20-new-one")
        second = runner(token)
        assert second.results["save"] == 0, second.log
        assert announced(site) == ["2026-05-20-new-one"]
        assert any(p.endswith("git-receive-pack") and s == 200 for p, s in _GitHost.seen)
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        for run in (first, second):
            assert token not in run.log and f"::add-mask::{basic}" in run.logs["restore"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_config_working_directory_and_state_branch_inputs(site: SiteRepo) -> None:
    """A site kept in a subfolder with its own config name and ledger branch."""
    web = site.author / "web"
    web.mkdir()
    git(site.author, "mv", "config.yaml", "web/blog.yaml")
    git(site.author, "mv", "posts", "web/posts")
    site.merge()
    inputs = {"working-directory": "web", "config": "blog.yaml", "state-branch": "ledger"}
    first = run_action(site, **inputs)
    assert first.results["publish"] == 0, first.log
    assert first.outputs["posts-built"] == "2"
    assert site.branch_head("ledger") is not None and site.branch_head() is None
    site.merge("2026-05-20-new-one")  # SiteRepo writes posts/ at the root: move it in
    git(site.author, "mv", "posts/2026-05-20-new-one", "web/posts/2026-05-20-new-one")
    site.merge()
    second = run_action(site, **inputs)
    assert second.outputs["announcements-sent"] == "1", second.log
    assert announced(site) == ["2026-05-20-new-one"]
    steps = yaml.safe_load(ACTION.read_text("utf-8"))["runs"]["steps"]
    setup = next(s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
