"""The output writer: atomic, confined to the output folder, and idle when nothing changed."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher import jsontext
from publisher.errors import OutputError
from publisher.output import OutputWriter


def test_create_change_unchanged(tmp_path: Path) -> None:
    writer = OutputWriter(tmp_path / "out")
    assert writer.write_text("a/b.txt", "one").status == "created"
    path = tmp_path / "out" / "a" / "b.txt"
    first = path.stat().st_mtime_ns
    assert writer.write_text("a/b.txt", "one").status == "unchanged"
    assert path.stat().st_mtime_ns == first
    assert writer.write_text("a/b.txt", "two").status == "changed"
    assert path.read_text() == "two"
    assert [w.status for w in writer.changed] == ["created", "changed"]


def test_no_temp_files_left(tmp_path: Path) -> None:
    writer = OutputWriter(tmp_path)
    for i in range(3):
        writer.write_bytes("x.bin", bytes([i]) * 10)
    assert sorted(os.listdir(tmp_path)) == ["x.bin"]


def test_dry_run_writes_nothing_but_reports(tmp_path: Path) -> None:
    (tmp_path / "same.txt").write_text("same")
    writer = OutputWriter(tmp_path, dry_run=True)
    assert writer.write_text("new/file.txt", "x").status == "created"
    assert writer.write_text("same.txt", "same").status == "unchanged"
    assert writer.write_text("same.txt", "other").status == "changed"
    assert sorted(os.listdir(tmp_path)) == ["same.txt"]
    assert (tmp_path / "same.txt").read_text() == "same"


@pytest.mark.parametrize(
    "relative",
    ["../escape.txt", "/etc/passwd", "a/../../escape.txt", "", ".", "..\\escape.txt"],
)
def test_paths_cannot_escape(tmp_path: Path, relative: str) -> None:
    writer = OutputWriter(tmp_path / "out")
    with pytest.raises(OutputError, match="outside"):
        writer.write_text(relative, "x")
    assert not (tmp_path / "escape.txt").exists()


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError, match="resolves outside"):
        OutputWriter(out).write_text("link/file.txt", "x")
    assert not (tmp_path / "elsewhere" / "file.txt").exists()


def test_failed_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = OutputWriter(tmp_path)
    writer.write_text("keep.txt", "old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OutputError, match="No space left on device"):
        writer.write_text("keep.txt", "new")
    assert (tmp_path / "keep.txt").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"]


# -- withdrawn files: the manifest and the sweep --------------------------------


def _built(root: Path, state: Path, files: dict[str, str]) -> OutputWriter:
    writer = OutputWriter(root)
    for relative, text in files.items():
        writer.write_text(relative, text)
    writer.sweep(state / "outputs.json")
    return writer


def test_files_no_longer_produced_are_deleted_and_others_left(tmp_path: Path) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    out.mkdir()
    (out / "mine.txt").write_text("the user's own file")
    _built(out, state, {"feed.xml": "1", "tags/gone/feed.xml": "2", "og/a.123.png": "3"})
    second = OutputWriter(out)
    second.write_text("feed.xml", "1")
    swept = second.sweep(state / "outputs.json")
    assert swept.deleted == ("og/a.123.png", "tags/gone/feed.xml")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "feed.xml",
        "mine.txt",
    ]  # the emptied folders og/, tags/gone/ and tags/ went too
    manifest = json.loads((state / "outputs.json").read_text())
    assert list(manifest["files"]) == ["feed.xml"]


def test_first_run_without_a_manifest_deletes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old-feed.xml").write_text("written by an older version")
    swept = _built(out, tmp_path / "state", {"feed.xml": "1"}).sweep(tmp_path / "unused.json")
    assert swept.deleted == ()
    assert (out / "old-feed.xml").exists()


def test_nothing_changed_deletes_and_writes_nothing(tmp_path: Path) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    files = {"b.xml": "2", "a.xml": "1"}
    _built(out, state, files)
    manifest = state / "outputs.json"
    before = (manifest.read_bytes(), manifest.stat().st_mtime_ns)
    again = OutputWriter(out)
    for relative, text in reversed(files.items()):
        again.write_text(relative, text)
    assert again.sweep(manifest).deleted == ()
    assert again.changed == []
    assert (manifest.read_bytes(), manifest.stat().st_mtime_ns) == before
    assert sorted(os.listdir(state)) == ["outputs.json"]


def test_a_dry_run_lists_what_it_would_delete_and_deletes_nothing(tmp_path: Path) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    _built(out, state, {"keep.xml": "1", "gone.xml": "2", "og/x.png": "3"})
    manifest = (state / "outputs.json").read_bytes()
    dry = OutputWriter(out, dry_run=True)
    dry.write_text("keep.xml", "1")
    swept = dry.sweep(state / "outputs.json", undecided=lambda p: p.startswith("og/"))
    assert swept.deleted == ("gone.xml",)
    assert (out / "gone.xml").exists() and (out / "og" / "x.png").exists()
    assert (state / "outputs.json").read_bytes() == manifest


def _tamper(state: Path, files: dict[str, str]) -> None:
    data = json.loads((state / "outputs.json").read_text())
    data["files"].update(files)
    (state / "outputs.json").write_text(json.dumps(data))


def test_a_tampered_manifest_never_deletes_outside_the_output_folder(tmp_path: Path) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    _built(out, state, {"feed.xml": "1"})
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    digest = hashlib.sha256(b"precious").hexdigest()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "inner.txt").write_text("precious")
    (out / "linkdir").symlink_to(tmp_path / "elsewhere")
    (out / "link.txt").symlink_to(victim)
    (out / "mine.txt").write_text("precious")
    (out / "inner-link.txt").symlink_to(out / "mine.txt")
    _tamper(
        state,
        {
            "../victim.txt": digest,
            str(victim): digest,
            "linkdir/inner.txt": digest,
            "link.txt": digest,
            "inner-link.txt": digest,
        },
    )
    swept = OutputWriter(out).sweep(state / "outputs.json")
    assert swept.deleted == ("feed.xml",)
    assert victim.read_text() == "precious"
    assert (tmp_path / "elsewhere" / "inner.txt").read_text() == "precious"
    assert (out / "link.txt").is_symlink() and (out / "linkdir").is_symlink()
    assert (out / "inner-link.txt").is_symlink() and (out / "mine.txt").read_text() == "precious"
    reasons = {p.file: p.message for p in swept.problems}
    assert len(reasons) == 5
    assert all("not deleted" in r for r in reasons.values())
    assert "symlink" in reasons["inner-link.txt"]
    assert sum("outside the output folder" in r for r in reasons.values()) == 4


def test_a_file_changed_by_hand_is_left_with_a_warning_once(tmp_path: Path) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    _built(out, state, {"feed.xml": "1", "notes.html": "generated"})
    (out / "notes.html").write_text("edited by hand")
    swept = OutputWriter(out).sweep(state / "outputs.json")
    assert swept.deleted == ("feed.xml",)
    (problem,) = swept.problems
    assert problem.file == "notes.html" and "changed since publisher wrote it" in problem.message
    assert (out / "notes.html").read_text() == "edited by hand"
    assert OutputWriter(out).sweep(state / "outputs.json").problems == ()


def test_a_manifest_of_another_output_folder_deletes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    _built(tmp_path / "old", state, {"feed.xml": "1"})
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "feed.xml").write_text("1")
    assert OutputWriter(tmp_path / "new").sweep(state / "outputs.json").deleted == ()
    assert (tmp_path / "new" / "feed.xml").exists()


def test_a_broken_manifest_is_a_warning_and_deletes_nothing(tmp_path: Path) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    _built(out, state, {"feed.xml": "1"})
    (state / "outputs.json").write_text("{not json")
    swept = OutputWriter(out).sweep(state / "outputs.json")
    assert swept.deleted == () and (out / "feed.xml").exists()
    (problem,) = swept.problems
    assert problem.severity == "warning" and "nothing was deleted" in str(problem)


# --- JSON text (publisher/jsontext.py) -------------------------------------------------------

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=_JSON_VALUES, indent=st.sampled_from([1, 2, 4]))
def test_json_text_is_json_dumps_byte_for_byte(value: object, indent: int) -> None:
    expected = json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=True)
    assert jsontext.dumps(value, indent=indent) == expected


@pytest.mark.parametrize(
    "value",
    [{1: "int key"}, {"a": {2.5: "x"}}, [b"bytes"], {"set": {1}}],
)
def test_json_text_falls_back_to_json_dumps_for_other_types(value: object) -> None:
    try:
        expected: str | type[TypeError] = json.dumps(
            value, ensure_ascii=False, indent=2, sort_keys=True
        )
    except TypeError:
        expected = TypeError
    if expected is TypeError:
        with pytest.raises(TypeError):
            jsontext.dumps(value)
    else:
        assert jsontext.dumps(value) == expected
