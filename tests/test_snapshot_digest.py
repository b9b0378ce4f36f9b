"""The stat pass's digest: made once per set of hashed files, and a recent file hashed as
the pass found it, before the build reads it (snapshot.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import cli_run
import pytest

from conftest import Site
from publisher import inputs, snapshot, statwalk


def _take(folder: Path) -> snapshot.Snapshot:
    return snapshot.take([["walk", "post:", str(folder), ""]], {}, time.time_ns())


def test_a_recent_file_is_judged_by_the_bytes_the_pass_found(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("one", encoding="utf-8")
    taken = _take(tmp_path)
    assert taken.recent == {"post:/a.md"}
    before = taken.digest(taken.recent)
    (tmp_path / "a.md").write_text("two", encoding="utf-8")  # edited while a build runs
    assert taken.digest(taken.recent) == before
    assert taken.digest(frozenset()) != before  # by its stat: another digest
    assert _take(tmp_path).digest(frozenset({"post:/a.md"})) != before


def test_the_digest_is_made_once_per_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a", "b"):
        (tmp_path / name).write_text(name, encoding="utf-8")
    taken = _take(tmp_path)
    hashed: list[str] = []
    real = snapshot.file_hash
    monkeypatch.setattr(snapshot, "file_hash", lambda path: hashed.append(path) or real(path))
    first = taken.digest(frozenset({"post:/a"}))
    assert taken.digest(frozenset({"post:/a"})) == first
    assert hashed == []  # hashed when the pass found them recent, not again
    old = frozenset({"post:/a", "post:/gone"})
    assert taken.digest(old) != taken.digest(frozenset())


@pytest.mark.parametrize("terminal", [True, False], ids=["fast-path", "cli"])
def test_a_post_edited_while_the_build_runs_is_built_again(
    site: Site, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    """The edit lands after the build read the post and before it records its inputs:
    the next build must see it (it used to find nothing changed, the feed stale)."""
    site.post("p", "title: P\ndate: 2024-01-02", "Old body.\n")
    assert cli_run.publish("build", cwd=site.root).returncode == 0
    path = site.posts / "p" / "index.md"
    path.write_text("---\ntitle: P\ndate: 2024-01-02\n---\nMiddle body.\n", encoding="utf-8")
    real = inputs.record

    def edit_then_record(*args: Any, **kwargs: Any) -> None:
        text = "---\ntitle: P\ndate: 2024-01-02\n---\nNew body.\n"
        path.write_text(text, encoding="utf-8")
        real(*args, **kwargs)

    monkeypatch.setattr(inputs, "record", edit_then_record)
    assert cli_run.publish("build", cwd=site.root).returncode == 0
    monkeypatch.setattr(inputs, "record", real)
    rss = site.root / "public" / "rss.xml"
    assert "Middle body." in rss.read_text(encoding="utf-8")
    # The fast path (a UTF-8 stderr), or the CLI's own no-op check.
    again = cli_run.publish("build", cwd=site.root, terminal=terminal)
    assert again.returncode == 0
    assert "nothing changed" not in again.stderr
    assert "New body." in rss.read_text(encoding="utf-8")


def test_libraries_are_found_where_importlib_finds_them() -> None:
    import importlib.util

    for name in ("cmarkgfm", "lxml", "nh3", "feedgen", "PIL", "yaml", "json", "sys", "nowhere"):
        spec = importlib.util.find_spec(name)
        expected = spec.origin if spec is not None and spec.origin else None
        assert snapshot._library(name) == expected, name
    assert snapshot._library("nowhere") is None


def test_a_file_hash_is_hashlibs_blake2b(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "big"
    path.write_bytes(bytes(range(256)) * 5000)  # over one read block
    with path.open("rb") as handle:
        assert snapshot.file_hash(str(path)) == hashlib.file_digest(handle, "blake2b").hexdigest()
    assert snapshot.file_hash(str(tmp_path / "missing")) == "-"


def _reference(folder: Path, prefix: str) -> list[tuple[str, str, int | None]]:
    """What the walk must give, by the plain means: os.stat of each full path, folders in
    the walk's order (a stack: the last folder listed is walked first), a linked folder
    walked once."""
    import os

    out: list[tuple[str, str, int | None]] = []
    stack = [(str(folder), prefix)]
    seen = {(os.stat(folder).st_dev, os.stat(folder).st_ino)}
    while stack:
        path, label = stack.pop()
        for name in sorted(os.listdir(path)):
            child, child_label = f"{path}/{name}", f"{label}/{name}"
            if os.path.isdir(child):
                out.append((child_label + "/", child, None))
                if os.path.islink(child):
                    st = os.stat(child)
                    if (st.st_dev, st.st_ino) in seen:
                        continue
                    seen.add((st.st_dev, st.st_ino))
                stack.append((child, child_label))
            else:
                try:
                    out.append((child_label, child, os.stat(child).st_ino))
                except OSError:
                    out.append((child_label, child, None))
    return out


@pytest.mark.parametrize("relative", [True, False])
def test_the_walk_stats_every_file_as_its_full_path_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: bool
) -> None:
    # Stats relative to the walked folder's descriptor (statwalk.AT) give what stats of
    # the full paths give: nested folders, a linked folder, a loop, a dangling link.
    monkeypatch.setattr(statwalk, "AT", relative and statwalk.AT)
    posts = tmp_path / "posts"
    for name in ("a/index.md", "a/cover.png", "b/c/deep.md", "b/x.md", "z.md"):
        (posts / name).parent.mkdir(parents=True, exist_ok=True)
        (posts / name).write_text(name, encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "linked.md").write_text("l", encoding="utf-8")
    (posts / "l").symlink_to(tmp_path / "elsewhere")
    (posts / "b" / "loop").symlink_to(posts / "b")
    (posts / "dangling.md").symlink_to(tmp_path / "nowhere")
    known: dict[str, Any] = {}
    for _ in range(2):  # listed, then (the record's tree) taken from the last pass
        taken = snapshot.take([["walk", "post:", str(posts), ""]], known, time.time_ns() + 10**10)
        got = [(label, path, st and st.st_ino) for label, path, st in taken.entries]
        assert got == _reference(posts, "post:")
        known = dict(taken.tree)
    assert known  # the second pass reused listings


def _stat(size: int, mtime: int, ino: int, ctime: int, mode: int = 0o100644) -> Any:
    import os

    # os.stat_result's 10 fields, then the float times and the nanosecond ones.
    whole = (mode, ino, 1, 1, 0, 0, size, 0, mtime // 10**9, ctime // 10**9)
    return os.stat_result((*whole, 0.0, mtime / 1e9, ctime / 1e9, 0, mtime, ctime))


def test_the_digest_tells_every_stat_field_label_and_kind_apart(tmp_path: Path) -> None:
    """Each of size, mtime, inode and ctime, a label, the order, a missing stat and a file
    judged by its bytes gives another digest (the records are packed, not lines: a field
    left out of them, or two kinds packed alike, would make a change a no-op)."""
    (tmp_path / "a").write_text("one", encoding="utf-8")
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    base = [("post:/a", a, _stat(3, 5 * 10**18 // 3, 7, 5 * 10**18 // 3)), ("post:/b", b, None)]

    def digest(entries: list[Any], hashed: frozenset[str] = frozenset()) -> str:
        return snapshot.Snapshot(entries=tuple(entries), recent=frozenset()).digest(hashed)

    st = base[0][2]
    size, mtime, ino, ctime = st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns
    variants = [
        base,
        [("post:/a", a, _stat(size + 1, mtime, ino, ctime)), base[1]],
        [("post:/a", a, _stat(size, mtime + 1, ino, ctime)), base[1]],
        [("post:/a", a, _stat(size, mtime, ino + 1, ctime)), base[1]],
        [("post:/a", a, _stat(size, mtime, ino, ctime + 1)), base[1]],
        [("post:/a", a, None), base[1]],
        [("post:/c", a, st), base[1]],
        [base[1], base[0]],
        [base[0], ("post:/b", b, _stat(0, 0, 0, 0))],
        [base[0]],
        [("post:/a\0post:/b", a, st)],
    ]
    digests = [digest(v) for v in variants]
    digests.append(digest(base, frozenset({"post:/a"})))  # by its bytes
    digests.append(
        digest([("post:/a", a, _stat(3, 0, 0, 0, mode=0o40755)), base[1]], frozenset({"post:/a"}))
    )
    assert len(set(digests)) == len(digests)
    # The same stats give the same digest, whatever else the stat holds (its atime).
    again = [("post:/a", a, os_stat_with_atime(st)), base[1]]
    assert digest(again) == digests[0]
    # A file judged by its bytes: its bytes count, not its stat.
    moved = [("post:/a", a, _stat(size + 9, mtime + 9, ino, ctime)), base[1]]
    assert digest(moved, frozenset({"post:/a"})) == digests[-2]
    (tmp_path / "a").write_text("two", encoding="utf-8")
    assert digest(base, frozenset({"post:/a"})) != digests[-2]


def os_stat_with_atime(st: Any) -> Any:
    import os

    fields = [*st, st.st_atime + 1, st.st_mtime, st.st_ctime, 10**9]
    fields[7] = 1  # the atime in whole seconds
    return os.stat_result((*fields, st.st_mtime_ns, st.st_ctime_ns))


@pytest.mark.parametrize("when", [2**63 + 5, -(2**63) - 5, 2**64 + 7])
def test_a_time_wider_than_64_bits_is_digested_too(tmp_path: Path, when: int) -> None:
    """``touch -d 2300-01-01``: more nanoseconds than 64 bits hold. The digest is made (as
    lines of text), tells such times apart, and is not a packed digest's."""
    a = str(tmp_path / "a")

    def digest(mtime: int) -> str:
        entries = (("post:/a", a, _stat(3, mtime, 7, 11)),)
        return snapshot.Snapshot(entries=entries, recent=frozenset()).digest(frozenset())

    assert digest(when) != digest(when + 1)
    assert digest(when) == digest(when)
    assert digest(when) != digest(5)


def test_a_post_dated_past_2262_is_built_and_then_nothing_changed(site: Site) -> None:
    """A file's mtime in the far future is always "too recent" to trust: its bytes are
    judged, every time, and a build after the first finds nothing changed."""
    site.post("p", "title: P\ndate: 2024-01-02", "Body.\n")
    far = 2**63 + 10**9  # 2262-04-11
    try:
        os.utime(site.posts / "p" / "index.md", ns=(far, far))
    except (OSError, OverflowError):
        pytest.skip("this filesystem keeps no time past 2262")
    if os.stat(site.posts / "p" / "index.md").st_mtime_ns < 2**63:
        pytest.skip("this filesystem keeps no time past 2262")
    assert cli_run.publish("build", cwd=site.root).returncode == 0
    again = cli_run.publish("build", cwd=site.root, terminal=True)
    assert again.returncode == 0 and "nothing changed" in again.stderr, again.stderr
    slow = cli_run.publish("build", cwd=site.root)
    assert slow.returncode == 0 and "nothing changed" in slow.stderr, slow.stderr
