"""An og image outside the posts folder (an Astro site's ``src/assets``, a Hugo or
Docusaurus ``static`` folder) is an input of the no-op check: changed, removed or put back,
the next build gives a cold build's bytes and messages. ``tests/corpus_soak.py`` found
the old check answering "nothing changed" for a truncated image of the Astro sample, so
the card kept the old picture."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from cli_run import publish
from PIL import Image

from conftest import BASE_CONFIG, tree_bytes

NOW = "--now=2025-06-01T00:00:00Z"


def _png(color: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _site(root: Path, cards: bool) -> Path:
    root.mkdir()
    feeds = "feeds:\n  formats: [rss, atom, json]\n"
    (root / "config.yaml").write_text(
        f"{BASE_CONFIG}cards:\n  enabled: {str(cards).lower()}\n{feeds}", encoding="utf-8"
    )
    (root / "assets").mkdir()
    (root / "assets" / "shared.png").write_bytes(_png((200, 40, 40), (300, 160)))
    for i in range(4):
        folder = root / "posts" / f"post-{i}"
        folder.mkdir(parents=True)
        # Posts 0 and 1 share an image outside the posts folder, post 2 has its own.
        image = "../../assets/shared.png" if i < 2 else "own.png" if i == 2 else None
        if i == 2:
            (folder / "own.png").write_bytes(_png((20, 90, 200), (280, 150)))
        og = f"ogImage: {image}\n" if image else ""
        (folder / "index.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2024-01-0{i + 1}\n{og}---\nBody {i}.\n",
            encoding="utf-8",
        )
    _age(root)
    return root


def _age(root: Path) -> None:
    """The inputs an hour old: judged by their stat, not their bytes."""
    old = time.time() - 3600
    for path in [root / "assets", *root.rglob("*")]:
        if path.exists() and not {"public", "state"} & set(path.relative_to(root).parts):
            os.utime(path, (old, old))


def _messages(stderr: str) -> list[str]:
    measured = re.compile(r" in \d+\.\d+ s\b| \(\d+ from cache\)")
    return sorted(
        measured.sub("", line)
        for line in stderr.splitlines()
        if not line.startswith(("wrote ", "deleted ", "read ", "nothing changed"))
    )


def _build_is_cold(root: Path, twin: Path) -> None:
    """A build of ``root`` writes what a cold build of a copy writes, and says the same."""
    ran = publish("build", NOW, cwd=root, terminal=True)
    assert "nothing changed" not in ran.stderr, ran.stderr
    shutil.rmtree(twin, ignore_errors=True)
    shutil.copytree(root, twin, ignore=shutil.ignore_patterns("public", "state"))
    cold = publish("build", NOW, cwd=twin, terminal=True)
    assert (ran.returncode, _messages(ran.stderr)) == (cold.returncode, _messages(cold.stderr))
    assert tree_bytes(root / "public") == tree_bytes(twin / "public")


def _until_noop(root: Path) -> None:
    """Builds until one finds nothing changed: the second build after the set of images
    outside the posts folder changed, at the latest (the first stats them)."""
    for _ in range(2):
        ran = publish("build", NOW, "--detailed-exit-codes", cwd=root, terminal=True)
        assert ran.returncode in (0, 5), ran.stderr
        assert "wrote " not in ran.stderr, ran.stderr
        if ran.returncode == 5:
            return
    raise AssertionError("two builds with nothing changed, neither a no-op")


@pytest.mark.parametrize("cards", [True, False])
def test_an_og_image_outside_the_posts_folder_is_an_input(tmp_path: Path, cards: bool) -> None:
    root = _site(tmp_path / "site", cards)
    twin = tmp_path / "twin"
    image = root / "assets" / "shared.png"
    publish("build", NOW, cwd=root, terminal=True)
    recorded = json.loads((root / "state" / "inputs.json").read_text(encoding="utf-8"))
    assert recorded["elsewhere"] == [os.fspath(image.resolve())]
    _until_noop(root)

    # Other bytes (another size, so the feeds' enclosure length moves too), an hour old.
    image.write_bytes(_png((10, 160, 60), (320, 200)))
    _age(root)
    _build_is_cold(root, twin)
    _until_noop(root)

    image.unlink()  # each post that names it says so, and has no picture on its card
    _build_is_cold(root, twin)
    ran = publish("build", NOW, cwd=twin, terminal=True)
    assert ran.stderr.count("does not exist") == 2, ran.stderr
    _until_noop(root)

    image.write_bytes(_png((90, 90, 90), (310, 170)))  # put back
    _build_is_cold(root, twin)
    _until_noop(root)

    # A post that stops naming it: the image is no longer an input.
    post = root / "posts" / "post-0" / "index.md"
    post.write_text(
        post.read_text(encoding="utf-8").replace("ogImage: ../../assets/shared.png\n", "")
    )
    _build_is_cold(root, twin)
    _until_noop(root)
    recorded = json.loads((root / "state" / "inputs.json").read_text(encoding="utf-8"))
    assert recorded["elsewhere"] == [os.fspath(image.resolve())]  # post 1 still names it


def test_a_post_edited_to_name_an_image_outside_the_posts_folder(tmp_path: Path) -> None:
    # No post names one at first, so the next builds may read only the changed posts
    # (publisher/incremental); the edited post's image is then stat'ed like the others.
    root = _site(tmp_path / "site", cards=True)
    twin = tmp_path / "twin"
    for i in (0, 1):
        post = root / "posts" / f"post-{i}" / "index.md"
        post.write_text(
            post.read_text(encoding="utf-8").replace("../../assets/shared.png", "nope.png")
        )
    _age(root)
    publish("build", NOW, cwd=root, terminal=True)
    _until_noop(root)
    post = root / "posts" / "post-3" / "index.md"
    text = post.read_text(encoding="utf-8")
    post.write_text(text.replace("---\nBody", "ogImage: ../../assets/shared.png\n---\nBody"))
    _age(root)
    _build_is_cold(root, twin)
    _until_noop(root)
    image = root / "assets" / "shared.png"
    recorded = json.loads((root / "state" / "inputs.json").read_text(encoding="utf-8"))
    assert recorded["elsewhere"] == [os.fspath(image.resolve())]
    image.write_bytes(_png((10, 160, 60), (320, 200)))
    _age(root)
    _build_is_cold(root, twin)
