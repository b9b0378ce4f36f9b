"""Shared fixtures: a small site on disk, written by each test for itself."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "cilium-sample" / "posts"

BASE_CONFIG = """\
site:
  title: Test Blog
  url: https://blog.example.org
  timezone: Europe/Berlin
posts:
  folder: posts
output:
  folder: public
state:
  folder: state
"""

#: A site with cards off and RSS, Atom, JSON and tag feeds: what the tests that hold an
#: incremental build to a cold one start from.
FEEDS_CONFIG = """\
site:
  title: Blog
  url: https://blog.example.org
  timezone: UTC
posts:
  folder: posts
output:
  folder: public
state:
  folder: state
cards:
  enabled: false
feeds:
  formats: [rss, atom, json]
  tags: true
"""


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (none if it is absent), by its path below it: what a
    build left, to compare with another build's."""
    if not root.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def numbered_site(
    root: Path, config: str, count: int, *, tags: int = 3, extra: str = "", body: str = ""
) -> Path:
    """A site of ``count`` small posts (``posts/post-NNN/index.md``) dated a second apart,
    each tagged ``t{i % tags}``, with ``extra`` frontmatter lines and ``body`` after
    "Body of post {i}" (both formatted with ``i``); for tests that need many posts fast."""
    root.mkdir(parents=True)
    (root / "config.yaml").write_text(config, encoding="utf-8")
    for i in range(count):
        folder = root / "posts" / f"post-{i:03d}"
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2024-01-01T00:00:{i:02d}Z\n{extra.format(i=i)}"
            f"tags: [t{i % tags}]\n---\nBody of post {i}{body.format(i=i)}.\n",
            encoding="utf-8",
        )
    return root


def pytest_configure(config: pytest.Config) -> None:
    # The old name is no longer read: a run that sets it would compare against stale files
    # and fail without saying why, so it stops before any test with the name to use.
    if "UPDATE_GOLDEN" in os.environ:
        raise pytest.UsageError(
            "UPDATE_GOLDEN is no longer read: set PUBLISHER_UPDATE_GOLDEN=1 to rewrite the "
            "golden feeds and cards under tests/golden/, then review the diff"
        )


#: Set by coverage (`patch = ["subprocess"]`) while it measures: a Python subprocess that
#: inherits it measures itself too.
COVERAGE_ENV = "COVERAGE_PROCESS_CONFIG"
_popen_init = subprocess.Popen.__init__


def _popen_measured(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
    # Many tests start `publish` with a minimal environment of their own (`env={"PATH":
    # ...}`), which would drop the variable and leave those runs unmeasured. Only the
    # coverage variable is added, and only while coverage runs.
    env, config = kwargs.get("env"), os.environ.get(COVERAGE_ENV)
    if config and isinstance(env, dict) and all(isinstance(k, str) for k in env):
        kwargs["env"] = {**env, COVERAGE_ENV: env.get(COVERAGE_ENV, config)}
    _popen_init(self, *args, **kwargs)


subprocess.Popen.__init__ = _popen_measured  # type: ignore[method-assign]


def fresh_probe(code: str) -> Any:
    """What ``code`` prints last, as JSON, run in a fresh interpreter: unmeasured, since
    coverage, when it runs, loads modules of its own first (an import count would see them)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, COVERAGE_ENV: ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def module_twin(name: str, ours: str, theirs: str) -> tuple[types.ModuleType, types.ModuleType]:
    """(the module ``name``, a twin of it: its source run again with the line ``ours``
    replaced by ``theirs``), to hold what publisher makes its own way to the standard
    library's (tests/test_dataclass.py, tests/test_tuples.py)."""
    module = importlib.import_module(name)
    source = Path(module.__file__ or "").read_text(encoding="utf-8")
    assert ours in source
    twin = types.ModuleType(name)
    twin.__file__ = module.__file__
    saved = sys.modules[name]
    sys.modules[name] = twin  # dataclasses reads the module's globals from here
    try:
        exec(compile(source.replace(ours, theirs), name, "exec"), twin.__dict__)
    finally:
        sys.modules[name] = saved
    return module, twin


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The `slow` Action scenarios take tens of seconds each. Collected first, they start on
    # the workers (`-n auto`) while the short tests fill in around them, rather than one
    # worker running them alone at the end. The sort is stable: the rest keep their order.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


class Site:
    """A throwaway site folder: config.yaml plus posts written by the test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.posts = root / "posts"
        self.posts.mkdir(parents=True, exist_ok=True)
        self.config_path = root / "config.yaml"
        self.config_path.write_text(BASE_CONFIG, encoding="utf-8")

    def config(self, text: str) -> Path:
        self.config_path.write_text(textwrap.dedent(text), encoding="utf-8")
        return self.config_path

    def post(
        self, post_id: str, frontmatter: str, body: str = "", *, raw: bytes | None = None
    ) -> Path:
        folder = self.posts / post_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "index.md"
        if raw is not None:
            path.write_bytes(raw)
        else:
            text = (
                "---\n"
                + textwrap.dedent(frontmatter).strip("\n")
                + "\n---\n"
                + textwrap.dedent(body)
            )
            path.write_text(text, encoding="utf-8")
        return path

    def file(self, relative: str, data: bytes = b"x") -> Path:
        path = self.posts / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.chdir(tmp_path)
    return Site(tmp_path)


@pytest.fixture
def judged_by_stat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written a moment ago are hashed, not trusted by their stat; a real site's are
    older. With the window at 0 the stat alone decides, so a build may read only the posts
    that changed, as it would on a real site."""
    from publisher import snapshot
    from publisher.posts import collect

    monkeypatch.setattr(snapshot, "RECENT_NS", 0)
    monkeypatch.setattr(collect, "RECENT_NS", 0)


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent: the real-post tests need it beside the checkout")
    return CORPUS


MakeSite = Callable[[], Site]
