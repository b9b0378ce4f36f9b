"""The git plumbing under the state branch: read the ledger at a commit, write a commit
holding it, ask the remote for the branch's head. No working tree is touched: the site's
checkout stays as the run left it.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.announce.redact import redact
from publisher.automation.merge import Dump
from publisher.errors import StateError

LEDGER_JSON = "ledger.json"
DEFAULT_BRANCH = "publisher-state"
_README = """\
# publisher state

This branch is written by `publisher` after each unattended run: `ledger.json` records,
for each post and announcement target, whether it was announced. Do not edit or delete
it by hand; use `publish state list|forget|mark-sent` and let the next run commit.
A missing or deleted branch makes the next run record every post as already published.
"""


@dataclass(frozen=True, kw_only=True)
class StateBranch:
    """Where the ledger is kept: ``branch`` of ``remote``, seen from the checkout ``repo``."""

    repo: Path
    branch: str = DEFAULT_BRANCH
    remote: str = "origin"

    @property
    def ref(self) -> str:
        return f"refs/heads/{self.branch}"

    @property
    def tracking(self) -> str:
        return f"refs/publisher/{self.remote}/{self.branch}"


def git(where: StateBranch, *args: str, stdin: str | None = None, check: bool = True) -> str:
    env = {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": os.environ.get("GIT_AUTHOR_NAME", "publisher"),
        "GIT_AUTHOR_EMAIL": os.environ.get("GIT_AUTHOR_EMAIL", "publisher@localhost"),
        "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME", "publisher"),
        "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL", "publisher@localhost"),
    }
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=where.repo,
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            check=False,
        )
    except FileNotFoundError:
        raise StateError("git is not installed; the state branch needs it") from None
    if check and done.returncode != 0:
        raise StateError(
            f"{where.repo}: git {args[0]} failed: {redact(done.stderr.strip() or done.stdout)}"
        )
    return done.stdout if done.returncode == 0 else ""


def try_git(where: StateBranch, *args: str) -> subprocess.CompletedProcess[str]:
    """``git ARGS`` whose failure is an answer (is it an ancestor? did the push go?)."""
    return subprocess.run(
        ["git", *args],
        cwd=where.repo,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        check=False,
    )


def remote_head(where: StateBranch) -> str | None:
    """The branch's commit in the remote, or None when the remote has no such branch."""
    out = git(where, "ls-remote", "--heads", where.remote, where.ref)
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        if ref == where.ref:
            return sha
    return None


def fetch(where: StateBranch) -> None:
    git(where, "fetch", "--quiet", "--no-tags", where.remote, f"+{where.ref}:{where.tracking}")


def ledger_at(where: StateBranch, commit: str) -> dict[str, list[dict[str, Any]]]:
    probe = try_git(where, "cat-file", "-e", f"{commit}:{LEDGER_JSON}")
    if probe.returncode != 0:
        raise StateError(
            f"state branch {where.branch!r} (commit {commit[:12]}) has no {LEDGER_JSON}: the "
            "ledger was lost, so nothing is run (a new baseline would skip new posts, no "
            "ledger would announce old ones). Restore it from the branch history "
            f"(git log {where.remote}/{where.branch}), or delete the branch to start a new "
            "baseline on purpose"
        )
    text = git(where, "show", f"{commit}:{LEDGER_JSON}")
    try:
        data = json.loads(text)
        if not isinstance(data.get("targets"), list) or not isinstance(
            data.get("announcements"), list
        ):
            raise ValueError("no targets or announcements list")
    except (ValueError, AttributeError) as exc:
        raise StateError(
            f"state branch {where.branch!r} (commit {commit[:12]}): {LEDGER_JSON} is not a "
            f"ledger ({exc}); revert the commit that changed it"
        ) from None
    return {"targets": data["targets"], "announcements": data["announcements"]}


def is_ancestor(where: StateBranch, older: str, newer: str) -> bool:
    return try_git(where, "merge-base", "--is-ancestor", older, newer).returncode == 0


def serialize(dump: Dump) -> str:
    return json.dumps(dump, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def commit_ledger(where: StateBranch, content: str, parent: str | None, message: str) -> str:
    ledger_blob = git(where, "hash-object", "-w", "--stdin", stdin=content).strip()
    readme_blob = git(where, "hash-object", "-w", "--stdin", stdin=_README).strip()
    tree = git(
        where,
        "mktree",
        stdin=f"100644 blob {readme_blob}\tREADME.md\n100644 blob {ledger_blob}\t{LEDGER_JSON}\n",
    ).strip()
    parents = ["-p", parent] if parent else []
    return git(where, "commit-tree", tree, *parents, "-m", message).strip()
