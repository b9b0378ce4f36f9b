"""Red team for issue 12's sixth session: state a one-edit or no-op build trusts, damaged
on disk the way a bad block damages it (bytes changed in place, the file's length and
every structure around them intact), where only a check of the bytes themselves can
tell.

- ``site.sqlite``: a chunk of rows changed inside its marshalled bytes, in the file
  itself: SQLite checks none of a row's bytes, and the chunk still loads as a list of
  rows of the right width and types. Only its CRC-32 stands between the damage and the
  output (each case below fails with ``table._checked`` always true).
- ``inputs.tree`` (``inputs.json``'s ``tree`` until this session): the stat pass's recorded
  listing of a folder, a name in it changed in place: the folder's own stat still matches,
  so a listing without a checksum was reused as it was, and the post whose name changed
  was missing from every build after (found at 0539a4b); the tree file's CRC-32 now drops
  the whole tree.
- ``inputs.json``: its ``live_until`` changed in place into a later date made every build
  after a scheduled post's date a no-op (found at 0539a4b); the record is sealed now.

Each test builds, damages, builds, and compares the output folder with a cold build of a
copy of the site, byte for byte.
"""

from __future__ import annotations

import json
import marshal
import os
import random
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cli_run import publish

from conftest import FEEDS_CONFIG, Site, tree_bytes
from publisher.incremental import table

pytestmark = pytest.mark.usefixtures("judged_by_stat")
NOW = "--now=2025-06-01T00:00:00Z"


def _build(root: Path, code: int = 0) -> str:
    ran = publish("build", NOW, cwd=root)
    assert ran.returncode == code, ran.stderr
    assert "Traceback" not in ran.stderr
    return ran.stderr


def _cold(site: Site, where: Path) -> dict[str, bytes]:
    shutil.copytree(site.root, where, ignore=shutil.ignore_patterns("public", "state"))
    _build(where)
    return tree_bytes(where / "public")


def _post(site: Site, n: int, *, tag: str = "x", title: str = "", extra: str = "") -> None:
    site.post(
        f"p{n}",
        f"title: {title or f'p{n}'}\ndate: 2024-01-{n + 1:02d}\ntags: [{tag}]\n{extra}",
        f"Body {n}.\n",
    )


def _small_site(site: Site) -> None:
    site.config(FEEDS_CONFIG)
    for n in range(5):
        _post(site, n, tag="solo" if n == 1 else "x" if n % 2 else "y")
    _build(site.root)


def _damage_in_place(path: Path, old: bytes, new: bytes) -> None:
    """The bytes ``old`` (once in the file) changed to ``new`` (as long) in the file
    itself, as a disk would: no SQLite or JSON writer sees the change."""
    assert len(old) == len(new) and old != new
    data = path.read_bytes()
    assert data.count(old) == 1, "the damaged bytes must be found once"
    path.write_bytes(data.replace(old, new))


def _field_damaged(root: Path, file: str, field: str, value: Any) -> None:
    """Row ``file``'s ``field`` in ``site.sqlite`` made ``value`` by changing the bytes of
    its chunk in the file: only the bytes that differ between the chunk and the chunk with
    that value change (the same length, so no page, cell or record header moves)."""
    path = root / "state" / table.TABLE_FILE
    with sqlite3.connect(path) as db:
        found = db.execute("SELECT name, value FROM meta WHERE name LIKE 'rows:%'").fetchall()
    db.close()
    at = table.Row._fields.index(field)
    (name, blob), *_ = [(n, b) for n, b in found if file.encode() in b]
    rows = [list(row) for row in marshal.loads(blob)]
    (hit,) = [row for row in rows if row[0] == file]
    assert hit[at] != value
    if isinstance(value, str):
        # Its bytes, where marshal wrote them (once: other uses of the same string refer
        # back to them, and read the damage too).
        assert blob.count(hit[at].encode()) == 1
        damaged = blob.replace(hit[at].encode(), value.encode())
    else:
        hit[at] = value
        damaged = marshal.dumps(list(map(tuple, rows)))
    assert len(damaged) == len(blob), "a damage that keeps the chunk's length"
    differ = [i for i, (a, b) in enumerate(zip(blob, damaged, strict=True)) if a != b]
    # Enough bytes around the change to be found once in the file.
    lo, hi = max(0, differ[0] - 24), min(len(blob), differ[-1] + 25)
    _damage_in_place(path, blob[lo:hi], damaged[lo:hi])
    # What a build reads now: SQLite returns the changed bytes without a word, and they
    # load as rows of the right width, the damaged field holding ``value``.
    with sqlite3.connect(path) as db:
        blob = db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()[0]
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    (row,) = [r for r in marshal.loads(blob) if r[0] == file]
    assert len(row) == len(table.Row._fields) and row[at] == value


#: (field, the value the damage gives it): each one a build would write out wrongly.
DAMAGES = [
    ("date_ts", 1893456000.0),  # 2030: p1 first in every feed and in posts.json
    ("draft", 1),  # p1 a draft: out of every feed
    ("moment", 1893456000.0),  # p1's place in each feed
    ("tags", "sole"),  # p1 in a feed of tag "sole", none of "solo"
]


@pytest.mark.parametrize(("field", "value"), DAMAGES, ids=[d[0] for d in DAMAGES])
def test_a_site_table_chunk_damaged_on_disk_is_caught_by_its_crc(
    site: Site, tmp_path: Path, field: str, value: Any
) -> None:
    _small_site(site)
    _field_damaged(site.root, "posts/p1/index.md", field, value)
    _post(site, 3, tag="x", title="p3 edited")  # a one-edit build: the table is read
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold")
    _post(site, 4, tag="y", title="p4 edited")
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold2")


def _listing_damaged(root: Path, label: str, old: str, new: str) -> None:
    """In the stat pass's recorded tree (the listing of each folder: ``inputs.tree``, a
    marshalled dict after a header, or ``inputs.json``'s ``tree``), the listing of folder
    ``label``: its entry ``old`` (kind + name) reads ``new``, changed in the file in place."""
    tree_file = root / "state" / "inputs.tree"
    if tree_file.exists():
        data = tree_file.read_bytes()
        tree = marshal.loads(data[data.index(b"\n") + 5 :])  # after its magic line and CRC
        listing = tree[label]
        assert f"\x00{old}" in listing, listing  # the folder's listing was recorded
        encoded = listing.encode()
        _damage_in_place(tree_file, encoded, encoded.replace(old.encode(), new.encode()))
        return
    path = root / "state" / "inputs.json"
    listing = json.loads(path.read_text(encoding="utf-8"))["tree"][label]
    assert f"\x00{old}" in listing, listing
    encoded = json.dumps(listing)
    _damage_in_place(path, encoded.encode(), encoded.replace(old, new).encode())


def test_a_post_folders_listing_damaged_in_place_loses_no_post(site: Site, tmp_path: Path) -> None:
    # Holds: the post file's name changed in its folder's listing ("index.md" read as
    # "index.me") leaves the folder's digest changed, so the quick read lists it again.
    _small_site(site)
    _build(site.root)  # the listings are recorded by a build whose folders are not new
    _listing_damaged(site.root, "post:/p1", "findex.md", "findex.me")
    _post(site, 3, tag="x", title="p3 edited")
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold")
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold2")


def test_a_posts_folder_listing_damaged_in_place_loses_no_post(site: Site, tmp_path: Path) -> None:
    # Found at 0539a4b: the listing, then in inputs.json, had no checksum, and a listing
    # whose folder stat matched was reused whatever names it held: with a post folder's
    # name damaged in the posts folder's listing, the quick read took that post as
    # removed, and every build after (the no-op included) kept it out. Holds since the
    # tree has a file of its own with a CRC (inputs.tree): a listing damaged in place
    # fails it, and the whole tree is taken as none (every folder listed).
    _small_site(site)
    _build(site.root)
    _listing_damaged(site.root, "post:", "dp1", "dq1")
    _post(site, 3, tag="x", title="p3 edited")
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold")


def test_a_recorded_listing_damaged_in_place_is_no_lasting_no_op(
    site: Site, tmp_path: Path
) -> None:
    _small_site(site)
    _build(site.root)
    _listing_damaged(site.root, "post:", "dp1", "dq1")
    _build(site.root)
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold")


def test_a_record_whose_next_date_is_damaged_in_place_publishes_a_post_when_due(
    site: Site, tmp_path: Path
) -> None:
    # Holds since inputs.json is sealed with a check of its own (snapshot.sealed): the
    # record damaged in place is no record, and the build is a full one.
    _small_site(site)
    site.post("later", "title: later\ndate: 2025-07-01\ntags: [x]", "Scheduled.\n")
    _build(site.root)  # now is 2025-06-01: "later" is scheduled
    path = site.root / "state" / "inputs.json"
    assert json.loads(path.read_text(encoding="utf-8"))["live_until"].startswith("2025-07-01")
    _damage_in_place(path, b'"live_until": "2025-07-01', b'"live_until": "2095-07-01')
    ran = publish("build", "--now=2025-08-01T00:00:00Z", cwd=site.root)
    assert ran.returncode == 0, ran.stderr
    cold = tmp_path / "cold"
    shutil.copytree(site.root, cold, ignore=shutil.ignore_patterns("public", "state"))
    assert publish("build", "--now=2025-08-01T00:00:00Z", cwd=cold).returncode == 0
    assert b"Scheduled." in (cold / "public" / "rss.xml").read_bytes()
    assert tree_bytes(site.root / "public") == tree_bytes(cold / "public")


# The stat pass (snapshot.py, statwalk.py), however it is split: each change below, at a
# place drawn from a seed (the first folders, the last, the middle, anywhere), must be
# seen by the next build, which must then write what a cold build of the same posts
# writes. A change missed is a build that says "nothing changed", or a quick read that
# skips the folder: the output folder differs from the cold one.

#: Posts of the bench site: enough for the parallel read and the split of the pass.
TREE_POSTS = 1000
#: Changes a test, each followed by a build; every fourth by a cold build to compare with.
STEPS = 8


@pytest.fixture(scope="module")
def bench_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from build_process import aged_bench_site, publish_build

    root = aged_bench_site(tmp_path_factory.mktemp("tree") / "site", TREE_POSTS)
    ran = publish_build(root)
    assert ran.returncode == 0, ran.stderr
    return root


def _place(rng: random.Random) -> int:
    """A post folder's index: at either end, in the middle, near a quarter, or anywhere
    (where a pass split in two or four would cut the folders)."""
    n = TREE_POSTS
    spots = (0, 1, n - 1, n - 2, n // 2 - 1, n // 2, n // 2 + 1, n // 4, 3 * n // 4)
    return rng.choice(spots) if rng.random() < 0.7 else rng.randrange(n)


def _folder(root: Path, index: int) -> Path:
    return root / "posts" / f"post-{index:05d}"


def _change(root: Path, rng: random.Random, step: int) -> str:
    """One change to the site's posts folder; what it was."""
    posts = sorted(p for p in (root / "posts").iterdir() if (p / "index.md").is_file())
    folder = posts[min(_place(rng), len(posts) - 1)]
    index = folder / "index.md"
    kind = rng.choice(
        ("edit", "edit", "same-mtime", "image", "add", "remove", "rename", "stray", "none")
    )
    if kind in ("edit", "same-mtime"):
        before = index.stat()
        text = index.read_text(encoding="utf-8").replace("title: ", f"title: Step {step} ", 1)
        index.write_text(text, encoding="utf-8")
        if kind == "same-mtime":  # touch -r: the size changes, the mtime does not
            os.utime(index, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif kind == "image":  # the og image: part of the feed item's key
        (folder / "cover.png").write_bytes((folder / "cover.png").read_bytes() + b"\0")
    elif kind == "add":  # a folder sorted just after this one
        new = folder.with_name(folder.name + f"-{step}")
        shutil.copytree(folder, new)
        text = (new / "index.md").read_text(encoding="utf-8")
        (new / "index.md").write_text(text.replace("title: ", "title: Added ", 1), "utf-8")
    elif kind == "remove":
        shutil.rmtree(folder)
    elif kind == "rename":  # the same inodes under another name
        folder.rename(folder.with_name(folder.name + "-moved"))
    elif kind == "stray":  # a file that is no post, in a post's folder
        (folder / "notes.txt").write_text(f"step {step}\n", encoding="utf-8")
    return f"{kind} {folder.name}"


@pytest.mark.skipif(sys.platform != "linux", reason="a bench site's process builds")
@pytest.mark.parametrize("seed", range(2))
def test_every_change_anywhere_in_the_posts_folder_is_built(
    bench_site: Path, tmp_path: Path, seed: int
) -> None:
    from build_process import cold_output, publish_build

    root = tmp_path / "site"
    shutil.copytree(bench_site, root, symlinks=True)
    ran = publish_build(root)  # the copy's new inodes: one build to trust its state
    assert ran.returncode == 0, ran.stderr
    rng = random.Random(seed)
    done = []
    for step in range(STEPS):
        done.append(_change(root, rng, step))
        if rng.random() < 0.3:
            time.sleep(2.1)  # judged by its stat, not by its bytes
        ran = publish_build(root)
        assert ran.returncode == 0 and "Traceback" not in ran.stderr, (done, ran.stderr)
        if not done[-1].startswith("none"):
            assert "nothing changed" not in ran.stderr, done
        if step % 4 == 3:  # a change missed stays missed: a cold build every few steps
            got = tree_bytes(root / "public")
            expected = cold_output(root, tmp_path / "cold")
            differ = [p for p in sorted({*got, *expected}) if got.get(p) != expected.get(p)]
            assert differ == [], done


#: Rounds of two builds at once.
RACES = 4


@pytest.mark.skipif(sys.platform != "linux", reason="a bench site's process builds")
def test_two_one_edit_builds_at_once_leave_a_site_the_next_build_puts_right(
    tmp_path: Path,
) -> None:
    # Both splice the same feed files from the same old ones (each its own copy, put in
    # place and its old file freed by a thread), keep their layouts, outputs.json,
    # inputs.json and site table: whichever finishes last, the build after them must make
    # a cold build's output (never a no-op over the other's files), and leave no file of
    # either behind.
    from build_process import aged_bench_site, cold_output, publish_build, started_build

    root = aged_bench_site(tmp_path / "site", 400)
    assert publish_build(root).returncode == 0
    rng = random.Random(17)
    for round_ in range(RACES):
        first, second = rng.sample(range(400), 2)
        _retitle(root, first, f"A{round_}")
        one = started_build(root)
        time.sleep(rng.uniform(0, 0.25))
        if rng.random() < 0.7:
            _retitle(root, second, f"B{round_}")
        two = started_build(root)
        for build in (one, two):
            _, stderr = build.communicate(timeout=120)
            assert "Traceback" not in stderr, (round_, stderr)
            assert build.returncode == 0, (round_, stderr)
        ran = publish_build(root)
        assert ran.returncode == 0 and "Traceback" not in ran.stderr, (round_, ran.stderr)
        got = tree_bytes(root / "public")
        expected = cold_output(root, tmp_path / "cold")
        assert [p for p in sorted({*got, *expected}) if got.get(p) != expected.get(p)] == []
        left = [p.name for p in (root / "public").rglob(".*.tmp")]
        left += [p.name for p in (root / ".publisher").glob(".*.tmp")]
        assert left == [], round_


def _retitle(root: Path, index: int, title: str) -> None:
    path = root / "posts" / f"post-{index:05d}" / "index.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("title: ", f"title: {title} ", 1), encoding="utf-8")


# A spliced file is renamed into place without an fsync where the boot id is known
# (publisher/boot.py): its layout keeps the boot's id, and the no-op check's output digest
# holds it. After a power loss a file may keep the stamp it was written with over blocks
# that were never written (zeros). The ctime of a file cannot be put back by hand, so the
# attack puts the state back instead: layouts.sqlite's stamp and inputs.json's output
# digest are made to name the zeroed file as it is now, as a power loss would leave them.


def _boot_module() -> Any:
    return pytest.importorskip("publisher.boot")


def _booted(monkeypatch: pytest.MonkeyPatch, where: Path, ident: str | None) -> None:
    """This "boot": ``boot.BOOT_ID`` a file holding ``ident`` (None: no file, unreadable)."""
    path = where / f"boot-{ident}"
    if ident is not None:
        path.write_text(ident + "\n", encoding="ascii")
    monkeypatch.setattr(_boot_module(), "BOOT_ID", str(path))


def _fast_build(root: Path) -> None:
    ran = publish("build", cwd=root, terminal=True)  # the fast path first, as a user runs it
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr


def _zeroed_under_its_stamp(root: Path, relative: str, old_boot: Path) -> None:
    """A power loss: ``relative``'s bytes zeros, its size and mtime as written, and the
    state naming the stamp it has now, as if its ctime had stayed too."""
    from publisher import snapshot

    boot = _boot_module()
    path = root / "public" / relative
    st = path.stat()
    path.write_bytes(bytes(st.st_size))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    now = path.stat()
    stamp = f"{now.st_size}:{now.st_mtime_ns}:{now.st_ino}:{now.st_ctime_ns}"
    with sqlite3.connect(root / "state" / "layouts.sqlite") as db:
        (old,) = db.execute("SELECT stamp FROM stamps WHERE path = ?", (relative,)).fetchone()
        fields = old.split(":")
        assert len(fields) == 5, old  # left unsynced: the boot's id after the stamp
        db.execute("UPDATE stamps SET stamp = ? WHERE path = ?", (f"{stamp}:{fields[4]}", relative))
    db.close()
    record = root / "state" / "inputs.json"
    data = json.loads(record.read_text(encoding="utf-8"))
    current = boot.BOOT_ID
    boot.BOOT_ID = str(old_boot)  # the digest as the build before the power loss made it
    try:
        data["outputs_digest"] = snapshot.outputs_digest(str(root / "public"), data["outputs"])
    finally:
        boot.BOOT_ID = current
    record.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")


@pytest.mark.parametrize("then", ["nothing", "edit", "unreadable"])
@pytest.mark.parametrize("relative", ["rss.xml", "tags/x/atom.xml", "tags/y/rss.xml", "posts.json"])
def test_after_a_reboot_a_file_left_unsynced_is_never_trusted(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, then: str, relative: str
) -> None:
    # "edit" edits a post of tag x: tag y's feeds are not touched by it.
    boots = tmp_path / "boots"
    boots.mkdir()
    _booted(monkeypatch, boots, "aaaa")
    site.config(FEEDS_CONFIG)
    for n in range(5):
        _post(site, n, tag="y" if n == 1 else "x")
    _fast_build(site.root)
    _post(site, 4, tag="x", title="p4 edited")  # the newest: the site's feeds spliced
    _fast_build(site.root)
    _post(site, 1, tag="y", title="p1 edited")  # and tag y's
    _fast_build(site.root)
    _zeroed_under_its_stamp(site.root, relative, boots / "boot-aaaa")
    _booted(monkeypatch, boots, None if then == "unreadable" else "bbbb")
    if then == "edit":
        _post(site, 2, tag="x", title="p2 edited")
    _fast_build(site.root)
    cold = tmp_path / "cold"
    shutil.copytree(site.root, cold, ignore=shutil.ignore_patterns("public", "state", "boots"))
    _fast_build(cold)
    assert tree_bytes(site.root / "public") == tree_bytes(cold / "public")


def test_the_fast_path_takes_no_record_whose_next_date_is_damaged_in_place(
    site: Site, tmp_path: Path
) -> None:
    # As above, through the fast path (no --now: the clock itself passes the post's date),
    # which reads the record before the CLI's own check.
    from datetime import UTC, datetime, timedelta

    _small_site(site)
    due = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    site.post("later", f"title: later\ndate: '{due.isoformat()}'\ntags: [x]", "Scheduled.\n")
    ran = publish("build", cwd=site.root, terminal=True)
    assert ran.returncode == 0, ran.stderr
    path = site.root / "state" / "inputs.json"
    until = json.loads(path.read_text(encoding="utf-8"))["live_until"]
    assert until.startswith(due.isoformat()[:19]), until
    year = until[:4].encode()
    _damage_in_place(
        path, b'"live_until": "' + year, b'"live_until": "' + b"2" + year[1:].replace(b"0", b"1", 1)
    )
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.5)
    ran = publish("build", cwd=site.root, terminal=True)
    assert ran.returncode == 0, ran.stderr
    assert "nothing changed" not in ran.stderr
    cold = tmp_path / "cold"
    shutil.copytree(site.root, cold, ignore=shutil.ignore_patterns("public", "state"))
    assert publish("build", cwd=cold, terminal=True).returncode == 0
    assert b"Scheduled." in (cold / "public" / "rss.xml").read_bytes()
    assert tree_bytes(site.root / "public") == tree_bytes(cold / "public")
