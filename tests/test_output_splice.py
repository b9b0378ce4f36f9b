"""Splicing an output file from the one the last build wrote (``OutputWriter.write_splice``,
``publisher/splicing.py``): the same bytes as writing it whole, and never from a file that
is not the one the stamp names."""

from __future__ import annotations

import errno
import os
import random
from pathlib import Path

import pytest

from publisher import atomic
from publisher.errors import OutputError
from publisher.manifest import render_manifest
from publisher.output import OutputWriter
from publisher.splicing import Layout, LayoutStore, template, write_spliced, write_whole
from publisher.stamps import stamp_of

OLD = b"<head>" + b"<item a/>" + b"<item b/>" + b"<item c/>" + b"</tail>"


def _written(tmp_path: Path) -> tuple[OutputWriter, Layout]:
    writer = OutputWriter(tmp_path / "out")
    layout = write_whole(
        writer,
        "feed.xml",
        OLD,
        [b"<head>", b"", b"", b"</tail>"],
        ["a", "b", "c"],
        [9, 9, 9],
    )
    assert layout is not None
    return writer, layout


def test_a_splice_writes_what_writing_whole_would(tmp_path: Path) -> None:
    writer, old = _written(tmp_path)
    fresh_asked: list[list[int]] = []

    def fresh(positions: list[int]) -> list[bytes]:
        fresh_asked.append(positions)
        return [b"<item B2/>" if i == 2 else b"<item d/>" for i in positions]

    new = write_spliced(
        writer,
        "feed.xml",
        old,
        [b"<head>", b"", b"", b"", b"</tail>"],
        ["d", "a", "B2", "c"],
        fresh,
    )
    expected = b"<head><item d/><item a/><item B2/><item c/></tail>"
    assert (tmp_path / "out" / "feed.xml").read_bytes() == expected
    assert fresh_asked == [[0, 2]]  # only the pieces the old file lacks are made
    assert new is not None and new.lengths == (9, 9, 10, 9)
    assert writer.writes[-1].status == "changed" and writer.writes[-1].bytes == len(expected)
    assert new.stamp == writer.stamps["feed.xml"]


def test_nothing_new_is_unchanged_and_touches_nothing(tmp_path: Path) -> None:
    writer, old = _written(tmp_path)
    path = tmp_path / "out" / "feed.xml"
    before = path.stat()
    new = write_spliced(writer, "feed.xml", old, list(old.literals), list(old.keys), lambda p: [])
    assert new == old
    assert writer.writes[-1].status == "unchanged"
    assert path.stat().st_mtime_ns == before.st_mtime_ns and path.stat().st_ino == before.st_ino


def test_a_file_changed_since_is_not_spliced(tmp_path: Path) -> None:
    writer, old = _written(tmp_path)
    path = tmp_path / "out" / "feed.xml"
    before = path.stat()
    path.write_bytes(OLD.replace(b"a/", b"x/"))  # same size, mtime put back: the ctime moved
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    new = write_spliced(writer, "feed.xml", old, list(old.literals), ["a", "b", "c"], lambda p: [])
    assert new is None
    assert path.read_bytes() == OLD.replace(b"a/", b"x/")  # left for the caller to rewrite


def test_a_file_replaced_by_a_link_is_not_spliced(tmp_path: Path) -> None:
    writer, old = _written(tmp_path)
    path = tmp_path / "out" / "feed.xml"
    (tmp_path / "out" / "elsewhere").write_bytes(OLD)
    path.unlink()
    path.symlink_to(tmp_path / "out" / "elsewhere")
    assert writer.write_splice("feed.xml", [(0, 10)], previous=old.stamp) is None


def test_the_copy_goes_through_memory_where_the_kernel_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> int:
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    writer, old = _written(tmp_path)
    new = write_spliced(
        writer, "feed.xml", old, [b"<head>", b"", b"</tail>"], ["c", "a"], lambda p: []
    )
    assert new is not None
    assert (tmp_path / "out" / "feed.xml").read_bytes() == b"<head><item c/><item a/></tail>"


def test_a_withdrawn_spliced_file_is_deleted_unless_edited(tmp_path: Path) -> None:
    manifest = tmp_path / "state" / "outputs.json"
    manifest.parent.mkdir()
    for edited in (False, True):
        writer, old = _written(tmp_path)
        write_spliced(writer, "feed.xml", old, [b"<h>", b"", b""], ["b", "a"], lambda p: [])
        assert writer.hashes["feed.xml"].startswith("stat:")
        manifest.write_text(render_manifest(writer.root, writer.hashes))
        path = tmp_path / "out" / "feed.xml"
        if edited:
            path.write_bytes(b"mine now")
        swept = OutputWriter(tmp_path / "out").sweep(manifest)
        assert path.exists() == edited
        assert (swept.deleted == ("feed.xml",)) != edited
        path.unlink(missing_ok=True)


def test_a_layout_that_does_not_fit_its_file_is_not_used(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path / "layouts.sqlite")
    _, good = _written(tmp_path)
    store.set("feed.xml", good)
    store.commit()
    assert store.get("feed.xml") == good
    assert store._db is not None
    for damage in (
        "UPDATE files SET lengths = substr(lengths, 1, 8)",
        "UPDATE stamps SET stamp = 'x:y'",
        "UPDATE files SET cuts = x'00'",
        "UPDATE files SET keys = 'a'",
    ):
        store.set("feed.xml", good)
        store.commit()
        with store._db:
            store._db.execute(damage)
        assert store.get("feed.xml") is None, damage
    store.close()


def test_a_template_is_refused_when_the_marks_do_not_come_back(tmp_path: Path) -> None:
    mark = b"\x00m\x00"
    assert template(lambda marks: b"<a>" + b",".join(marks) + b"</a>", mark, 2) == [
        b"<a>",
        b",",
        b"</a>",
    ]
    assert template(lambda marks: b"<a>" + b"".join(m.upper() for m in marks), mark, 2) is None


def test_copy_range_reports_a_short_source(tmp_path: Path) -> None:
    source = tmp_path / "s"
    source.write_bytes(b"12345")
    with open(source, "rb") as src, open(tmp_path / "t", "wb") as dst, pytest.raises(EOFError):
        atomic.copy_range(src.fileno(), dst.fileno(), 2, 10)


@pytest.mark.parametrize("seed", range(200))
def test_a_spliced_file_is_the_whole_file_on_random_layouts(tmp_path: Path, seed: int) -> None:
    """Seeded random old and new layouts (pieces kept, moved, added, removed, renamed to
    an empty key, put twice; literals kept or changed, at the start, the middle and the
    end): the
    spliced file is byte for byte the file written whole, and its layout fits it. The
    runs of pieces both files share at their start and end are copied without looking
    at each piece (splicing._same_ends), so they are where a slip would show."""
    rng = random.Random(seed)
    body = {f"k{i}": f"<item {i} {'x' * rng.randrange(4)}/>".encode() for i in range(30)}
    joints = [b"", b"\n", b"<sep/>"]

    def layout(keys: list[str]) -> tuple[list[bytes], bytes]:
        literals = [b"<head>", *(rng.choice(joints[:1] * 3 + joints) for _ in keys[1:])]
        literals.append(b"</tail>")
        if not keys:
            literals = [b"<head></tail>"]
        # A piece never reused: the old file has other bytes than a fresh one would.
        data = literals[0] + b"".join(
            (body.get(k) or b"<old e/>") + lit for k, lit in zip(keys, literals[1:], strict=True)
        )
        return literals, data

    old_keys = rng.sample(sorted(body), rng.randrange(0, 20))
    if old_keys and rng.random() < 0.3:  # a piece never reused (a post with no origin)
        old_keys[rng.choice([0, -1, len(old_keys) // 2])] = ""
    old_literals, old_data = layout(old_keys)
    writer = OutputWriter(tmp_path / "out")
    old = write_whole(
        writer,
        "f.xml",
        old_data,
        old_literals,
        old_keys,
        [len(body.get(k) or b"<old e/>") for k in old_keys],
    )
    assert old is not None
    keys = list(old_keys)
    for _ in range(rng.randrange(0, 4)):
        action = rng.choice(["add", "remove", "move", "empty", "rename", "twice"])
        at = rng.randrange(len(keys) + 1)
        if action == "add":
            keys.insert(at, rng.choice(sorted(body)))
        elif keys and action == "twice":  # a piece the old file has at its ends, again
            keys.insert(at, rng.choice([keys[0], keys[-1]]))
        elif keys and action == "remove":
            keys.pop(min(at, len(keys) - 1))
        elif keys and action == "move":
            keys.insert(at, keys.pop(rng.randrange(len(keys))))
        elif keys and action == "empty":
            keys[min(at, len(keys) - 1)] = ""
        elif keys:
            keys[min(at, len(keys) - 1)] = f"new{at}"
    keys = list(dict.fromkeys(keys)) if rng.random() < 0.7 else keys
    literals = list(old_literals[: len(keys) + 1])
    while len(literals) < len(keys) + 1:
        literals.insert(-1, rng.choice(joints))
    if len(keys) + 1 != len(old_literals) or rng.random() < 0.3:
        literals[-1] = b"</tail>"
        literals[rng.randrange(len(literals))] = rng.choice([*joints, b"<changed/>"])
    expected = literals[0] + b"".join(
        (body.get(k) or b"<e/>") + lit for k, lit in zip(keys, literals[1:], strict=True)
    )
    new = write_spliced(
        writer,
        "f.xml",
        old,
        literals,
        keys,
        lambda positions: [body.get(keys[i]) or b"<e/>" for i in positions],
    )
    assert new is not None
    assert (tmp_path / "out" / "f.xml").read_bytes() == expected, (old_keys, keys)
    assert new.lengths == tuple(len(body.get(k) or b"<e/>") for k in keys)


def test_an_overlapped_splice_is_written_by_settle_with_its_stamp(tmp_path: Path) -> None:
    """``OutputWriter.overlap``: the new file is written by a thread; once settled its
    bytes are the spliced ones, and the layout kept takes the stamp the writer saw."""
    _, old = _written(tmp_path)
    writer = OutputWriter(tmp_path / "out", overlap=True)
    new = write_spliced(writer, "feed.xml", old, [b"<h>", b"", b""], ["c", "a"], lambda p: [])
    assert new is not None
    assert [w.path for w in writer.writes] == ["feed.xml"]
    writer.settle()
    assert (tmp_path / "out" / "feed.xml").read_bytes() == b"<h><item c/><item a/>"
    store = LayoutStore(tmp_path / "layouts.sqlite")
    store.set("feed.xml", new)
    store.commit(writer.stamps)
    kept = store.get("feed.xml")
    store.close()
    assert kept is not None and kept.stamp == writer.stamps["feed.xml"]
    assert kept.stamp == stamp_of((tmp_path / "out" / "feed.xml").stat())


def test_an_overlapped_splice_that_fails_fails_the_settle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source shorter than its stamp said, met by the thread: the settle raises one
    line naming the file, the old file stays, and no temporary file is left."""
    _, old = _written(tmp_path)

    def short(*args: object) -> None:
        raise EOFError("short")

    monkeypatch.setattr("publisher.spliced.copy_range", short)
    writer = OutputWriter(tmp_path / "out", overlap=True)
    write_spliced(writer, "feed.xml", old, [b"<h>", b"", b""], ["c", "a"], lambda p: [])
    with pytest.raises(OutputError, match=r"feed\.xml changed while the build wrote it"):
        writer.settle()
    assert (tmp_path / "out" / "feed.xml").read_bytes() == OLD
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["feed.xml"]
    writer.settle()  # told once


def test_a_settle_cut_short_leaves_the_rest_for_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while a build waits for its spliced files: those not waited for yet stay
    pending, and the next settle (``remember``, on the way out) waits for them."""
    _, old = _written(tmp_path)
    writer = OutputWriter(tmp_path / "out", overlap=True)
    write_spliced(writer, "feed.xml", old, [b"<h>", b"", b""], ["c", "a"], lambda p: [])
    job = writer._pending[0]
    wait = job.wait
    calls: list[int] = []

    def interrupted() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        wait()

    monkeypatch.setattr(job, "wait", interrupted)
    with pytest.raises(KeyboardInterrupt):
        writer.settle()
    assert writer._pending == [job]
    writer.settle()
    assert writer._pending == [] and "feed.xml" in writer.stamps
    assert (tmp_path / "out" / "feed.xml").read_bytes() == b"<h><item c/><item a/>"


def test_layouts_staged_before_their_files_are_stamped_by_the_commit_alone(
    tmp_path: Path,
) -> None:
    """``LayoutStore.stage`` writes the layouts while their files are still being written:
    unusable (no file has their mark) until the commit gives each its file's stamp; a
    layout set again after the stage, or dropped, is written as the commit has it."""
    _, good = _written(tmp_path)
    other = Layout(stamp=None, keys=("x",), lengths=(3,), literals=(b"<", b">"))
    store = LayoutStore(tmp_path / "layouts.sqlite")
    store.set("feed.xml", good)
    store.set("gone.xml", other)  # its thread never gave it a stamp
    store.stage()
    reader = LayoutStore(tmp_path / "layouts.sqlite", readonly=True)
    assert reader.get("feed.xml") is None and reader.get("gone.xml") is None
    assert store._db is not None
    assert store._db.execute("SELECT count(*) FROM stamps").fetchone() == (2,)
    store.commit({"feed.xml": good.stamp} if good.stamp else {})
    assert reader.get("feed.xml") == good and reader.get("gone.xml") is None
    assert store._db.execute("SELECT count(*) FROM stamps").fetchone() == (1,)
    # Set again after the stage: the commit writes the layout it has now.
    moved = Layout(
        stamp=(1, 2, 3, 4), keys=("a", "b", "z"), lengths=(9, 9, 9), literals=good.literals
    )
    store.stage()
    store.set("feed.xml", moved)
    store.commit()
    assert reader.get("feed.xml") is None  # (1, 2, 3, 4) is no file's size: not used
    kept = "SELECT stamp, keys FROM files JOIN stamps USING (path)"
    assert store._db.execute(kept).fetchall() == [("1:2:3:4", "a\nb\nz")]
    reader.close()
    store.close()


def test_a_commit_never_stamps_the_layouts_another_build_staged(tmp_path: Path) -> None:
    """Two builds at once: one stages, the other stages over it, the first commits. The
    rows are the second's, still unstamped: the first's stamps must not make them usable
    (its file, their keys and lengths: a splice from the wrong runs)."""
    _, good = _written(tmp_path)
    first = LayoutStore(tmp_path / "layouts.sqlite")
    second = LayoutStore(tmp_path / "layouts.sqlite")
    first.set("feed.xml", good)
    first.stage()
    bent = Layout(stamp=None, keys=("a", "b", "c"), lengths=(9, 8, 10), literals=good.literals)
    second.set("feed.xml", bent)
    second.stage()
    first.commit({"feed.xml": good.stamp} if good.stamp else {})
    reader = LayoutStore(tmp_path / "layouts.sqlite", readonly=True)
    assert reader.get("feed.xml") is None
    reader.close()
    first.close()
    second.close()


@pytest.mark.parametrize(
    "keys", [["a", "x", "a", "c"], ["a", "c", "b", "c"], ["a", "c", "x", "a", "c"], ["c", "b", "a"]]
)
def test_a_piece_from_the_old_files_ends_is_copied_between_them_too(
    tmp_path: Path, keys: list[str]
) -> None:
    """Only the pieces between the runs both files share at their ends are looked up
    (splicing._places); a piece wanted there that the old file has only within those runs
    (a key twice) makes the splice look at every piece, as it did."""
    writer, old = _written(tmp_path)  # pieces a, b, c
    body = {"a": b"<item a/>", "b": b"<item b/>", "c": b"<item c/>", "x": b"<item xx/>"}
    literals = [b"<head>", *[b""] * (len(keys) - 1), b"</tail>"]
    new = write_spliced(
        writer, "feed.xml", old, literals, keys, lambda at: [body[keys[i]] for i in at]
    )
    assert new is not None
    expected = b"<head>" + b"".join(body[k] for k in keys) + b"</tail>"
    assert (tmp_path / "out" / "feed.xml").read_bytes() == expected
    assert new.lengths == tuple(len(body[k]) for k in keys)
