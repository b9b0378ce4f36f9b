"""`.pre-commit-hooks.yaml`: other repositories run `publish check` as a pre-commit hook.

Run by pre-commit itself (``try-repo`` on this checkout, in a temporary site repository):
pre-commit builds the hook's own environment from this checkout, as it does for a user.
One run (~10 s: a fresh virtualenv and an install); a clean site passing is the same command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO


def _git(cwd: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "A",
        "GIT_AUTHOR_EMAIL": "a@example.org",
        "GIT_COMMITTER_NAME": "A",
        "GIT_COMMITTER_EMAIL": "a@example.org",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _try_repo(site: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "PUBLISHER_"))}
    env["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "publish-check", "--all-files"],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_pre_commit_try_repo_runs_publish_check_on_a_site(tmp_path: Path) -> None:
    """The hook as another repository uses it: pre-commit builds its own environment from
    this checkout (``language: python``), then runs ``publish check`` on the site."""
    pytest.importorskip(
        "pre_commit", reason="pre-commit is a test dependency: pip install '.[test]'"
    )
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout of this repository")
    site = tmp_path / "site"
    post = site / "posts" / "2024-01-02-a" / "index.md"
    post.parent.mkdir(parents=True)
    post.write_text("---\ntitle: A\ndate: next tuesday\n---\n\nBody.\n", encoding="utf-8")
    (site / "config.yaml").write_text(
        "site:\n  title: T\n  url: https://blog.example.org\ncards:\n  enabled: false\n",
        encoding="utf-8",
    )
    _git(site, "init", "-q")
    _git(site, "add", "-A")
    failed = _try_repo(site, tmp_path / "pre-commit-home")
    log = failed.stdout + failed.stderr
    if failed.returncode == 3 and "-mpip', 'install', '.'" in log:
        # pre-commit installs this package and its dependencies from the package index into
        # a fresh environment (build isolation fetches hatchling too): offline it cannot.
        pytest.skip(
            "pre-commit could not install the hook's environment (no package index here?): "
            + log.strip().splitlines()[-1][:200]
        )
    assert failed.returncode == 1, log
    assert "publish check....." in log and "Failed" in log and "exit code: 3" in log
    assert "posts/2024-01-02-a/index.md:3: date 'next tuesday' is not a date" in log


def test_pre_commit_hook_manifest_is_valid() -> None:
    clientlib = pytest.importorskip("pre_commit.clientlib")
    (hook,) = clientlib.load_manifest(str(REPO / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "publish-check" and hook["entry"] == "publish check -q"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    for changed in ("config.yaml", "blog/config.yml", "posts/a/index.md", "posts/a/card.webp"):
        assert files.search(changed), changed
    assert not files.search("src/app.py")
