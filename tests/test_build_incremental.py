"""A build after any change writes the same bytes as a build from nothing (issue 12).

The incremental paths (post files known by their stat, feed keys from the post's origin,
feed files spliced from the ones the last build wrote) must never leave a stale output.
A seeded random sequence of edits, each followed by a build, is compared after every
step with a cold build of a copy of the site: every output file, byte for byte, and the
exit code.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cli_run import publish
from PIL import Image

from conftest import BASE_CONFIG, Site, tree_bytes
from publisher.posts import collect

NOW = "--now=2025-06-01T00:00:00Z"
CONFIG = (
    BASE_CONFIG
    + """\
cards:
  enabled: false
feeds:
  formats: [rss, atom, json]
  tags: true
  categories: true
  featured: true
"""
)
TAGS = ["alpha", "Alpha", "beta", "gamma", "Ünïcode", "delta"]
WORDS = ["kernel", "probe", "socket", "flow", "<b>bold</b>", "&", "]]>", "café", "東京"]


CHANGES = [
    *("body", "title", "date", "tags", "draft", "featured", "og", "add", "remove", "rename"),
    *("image bytes", "hand edit", "output deleted", "state damaged", "none"),
    # Changes that reach posts whose files did not change (publisher/incremental must
    # see them): a tag's most common spelling flips, two posts take one URL, a post is
    # scheduled, a stray file beside the posts.
    *("respell", "same url", "scheduled", "stray file"),
]
#: An hour ago: a config this old is judged by its stat, so the builds below may read
#: only the changed posts (publisher/incremental); a fresh one is never trusted so.
OLD = 3600 * 10**9


def _png(color: tuple[int, int, int], size: tuple[int, int] = (40, 21)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


class Edits:
    """The site and the edits a seeded random sequence chooses from."""

    def __init__(self, site: Site, rng: random.Random) -> None:
        self.site = site
        self.rng = rng
        self.made = 0

    def ids(self) -> list[str]:
        return sorted(p.name for p in self.site.posts.iterdir() if (p / "index.md").is_file())

    def write(self, post_id: str, fields: dict[str, str], body: str) -> None:
        lines = "\n".join(f"{k}: {v}" for k, v in fields.items())
        self.site.post(post_id, lines, body)

    def read(self, post_id: str) -> tuple[dict[str, str], str]:
        text = (self.site.posts / post_id / "index.md").read_text(encoding="utf-8")
        _, head, body = text.split("---\n", 2)
        fields = dict(line.split(": ", 1) for line in head.splitlines() if line)
        return fields, body

    def words(self, count: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=count))

    def new_post(self) -> None:
        self.made += 1
        post_id = f"post-{self.made:03d}"
        (self.site.posts / post_id).mkdir(parents=True, exist_ok=True)
        if self.rng.random() < 0.7:
            (self.site.posts / post_id / "cover.png").write_bytes(
                _png((self.made * 40 % 256, 9, 9))
            )
        fields = {
            "title": f"'Post {self.made}: {self.words(3)}'",
            "date": f"2024-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}",
            "tags": "[" + ", ".join(self.rng.sample(TAGS, self.rng.randint(0, 3))) + "]",
            "categories": self.rng.choice(["[Eng]", "[Eng, Ops]", "[]"]),
            "summary": f"'{self.words(5)}'",
        }
        if (self.site.posts / post_id / "cover.png").exists():
            fields["ogImage"] = "cover.png"
        self.write(post_id, fields, f"{self.words(30)}\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")

    def _edit(self, change: str) -> str:
        ids = self.ids()
        if not ids:
            self.new_post()
            return "add (empty site)"
        post_id = self.rng.choice(ids)
        fields, body = self.read(post_id)
        if change == "body":
            body += f"\n{self.words(8)}\n"
        elif change == "title":
            fields["title"] = f"'{self.words(4)}'"
        elif change == "date":
            fields["date"] = (
                f"20{self.rng.randint(23, 25)}-0{self.rng.randint(1, 9)}-1{self.rng.randint(0, 9)}"
            )
        elif change == "tags":
            fields["tags"] = "[" + ", ".join(self.rng.sample(TAGS, self.rng.randint(0, 3))) + "]"
        elif change == "draft":
            if fields.pop("draft", None) is None:
                fields["draft"] = "true"
        elif change == "featured":
            if fields.pop("is_featured", None) is None:
                fields["is_featured"] = "true"
        elif change in ("respell", "same url", "scheduled"):
            fields, body = self._reach(change, post_id, ids)
        elif change == "og":
            choice = self.rng.choice(["cover.png", "other.png", "missing.png", None])
            if choice == "other.png":
                (self.site.posts / post_id / "other.png").write_bytes(_png((1, 200, 3), (64, 33)))
            if choice is None:
                fields.pop("ogImage", None)
            else:
                fields["ogImage"] = choice
        self.write(post_id, fields, body)
        return f"{change} {post_id}"

    def _reach(self, change: str, post_id: str, ids: list[str]) -> tuple[dict[str, str], str]:
        """The changes that reach other posts: the edited post's new fields and body."""
        if change == "respell":
            # Two posts' tags the other way round: the majority may flip.
            spelling = self.rng.choice(["alpha", "Alpha"])
            for other in self.rng.sample(ids, min(len(ids), 2)):
                other_fields, other_body = self.read(other)
                other_fields["tags"] = f"[{spelling}]"
                self.write(other, other_fields, other_body)
        fields, body = self.read(post_id)
        if change == "same url":
            other = self.rng.choice(ids)
            fields["path"] = f"/blog/{other}/" if self.rng.random() < 0.7 else "/blog/x/"
        elif change == "scheduled":
            fields["date"] = self.rng.choice(["2025-05-31", "2025-06-02", "2030-01-01"])
        return fields, body

    def step(self, output: Path, state: Path) -> str:
        """Make one random change; say which."""
        change = self.rng.choice(CHANGES)
        ids = self.ids()
        if change == "add" or not ids:
            self.new_post()
            return "add"
        post_id = self.rng.choice(ids)
        folder = self.site.posts / post_id
        if change == "remove":
            shutil.rmtree(folder)
        elif change == "rename":
            self.made += 1
            folder.rename(folder.with_name(f"renamed-{self.made:03d}"))
        elif change == "image bytes":
            # Another size: the feed items name the image's length.
            size = (self.rng.randrange(20, 90), 26)
            (folder / "cover.png").write_bytes(_png((self.rng.randrange(256), 0, 0), size))
        elif change == "stray file":
            where = self.rng.choice([self.site.posts, folder, folder / "images"])
            where.mkdir(exist_ok=True)
            (where / f"notes-{self.rng.randrange(3)}.txt").write_text("x", encoding="utf-8")
        elif change in ("hand edit", "output deleted"):
            return self._touch_output(change, output)
        elif change == "state damaged":
            return self._damage(state)
        elif change != "none":
            return self._edit(change)
        return f"{change} {post_id}"

    def _touch_output(self, change: str, output: Path) -> str:
        files = sorted(p for p in output.rglob("*") if p.is_file())
        if not files:
            return f"{change}: no output yet"
        path = self.rng.choice(files)
        if change == "output deleted":
            path.unlink()
            return f"{change} {path.name}"
        # Same size, and (half the time) the mtime put back: then only the ctime tells.
        before = path.stat()
        data = bytearray(path.read_bytes())
        if data:
            at = self.rng.randrange(len(data))
            data[at] = ord("x") if data[at] != ord("x") else ord("y")
        path.write_bytes(bytes(data))
        if self.rng.random() < 0.5:
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
            # The no-op check (inputs.py) judges outputs by size, mtime and inode: a full
            # build is asked for, as --json does, to test what the splice makes of it.
            return f"{change} {path.relative_to(output)} (mtime kept)"
        return f"{change} {path.relative_to(output)}"

    def _damage(self, state: Path) -> str:
        files = sorted(p for p in state.glob("*") if p.is_file())
        if not files:
            return "state damaged: no state yet"
        path = self.rng.choice(files)
        how = self.rng.choice(["garbage", "truncate", "layout"])
        if how == "layout" and path.name == "layouts.sqlite":
            # Layouts that do not fit their files (whose stamps still match): an item's
            # length lost, or the file said to be longer than it is.
            db = sqlite3.connect(path)
            with db:
                rows = db.execute("SELECT path, lengths FROM files").fetchall()
                for name, lengths in rows:
                    db.execute(
                        "UPDATE files SET lengths = ? WHERE path = ?",
                        (lengths[:-8] if self.rng.random() < 0.5 else lengths[:-8] + lengths, name),
                    )
            db.close()
        elif how == "truncate":
            path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
        else:
            path.write_bytes(b"not what it was \x00\xff" * 3)
        return f"state damaged ({how}) {path.name}"


def _build(root: Path, *flags: str) -> int:
    done = publish("build", NOW, *flags, cwd=root)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode


def _cold(site: Site, where: Path) -> tuple[int, dict[str, bytes]]:
    """A build of a copy of the site with no state and no output."""
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(site.root, where, ignore=shutil.ignore_patterns("public", "state"))
    return _build(where, "--jobs", "1"), tree_bytes(where / "public")


def _old_config(site: Site, text: str) -> None:
    site.config(text)
    now = site.config_path.stat().st_mtime_ns
    os.utime(site.config_path, ns=(now - OLD, now - OLD))


@pytest.fixture
def quick_builds(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each build read only the changed posts."""
    from publisher.incremental import quick

    taken: list[bool] = []
    read_changed = quick.read_changed

    def spy(*args: object, **kwargs: object) -> object:
        found = read_changed(*args, **kwargs)  # type: ignore[arg-type]
        taken.append(found is not None)
        return found

    monkeypatch.setattr(quick, "read_changed", spy)
    return taken


@pytest.mark.parametrize(
    ("seed", "pooled"), [(1, False), (2, False), (7, False), (11, False), (3, True)]
)
def test_every_incremental_build_equals_a_cold_one(
    site: Site,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
    pooled: bool,
    quick_builds: list[bool],
) -> None:
    # Pooled: every read of two posts or more by a pool of two, whose workers store what
    # they parse (posts/workers.py); the cold builds it is held to read serially.
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 2)
    jobs = ["--jobs", "2" if pooled else "1"]
    _old_config(site, CONFIG)
    rng = random.Random(seed)
    edits = Edits(site, rng)
    for _ in range(5):
        edits.new_post()
    cold_root = tmp_path_factory.mktemp("cold") / "site"
    output, state = site.root / "public", site.root / "state"
    history = []
    for step in range(18):
        history.append(edits.step(output, state) if step else "first build")
        code = _build(site.root, *jobs, *(["--json"] if "mtime kept" in history[-1] else []))
        expected_code, expected = _cold(site, cold_root)
        got = tree_bytes(output)
        assert code == expected_code, history
        assert sorted(got) == sorted(expected), history
        for path, data in expected.items():
            assert got[path] == data, (path, history)
    # The builds that read only the changed posts were many (each cold build counts too).
    assert sum(quick_builds) >= 5, (quick_builds, history)


def test_a_spliced_feed_copies_the_old_file_and_writes_only_the_new_item(site: Site) -> None:
    """One post edited among many: the feed files are written from runs of the old files
    and the new item's bytes; the other items are neither read back nor written by Python."""
    site.config(CONFIG)
    edits = Edits(site, random.Random(5))
    for _ in range(30):
        edits.new_post()
    assert _build(site.root) == 0
    post_id = edits.ids()[7]
    fields, body = edits.read(post_id)
    edits.write(post_id, fields, body + "\nOne more line.\n")

    from publisher import output

    calls: list[tuple[str, list[output.Part]]] = []
    splice = output.OutputWriter.write_splice

    def spy(self: output.OutputWriter, relative: str, parts: list[output.Part], **kw: object):  # type: ignore[no-untyped-def]
        calls.append((relative, parts))
        return splice(self, relative, parts, **kw)  # type: ignore[arg-type]

    output.OutputWriter.write_splice = spy  # type: ignore[method-assign]
    try:
        assert _build(site.root) == 0
    finally:
        output.OutputWriter.write_splice = splice  # type: ignore[method-assign]
    spliced = {relative: parts for relative, parts in calls}
    assert {"rss.xml", "atom.xml", "feed.json", "posts.json"} <= set(spliced)
    for relative in ("rss.xml", "atom.xml", "feed.json", "posts.json"):
        size = len((site.root / "public" / relative).read_bytes())
        written = sum(len(p) for p in spliced[relative] if isinstance(p, bytes))
        # The edited post's item (and at most the head around it), not the feed.
        assert 0 < written < size / 10, relative
        if relative != "posts.json":  # which has no body
            new = b"".join(p for p in spliced[relative] if isinstance(p, bytes))
            assert b"One more line." in new, relative


def test_a_post_whose_tag_spelling_changes_elsewhere_is_rendered_again(
    site: Site, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A tag is shown in its most common spelling: one post's edit can change the tags of
    posts whose files did not change, so their feed items must change too."""
    site.config(CONFIG)
    site.post("a", "title: A\ndate: 2024-01-01\ntags: [alpha]", "A.\n")
    site.post("b", "title: B\ndate: 2024-01-02\ntags: [Alpha]", "B.\n")
    site.post("c", "title: C\ndate: 2024-01-03\ntags: [alpha]", "C.\n")
    assert _build(site.root) == 0
    assert b">alpha</category>" in (site.root / "public" / "rss.xml").read_bytes()
    site.post("c", "title: C\ndate: 2024-01-03\ntags: [Alpha]", "C.\n")
    assert _build(site.root) == 0
    _, expected = _cold(site, tmp_path_factory.mktemp("cold") / "site")
    assert tree_bytes(site.root / "public") == expected
    assert b">alpha</category>" not in expected["rss.xml"]


def test_moving_the_posts_folder_gives_the_ids_a_cold_build_gives(
    site: Site, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A post's id is its folder below ``posts.folder``: the same file read with another
    posts folder (and a glob that still finds it) is another post, not a cached one."""
    site.config(CONFIG)
    site.post("a", "title: A\ndate: 2024-01-01", "A.\n")
    assert _build(site.root) == 0
    assert b'"id": "a"' in (site.root / "public" / "posts.json").read_bytes()
    site.config(CONFIG.replace("  folder: posts\n", '  folder: .\n  glob: "posts/*/index.md"\n'))
    assert _build(site.root) == 0
    _, expected = _cold(site, tmp_path_factory.mktemp("cold") / "site")
    assert b'"id": "posts/a"' in expected["posts.json"]
    assert tree_bytes(site.root / "public") == expected


@pytest.mark.parametrize("lost", ["feeds.sqlite", "layouts.sqlite", "cache.sqlite", "outputs"])
def test_a_build_from_the_site_table_makes_the_posts_it_needs(
    site: Site,
    tmp_path_factory: pytest.TempPathFactory,
    quick_builds: list[bool],
    monkeypatch: pytest.MonkeyPatch,
    lost: str,
) -> None:
    """A build that read only the changed post still writes every other post's items and
    index entry when the state that held them is gone (the feed cache, the layouts, the
    post cache) or the outputs were deleted: it makes those posts, as a full read would."""
    _old_config(site, CONFIG)
    edits = Edits(site, random.Random(3))
    for _ in range(8):
        edits.new_post()
    for path in site.posts.rglob("*"):  # old files: known by their stat, not read again
        before = path.stat().st_mtime_ns - OLD
        os.utime(path, ns=(before, before))
    assert _build(site.root) == 0
    if lost == "outputs":
        shutil.rmtree(site.root / "public")
    else:
        (site.root / "state" / lost).unlink()
    post_id = edits.ids()[3]
    fields, body = edits.read(post_id)
    edits.write(post_id, fields, body + "\nOne more line.\n")
    from publisher.posts import model

    made: list[str] = []
    init = model.Post.__init__

    def counted(self: model.Post, **kwargs: Any) -> None:
        made.append(kwargs["id"])
        init(self, **kwargs)

    monkeypatch.setattr(model.Post, "__init__", counted)
    assert _build(site.root) == 0
    monkeypatch.undo()
    assert quick_builds[-1], "the build read every post"
    # The post edited is made; the others only when what held them is gone (the post
    # cache is not needed: the feed items and the layouts still hold).
    assert made == [post_id] if lost == "cache.sqlite" else sorted(made) == edits.ids(), made
    _, expected = _cold(site, tmp_path_factory.mktemp("cold") / "site")
    assert tree_bytes(site.root / "public") == expected


def _images_unseen(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken shortcut: the post folders' digests, and the fingerprints of the walk of
    the posts folder (incremental/walk.py), see only the post files."""
    from array import array

    from publisher import snapshot
    from publisher.incremental import changes, reading, table, walk

    def folders(taken: snapshot.Snapshot) -> tuple[str | None, dict[str, str]]:
        kept = [e for e in taken.entries if not e[0].startswith("post:/") or e[0].endswith(".md")]
        return table.folders(snapshot.Snapshot(entries=tuple(kept), recent=taken.recent))

    def take(taken: snapshot.Snapshot) -> walk.Taken | None:
        found = walk.take(taken)
        if found is None:
            return None
        seen = [e[0].endswith(".md") for e in found.entries]
        prints = array("q", [p if md else 0 for p, md in zip(found.prints, seen, strict=True)])
        return found._replace(walk=found.walk._replace(prints=prints.tobytes()), prints=prints)

    def changed(taken: walk.Taken, kept: walk.Walk | None, recent: Any) -> set[str] | None:
        return walk.changed_groups(taken, kept, [r for r in recent if r.endswith(".md")])

    monkeypatch.setattr(changes, "folders", folders)
    monkeypatch.setattr(reading, "folders", folders)
    monkeypatch.setattr(changes, "changed_groups", changed)
    monkeypatch.setattr(changes, "take_walk", take)
    monkeypatch.setattr(reading, "take_walk", take)


def _flips_unseen(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken shortcut: a tag's spelling flipping for the posts not read is not seen."""
    from publisher.incremental import quick

    monkeypatch.setattr(quick, "_flips", lambda *args: False)


@pytest.mark.parametrize("broken", [_images_unseen, _flips_unseen])
def test_the_comparison_with_a_cold_build_catches_a_broken_shortcut(
    site: Site,
    tmp_path_factory: pytest.TempPathFactory,
    quick_builds: list[bool],
    monkeypatch: pytest.MonkeyPatch,
    broken: Any,
) -> None:
    """The tests above are only as good as their power to fail: with a shortcut broken on
    purpose (an og image replaced but not seen; a tag's majority spelling flipped but not
    seen), a build that reads only the changed post writes other bytes than a cold one."""
    _old_config(site, CONFIG)
    site.post("a", "title: A\ndate: 2024-01-01\ntags: [alpha]\nogImage: cover.png", "A.\n")
    site.post("b", "title: B\ndate: 2024-01-02\ntags: [Alpha]", "B.\n")
    site.post("c", "title: C\ndate: 2024-01-03\ntags: [alpha]", "C.\n")
    (site.posts / "a" / "cover.png").write_bytes(_png((9, 9, 9)))
    for path in site.posts.rglob("*"):
        before = path.stat().st_mtime_ns - OLD
        os.utime(path, ns=(before, before))
    broken(monkeypatch)
    assert _build(site.root) == 0
    if broken is _images_unseen:
        (site.posts / "a" / "cover.png").write_bytes(_png((9, 9, 9), (80, 42)))  # a new length
        site.post("c", "title: C\ndate: 2024-01-03\ntags: [alpha]", "C, edited.\n")
    else:
        site.post("c", "title: C\ndate: 2024-01-03\ntags: [Alpha]", "C.\n")  # Alpha wins
    assert _build(site.root) == 0
    assert quick_builds[-1]
    monkeypatch.undo()
    _, expected = _cold(site, tmp_path_factory.mktemp("cold") / "site")
    assert tree_bytes(site.root / "public") != expected  # the broken shortcut is caught
