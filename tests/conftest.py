"""Shared fixtures: a small site on disk, written by each test for itself."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

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
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent: the real-post tests need it beside the checkout")
    return CORPUS


MakeSite = Callable[[], Site]
