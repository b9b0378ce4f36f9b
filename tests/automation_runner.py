"""Run action.yml's steps the way a GitHub runner runs a composite action, on this machine.

A bare git repository stands in for the site's GitHub repository; each run clones it
afresh (a runner keeps nothing), sets the ``GITHUB_*`` variables and files, evaluates the
few expression forms action.yml uses, and runs each ``run:`` step with
``bash --noprofile --norc -eo pipefail`` as the runner does. Two steps are the runner's
setup, not the action's logic, and are checked rather than run: ``actions/setup-python``
(this interpreter stands in) and the ``pip install "$GITHUB_ACTION_PATH"`` step (the
package under test is already installed in it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
ACTION = REPO / "action.yml"
NOW = "2026-06-01T12:00:00Z"
_EXPR = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Author",
        "GIT_AUTHOR_EMAIL": "author@example.org",
        "GIT_COMMITTER_NAME": "Author",
        "GIT_COMMITTER_EMAIL": "author@example.org",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


class SiteRepo:
    """The site's repository (a bare repo as 'GitHub') and an author's clone that merges."""

    def __init__(self, root: Path, outbox: Path) -> None:
        self.root = root
        self.origin = root / "origin.git"
        self.outbox = outbox
        git(root, "init", "-q", "--bare", "-b", "main", str(self.origin))
        self.author = root / "author"
        git(root, "clone", "-q", str(self.origin), str(self.author))
        git(self.author, "checkout", "-q", "-b", "main")
        (self.author / "config.yaml").write_text(self.config(), encoding="utf-8")
        (self.author / ".gitignore").write_text("public/\n.publisher/\n", encoding="utf-8")
        self.runs = 0

    def config(self, targets: tuple[str, ...] = ("outbox",)) -> str:
        listed = "".join(
            f"    - kind: outbox\n      name: {name}\n      path: {self.outbox.parent / (name + '.jsonl')}\n"
            for name in targets
        )
        return (
            textwrap.dedent(
                """\
            site:
              title: Test Blog
              url: https://blog.example.org
            posts:
              folder: posts
            output:
              folder: public
            state:
              folder: .publisher
            cards:
              enabled: false
            announce:
              targets:
            """
            )
            + listed
        )

    def merge(self, *post_ids: str, targets: tuple[str, ...] | None = None) -> None:
        """A pull request merged into main: new posts (dated before NOW), pushed."""
        for post_id in post_ids:
            folder = self.author / "posts" / post_id
            folder.mkdir(parents=True)
            day = int(post_id.split("-")[2])
            (folder / "index.md").write_text(
                f"---\ntitle: Post {post_id}\ndate: '2026-05-{day:02d}T10:00:00Z'\n---\n\nBody.\n",
                encoding="utf-8",
            )
        if targets is not None:
            (self.author / "config.yaml").write_text(self.config(targets), encoding="utf-8")
        git(self.author, "add", "-A")
        git(self.author, "commit", "-q", "-m", f"merge {' '.join(post_ids) or 'config'}")
        git(self.author, "push", "-q", "origin", "main")

    def checkout(self) -> Path:
        """A fresh runner's actions/checkout: nothing survives from earlier runs."""
        self.runs += 1
        workspace = self.root / f"runner-{self.runs}" / "site"
        git(self.root, "clone", "-q", str(self.origin), str(workspace))
        return workspace

    def branch_head(self, branch: str = "publisher-state") -> str | None:
        out = git(self.origin, "for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}")
        return out.strip() or None


@dataclass
class ActionRun:
    """One job using the action: inputs in; step results, outputs and summary out."""

    workspace: Path
    inputs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    results: dict[str, int] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    step_outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: bool = False
    position: int = 0
    #: Step ids the runner kills right after they ran (a timeout or a cancel): the step
    #: fails and with it the job, as after ``timeout-minutes`` ran out.
    killed_after: frozenset[str] = frozenset()
    outcomes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
        defaults = {k: str(v.get("default", "")) for k, v in self.action["inputs"].items()}
        unknown = set(self.inputs) - set(defaults)
        assert not unknown, f"action.yml has no inputs {unknown}"
        self.values = {**defaults, **self.inputs}
        self.temp = self.workspace.parent / "runner-temp"
        self.temp.mkdir(exist_ok=True)
        self.summary_file = self.workspace.parent / "step-summary.md"
        self.summary_file.touch()

    # -- expressions ----------------------------------------------------------

    def _value(self, expression: str) -> str:
        if m := re.fullmatch(r"inputs\.([\w-]+)", expression):
            return self.values[m[1]]
        if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression):
            return self.step_outputs.get(m[1], {}).get(m[2], "")
        raise AssertionError(
            f"action.yml uses an expression this runner does not know: {expression}"
        )

    def _expand(self, text: str) -> str:
        return _EXPR.sub(lambda m: self._value(m[1]), text)

    def _condition(self, condition: str) -> bool:
        """GitHub's rule: without a status function (always(), success()) success() is implied."""
        terms = [t.strip() for t in condition.split("&&")]
        if not any(t in ("always()", "success()") for t in terms):
            terms.append("success()")
        return all(self._term(t) for t in terms)

    def _term(self, term: str) -> bool:
        if term == "always()":
            return True
        if term == "success()":
            return not self.failed
        if m := re.fullmatch(r"inputs\.([\w-]+) != '([^']*)'", term):
            return self.values[m[1]] != m[2]
        if m := re.fullmatch(r"steps\.([\w-]+)\.outcome == '(\w+)'", term):
            return self.outcomes.get(m[1], "skipped") == m[2]
        raise AssertionError(f"action.yml uses a condition this runner does not know: {term}")

    # -- running --------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PUBLISHER_", "GITHUB_"))}
        return {
            **base,
            "PATH": bin_dir + os.pathsep + base.get("PATH", ""),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTION_PATH": str(REPO),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_REPOSITORY": "example/site",
            "GITHUB_RUN_ID": str(1000 + len(str(self.workspace))),
            "GITHUB_SHA": git(self.workspace, "rev-parse", "HEAD").strip(),
            "GITHUB_STEP_SUMMARY": str(self.summary_file),
            "RUNNER_TEMP": str(self.temp),
            **self.env,
        }

    def run(self, until: str | None = None) -> ActionRun:
        """Run the steps in order (up to, not including, step ``until``)."""
        steps = self.action["runs"]["steps"]
        while self.position < len(steps):
            step = steps[self.position]
            if until is not None and step.get("id") == until:
                return self
            self.position += 1
            if not self._condition(step.get("if", "success()")):
                continue
            if "uses" in step:
                assert step["uses"].startswith("actions/setup-python@"), step["uses"]
                continue
            if step.get("id") == "install":
                assert '"$GITHUB_ACTION_PATH"' in step["run"] and "pip install" in step["run"]
                continue
            self._run_step(step)
        return self

    def _run_step(self, step: dict[str, Any]) -> None:
        name = step.get("id") or step["name"]
        output = self.temp / f"output-{name}"
        output.write_text("", encoding="utf-8")
        env = self._environment()
        env.update({k: self._expand(str(v)) for k, v in (step.get("env") or {}).items()})
        env["GITHUB_OUTPUT"] = str(output)
        script = self.temp / f"step-{name}.sh"
        script.write_text(self._expand(step["run"]), encoding="utf-8")
        cwd = self.workspace / self._expand(step.get("working-directory", "."))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        self.results[name] = done.returncode
        self.logs[name] = done.stdout + done.stderr
        values = {}
        for line in output.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            values[key] = value
        if "id" in step:
            self.step_outputs[step["id"]] = values
        failed = done.returncode != 0 or name in self.killed_after
        self.outcomes[name] = "failure" if failed else "success"
        if failed:
            self.failed = True

    @property
    def outputs(self) -> dict[str, str]:
        return {k: self._expand(v["value"]) for k, v in self.action["outputs"].items()}

    @property
    def summary(self) -> str:
        return self.summary_file.read_text(encoding="utf-8")

    @property
    def log(self) -> str:
        return "\n".join(f"--- {k} ({self.results[k]})\n{v}" for k, v in self.logs.items())


def run_action(site: SiteRepo, **inputs: str) -> ActionRun:
    """One whole job on a fresh runner."""
    inputs.setdefault("args", f"--now {NOW}")
    return ActionRun(site.checkout(), inputs=inputs).run()
