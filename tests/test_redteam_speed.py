"""Red team for issue 12's speed work: changes a build must see that a fast path missed.

Each test makes a change that a build from nothing would show, then runs ``publish build``
through the console entry point (fast path included) and compares its outputs with a
cold build of a copy of the site, byte for byte.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import cli_run
import pytest
from PIL import Image

from conftest import Site, tree_bytes
from publisher import snapshot

CONFIG = """\
site:
  title: "{title}"
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
"""


@pytest.fixture(autouse=True)
def _no_recent_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # Files here were written a moment ago; a real site's are older. With the window at 0
    # the stat alone decides, the hard case for the no-op checks.
    monkeypatch.setattr(snapshot, "RECENT_NS", 0)


def publish(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``publish ARGS`` with PATH and ``env`` set, through the console entry point with a
    terminal's UTF-8 stderr, so the fast path runs."""
    full = {"PATH": os.environ.get("PATH", ""), **env}
    return cli_run.publish(*args, cwd=cwd, env=full, terminal=True)


def _cold(site: Site, tmp_path: Path, env: dict[str, str]) -> dict[str, bytes]:
    copy = tmp_path / "cold"
    shutil.copytree(site.root, copy, ignore=shutil.ignore_patterns("public", "state"))
    ran = publish("build", cwd=copy, env=env)
    assert ran.returncode == 0, ran.stderr
    return tree_bytes(copy / "public")


def _site(site: Site) -> None:
    for i in range(3):
        site.post(f"p{i}", f"title: Post {i}\ndate: 2024-01-0{i + 1}", f"Body {i}.\n")


@pytest.mark.parametrize(
    "spelling",
    [
        r"\u0024{BLOG_TITLE}",  # "$" as a YAML escape
        r"$\x7BBLOG_TITLE}",  # "{" as a YAML escape
        "${\\\n  BLOG_TITLE}",  # an escaped line break inside the braces
    ],
)
def test_a_variable_named_through_a_yaml_escape_is_seen_when_it_changes(
    site: Site, tmp_path: Path, spelling: str
) -> None:
    # The loader expands ${NAME} in the parsed value; the fast path looks for ${NAME} in
    # the file's text. A name the text spells with YAML escapes is expanded all the same.
    site.config(CONFIG.format(title=spelling))
    _site(site)
    first = publish("build", cwd=site.root, env={"BLOG_TITLE": "One"})
    assert first.returncode == 0, first.stderr
    assert b"<title>One</title>" in (site.root / "public" / "rss.xml").read_bytes()
    env = {"BLOG_TITLE": "Two"}
    ran = publish("build", cwd=site.root, env=env)
    assert ran.returncode == 0, ran.stderr
    assert "nothing changed" not in ran.stderr
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path, env)


def _image(kind: str, size: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 1), (200, 20, 30)).save(out, kind)
    data = out.getvalue()
    assert len(data) <= size
    return data + b"\0" * (size - len(data))  # both formats ignore bytes past their end


def test_an_og_image_replaced_by_another_format_of_the_same_size_and_mtime(
    site: Site, tmp_path: Path
) -> None:
    # A file put in place by a rename (an editor's save, `cp -p` then `mv`, a checkout)
    # can keep the size and mtime of the one it replaces; only its inode and ctime differ.
    # The feed items name the image's type, sniffed from its bytes.
    site.config(CONFIG.format(title="Blog"))
    _site(site)
    site.post("p1", "title: Post 1\ndate: 2024-01-02\nogImage: cover.png", "Body 1.\n")
    cover = site.file("p1/cover.png", _image("PNG", 200))
    first = publish("build", cwd=site.root, env={})
    assert first.returncode == 0, first.stderr
    assert b'type="image/png"' in (site.root / "public" / "rss.xml").read_bytes()
    before = cover.stat()
    replacement = cover.with_name("cover.tmp")
    replacement.write_bytes(_image("GIF", 200))
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, cover)
    ran = publish("build", cwd=site.root, env={})
    assert ran.returncode == 0, ran.stderr
    assert b'type="image/gif"' in (site.root / "public" / "rss.xml").read_bytes()
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path, {})


def test_a_cover_renamed_over_by_other_pixels_of_the_same_size_and_mtime_gets_a_new_card(
    site: Site, tmp_path: Path
) -> None:
    # The card renderer knows a source image by its sha256, remembered per path and
    # stat so a warm build does not read it again: the stat must tell a replaced file.
    site.config(CONFIG.format(title="Blog").replace("cards:\n  enabled: false\n", ""))
    _site(site)
    site.post("p1", "title: Post 1\ndate: 2024-01-02\nogImage: cover.png", "Body 1.\n")
    solid = [_solid((10, 20, 30)), _solid((250, 240, 230))]
    size = max(map(len, solid))
    cover = site.file("p1/cover.png", solid[0] + b"\0" * (size - len(solid[0])))
    first = publish("build", cwd=site.root, env={})
    assert first.returncode == 0, first.stderr
    before = cover.stat()
    replacement = cover.with_name("cover.tmp")
    replacement.write_bytes(solid[1] + b"\0" * (size - len(solid[1])))
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, cover)
    ran = publish("build", cwd=site.root, env={})
    assert ran.returncode == 0, ran.stderr
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path, {})


def _solid(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 210), color).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("output", ["rss.xml", "atom.xml", "feed.json", "posts.json"])
def test_an_output_edited_by_hand_keeping_its_size_and_mtime_is_written_again(
    site: Site, tmp_path: Path, output: str
) -> None:
    # `touch -r`, `rsync -t` or an editor that keeps times: the size and mtime are the
    # ones the last build recorded, the inode too; only the ctime tells.
    site.config(CONFIG.format(title="Blog"))
    _site(site)
    first = publish("build", cwd=site.root, env={})
    assert first.returncode == 0, first.stderr
    path = site.root / "public" / output
    before = path.stat()
    data = path.read_bytes()
    path.write_bytes(data.replace(b"Post 1", b"Post X"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.read_bytes() != data
    ran = publish("build", cwd=site.root, env={})
    assert ran.returncode == 0, ran.stderr
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path, {})


def test_a_post_edited_keeping_its_size_and_mtime_is_read_again(site: Site, tmp_path: Path) -> None:
    # An editor or a sync tool that keeps times (`touch -r`, `rsync -t`, `cp -p` over the
    # file): the size, mtime and inode are the ones the last build recorded; the ctime is
    # not, and the post cache already keys a file's bytes by it.
    site.config(CONFIG.format(title="Blog"))
    _site(site)
    first = publish("build", cwd=site.root, env={})
    assert first.returncode == 0, first.stderr
    path = site.posts / "p1" / "index.md"
    before = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("Post 1", "Post X"), "utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    ran = publish("build", cwd=site.root, env={})
    assert ran.returncode == 0, ran.stderr
    assert b"Post X" in (site.root / "public" / "rss.xml").read_bytes()
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path, {})
