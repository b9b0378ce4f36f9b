"""Withdrawing a post (deleting it or making it a draft) removes it from every output file
in the next build: feeds of every kind, its card page and image, posts.json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from cli_run import publish

from conftest import Site
from publisher.report import EXIT_NOTHING_TO_DO

NOW = "--now=2024-01-05T12:00:00Z"
CONFIG = """\
feeds:
  tags: true
  categories: true
  featured: true
"""
SECRET = "withdrawn-marker-7f3a"


def run(site: Site, *args: str) -> tuple[int, str, str]:
    done = publish(*args, cwd=site.root)
    return done.returncode, done.stdout, done.stderr


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _site(site: Site) -> None:
    site.config(site.config_path.read_text() + CONFIG)
    site.post(
        "kept",
        "title: Kept\ndate: 2024-01-01\ntags: [shared]\ncategories: [Eng]",
        "Still here.\n",
    )
    site.post(
        "gone",
        "title: Gone\ndate: 2024-01-02\ntags: [shared, only-gone]\ncategories: [Eng, Secret]\n"
        "is_featured: true",
        f"The full text {SECRET}.\n",
    )


def _delete(site: Site) -> None:
    (site.posts / "gone" / "index.md").unlink()
    (site.posts / "gone").rmdir()


def _draft(site: Site) -> None:
    path = site.posts / "gone" / "index.md"
    path.write_text(path.read_text().replace("is_featured: true", "draft: true"))


@pytest.mark.parametrize("withdraw", [_delete, _draft])
def test_a_withdrawn_post_leaves_every_output_file(
    site: Site,
    withdraw: object,
) -> None:
    _site(site)
    public = site.root / "public"
    public.mkdir()
    (public / "CNAME").write_text("blog.example.org\n")  # the user's, not publisher's
    assert run(site, "build", NOW)[0] == 0
    first = files(public)
    assert any(SECRET.encode() in data for data in first.values())
    assert "og/gone.html" in first and "tags/only-gone/atom.xml" in first

    withdraw(site)  # type: ignore[operator]
    code, out, _ = run(site, "--dry-run", "build", NOW)
    assert code == 0
    assert "would delete public/og/gone.html (no longer produced)" in out
    assert "would delete public/tags/only-gone/atom.xml (no longer produced)" in out
    assert files(public) == first

    code, out, _ = run(site, "build", "--json", NOW)
    assert code == 0
    report = json.loads(out)
    deleted = report["deleted"]
    assert "og/gone.html" in deleted
    assert any(d.startswith("og/gone.") and d.endswith((".jpg", ".png")) for d in deleted)
    for kind in ("tags/only-gone", "categories/secret"):
        assert {f"{kind}/atom.xml", f"{kind}/rss.xml", f"{kind}/feed.json"} <= set(deleted)
    written = {w["path"] for w in report["writes"]}
    assert not set(deleted) & written
    after = files(public)
    assert set(after) == set(first) - set(deleted)
    assert after["CNAME"] == b"blog.example.org\n"
    assert not (public / "tags" / "only-gone").exists()
    for path, data in after.items():
        assert SECRET.encode() not in data, path
        assert b"/gone/" not in data and b'"gone"' not in data, path
    feeds = [p for p in after if p.endswith((".xml", "feed.json")) and p != "feed.xsl"]
    assert len(feeds) >= 9  # main, tag shared, category eng, featured: 3 formats each
    for path in feeds:
        if path.endswith(".json"):
            items = json.loads(after[path])["items"]
            assert all(SECRET not in json.dumps(i) and i["title"] != "Gone" for i in items), path
            continue
        parsed = feedparser.parse(after[path])
        assert not parsed.bozo, path
        for entry in parsed.entries:
            assert entry.title != "Gone", path
            assert SECRET not in json.dumps(entry, default=str), path

    code, out, err = run(site, "build", "--json", "--detailed-exit-codes", NOW)
    assert code == EXIT_NOTHING_TO_DO, err
    again = json.loads(out)
    assert again["deleted"] == [] and all(w["status"] == "unchanged" for w in again["writes"])
    assert files(public) == after


def test_a_superseded_card_image_is_deleted(
    site: Site,
) -> None:
    site.post("post", "title: First title\ndate: 2024-01-01")
    assert run(site, "build", NOW)[0] == 0
    (old,) = [p for p in (site.root / "public" / "og").glob("post.*.*") if p.suffix != ".html"]
    site.post("post", "title: A better title\ndate: 2024-01-01")
    code, out, _ = run(site, "build", "--json", NOW)
    assert code == 0
    assert json.loads(out)["deleted"] == [f"og/{old.name}"]
    (new,) = [p for p in (site.root / "public" / "og").glob("post.*.*") if p.suffix != ".html"]
    assert new.name != old.name and not old.exists()


def test_the_first_build_after_an_upgrade_deletes_nothing(
    site: Site,
) -> None:
    _site(site)
    assert run(site, "build", NOW)[0] == 0
    (site.root / "state" / "outputs.json").unlink()  # as before this version
    _delete(site)
    code, out, _ = run(site, "build", "--json", NOW)
    assert code == 0 and json.loads(out)["deleted"] == []
    assert (site.root / "public" / "og" / "gone.html").exists()
    assert (site.root / "state" / "outputs.json").exists()


def test_a_deleted_post_leaves_the_preview_folder(
    site: Site,
) -> None:
    _site(site)
    assert run(site, "preview", NOW)[0] == 0
    preview = site.root / "public" / "preview"
    assert list(preview.rglob("gone.*"))
    _delete(site)  # (a draft stays in the preview: it shows drafts on purpose)
    assert run(site, "preview", NOW)[0] == 0
    assert not list(preview.rglob("gone.*"))
    assert list(preview.rglob("kept.*")) and (preview / "index.html").exists()


def test_temporary_files_a_killed_build_left_are_deleted(
    site: Site,
) -> None:
    """SIGKILL between a feed's temporary file and its rename leaves ``.atom.xml.<8>.tmp``
    beside it, with that build's bytes (a withdrawn post's full text too); a deploy of the
    folder would publish it. The next build deletes exactly those names, nothing else."""
    _site(site)
    public = site.root / "public"
    assert run(site, "build", NOW)[0] == 0
    feed = (public / "tags" / "only-gone" / "atom.xml").read_bytes()
    assert SECRET.encode() in feed
    left = {
        "tags/only-gone/.atom.xml.k3j5x9q2.tmp": feed,  # the tag vanishes with the post
        "categories/eng/.rss.xml.a_b0c9d8.tmp": feed,  # the category stays
        "og/.gone.html.zz00yy11.tmp": b"<html>" + SECRET.encode(),
    }
    mine = {
        ".notes.tmp": b"the user's",
        "og/.gone.html.tmp": b"not a name publisher makes",
        "categories/eng/.rss.xml.TOOLONG12.tmp": b"neither",
        ".unknown.xml.k3j5x9q2.tmp": b"no such output",
    }
    for relative, data in {**left, **mine}.items():
        (public / relative).write_bytes(data)
    _delete(site)

    code, out, _ = run(site, "--dry-run", "build", NOW)
    assert code == 0
    for relative in left:
        assert f"would delete public/{relative} " in out
    assert all((public / relative).exists() for relative in left)

    code, out, _ = run(site, "build", "--json", NOW)
    assert code == 0
    assert set(left) <= set(json.loads(out)["deleted"])
    for relative in left:
        assert not (public / relative).exists(), relative
    assert not (public / "tags" / "only-gone").exists()
    for relative, data in mine.items():
        assert (public / relative).read_bytes() == data, relative
    for path, data in files(public).items():
        if path not in mine:
            assert SECRET.encode() not in data, path


_KILLED_BEFORE_SWEEP = """
import os, signal, sys
from publisher import cli, output
def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)  # every file written, the manifest not yet
output.OutputWriter.sweep = killed
sys.argv = ["publish", "build", sys.argv[1]]
cli.main()
"""


def test_files_of_a_build_killed_before_its_manifest_are_still_deleted_once_withdrawn(
    site: Site,
) -> None:
    """A build SIGKILLed after writing (a new card, changed feeds) but before recording
    them: if the post is withdrawn before the next build completes, those files must still
    be recognised as publisher's, not left online as 'changed by hand'."""
    _site(site)
    public = site.root / "public"
    assert run(site, "build", NOW)[0] == 0
    before = files(public)
    site.post(
        "gone",
        "title: Gone, retitled\ndate: 2024-01-02\ntags: [shared, only-gone]\n"
        "categories: [Eng, Secret]",
        f"The new full text {SECRET}, longer.\n",
    )
    child = subprocess.run(
        [sys.executable, "-c", _KILLED_BEFORE_SWEEP, NOW],
        cwd=site.root,
        env={**os.environ, "PUBLISHER_CONFIG": str(site.config_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    killed = files(public)
    new = set(killed) - set(before)
    changed = {p for p in before if p in killed and killed[p] != before[p]}
    assert any(p.startswith("og/gone.") for p in new), new  # the retitled card
    assert "tags/only-gone/atom.xml" in changed and "og/gone.html" in changed

    _delete(site)
    code, out, err = run(site, "build", "--json", NOW)
    assert code == 0, err
    assert "changed since publisher wrote it" not in err
    after = files(public)
    deleted = set(json.loads(out)["deleted"])
    for path in new | changed:
        if "gone" in path:
            assert path not in after and path in deleted, path
    for path, data in after.items():
        assert SECRET.encode() not in data, path
    assert not (site.root / "state" / "outputs.json.journal").exists()
