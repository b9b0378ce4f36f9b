"""Cards with nothing changed (issue 12): a card whose key is unchanged and whose files are
still the ones the last build wrote is neither read from the render cache nor read back
from the output folder; any other file in their place is written again, and a build's
output and manifest are the ones a full read would give."""

from __future__ import annotations

import importlib
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import cli_run
import pytest
import yaml
from test_cards import LATIN_ONLY, SITE, build, make_post
from test_output_keep import TAMPERINGS

from conftest import Site, tree_bytes
from publisher import output
from publisher.cards import build_cards
from publisher.cards import fonts as card_fonts
from publisher.cards import layout as card_layout
from publisher.cards.cache import CACHE_FILE, RenderCache
from publisher.cards.publish import Publisher
from publisher.errors import CardError
from publisher.output import OutputWriter, Stamp
from publisher.posts.model import Post
from publisher.resources import templates

TEXT_ONLY = replace(LATIN_ONLY, layout="text")


def posts(root: Path) -> list[Post]:
    return [
        make_post(root, f"2024-01-0{i}-p{i}", title=f"Post {i}", summary=f"Summary {i}.")
        for i in range(1, 4)
    ]


def files(root: Path) -> dict[str, bytes]:
    folder = root / "public"
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


class Work:
    """What a build read: card bytes from the cache, files back from the output folder."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.cache_reads: list[str] = []
        self.file_reads: list[str] = []
        data, compare = RenderCache.data, output.compare_file

        def reading(cache: RenderCache, key: str, stored: Any) -> bytes | None:
            self.cache_reads.append(key)
            return data(cache, key, stored)

        def comparing(path: Path, new: bytes) -> tuple[output.Status, Stamp | None]:
            self.file_reads.append(path.name)
            return compare(path, new)

        monkeypatch.setattr(RenderCache, "data", reading)
        monkeypatch.setattr(output, "compare_file", comparing)

    def clear(self) -> None:
        self.cache_reads.clear()
        self.file_reads.clear()


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Work:
    return Work(monkeypatch)


def test_nothing_changed_reads_no_card_and_no_output_file(tmp_path: Path, work: Work) -> None:
    cold, cold_writer = build(tmp_path, posts(tmp_path), TEXT_ONLY)
    before = files(tmp_path)
    work.clear()
    warm, writer = build(tmp_path, posts(tmp_path), TEXT_ONLY)
    assert (warm.rendered, warm.reused) == (0, 3)
    # Only the manifest.json is compared: its bytes are made new each build.
    assert work.cache_reads == [] and work.file_reads == ["manifest.json"]
    assert [w.status for w in writer.writes] == ["unchanged"] * 7
    # The sweep's manifest and the cards are what reading every file would have given.
    assert writer.hashes == cold_writer.hashes
    assert warm.cards == cold.cards
    assert files(tmp_path) == before


@pytest.mark.parametrize("which", ["image", "snippet"])
@pytest.mark.parametrize("tampering", TAMPERINGS, ids=list(TAMPERINGS))
def test_a_card_file_changed_by_hand_is_written_again(
    tmp_path: Path, tampering: str, which: str, work: Work
) -> None:
    cold, _ = build(tmp_path, posts(tmp_path), TEXT_ONLY)
    before = files(tmp_path)
    card = cold.cards[1]
    name = card.path if which == "image" else card.path.split(".")[0] + ".html"
    TAMPERINGS[tampering](tmp_path / "public" / name)
    work.clear()
    warm, writer = build(tmp_path, posts(tmp_path), TEXT_ONLY)
    assert (warm.rendered, warm.reused) == (0, 3)
    after = files(tmp_path)
    for leftover in ("other.tmp", "reference", "copy.jpg"):  # the tamperings' own files
        after.pop(f"og/{leftover}", None)
    assert after == before
    # Read back and compared (then written unless its bytes are the card's): not kept.
    assert work.file_reads.count(name.split("/")[-1]) == 1
    assert sorted(work.file_reads) == sorted([name.split("/")[-1], "manifest.json"])
    # The build after the repair keeps every file again.
    _, writer = build(tmp_path, posts(tmp_path), TEXT_ONLY)
    assert {w.status for w in writer.writes} == {"unchanged"}


def test_a_snippet_whose_text_changed_is_written_though_its_file_is_in_place(
    tmp_path: Path,
) -> None:
    # A post without a summary is described by the site's description: a new one changes
    # every such post's meta snippet, and no card image.
    bare = [replace(p, summary=None) for p in posts(tmp_path)]
    build(tmp_path, bare, TEXT_ONLY)
    site = replace(SITE, description="Another description")
    writer = OutputWriter(tmp_path / "public")
    build_cards(
        site, bare, TEXT_ONLY, output=writer, cache_dir=tmp_path / "state", jobs=1, root=tmp_path
    )
    status = {w.path: w.status for w in writer.writes}
    assert [s for p, s in sorted(status.items()) if p.endswith(".html")] == ["changed"] * 3
    assert {s for p, s in status.items() if p.endswith(".jpg")} == {"unchanged"}
    snippet = (tmp_path / "public" / "og" / f"{bare[0].id}.html").read_text(encoding="utf-8")
    assert "Another description" in snippet


def test_an_emptied_output_folder_gets_its_cards_from_the_cache(tmp_path: Path, work: Work) -> None:
    # A CI job that restores the state folder but starts from an empty output folder.
    build(tmp_path, posts(tmp_path), TEXT_ONLY)
    before = files(tmp_path)
    for path in (tmp_path / "public").rglob("*.*"):
        path.unlink()
    work.clear()
    warm, _ = build(tmp_path, posts(tmp_path), TEXT_ONLY)
    assert (warm.rendered, warm.reused) == (0, 3) and len(work.cache_reads) == 3
    assert files(tmp_path) == before


def test_another_output_folder_is_written_not_kept(tmp_path: Path) -> None:
    # The files a stamp names are those of one folder: a second folder sharing the state
    # (a preview) has none yet.
    build(tmp_path / "a", posts(tmp_path), TEXT_ONLY, cache_dir=tmp_path / "state")
    _, writer = build(tmp_path / "b", posts(tmp_path), TEXT_ONLY, cache_dir=tmp_path / "state")
    assert {w.status for w in writer.writes if not w.path.endswith("manifest.json")} == {"created"}
    assert files(tmp_path / "a") == files(tmp_path / "b")


def _spoil_blobs(state: Path) -> None:
    db = sqlite3.connect(state / CACHE_FILE)
    with db:
        # Same length, other bytes: the row still describes the card, its bytes are wrong.
        db.execute("UPDATE cards SET data = zeroblob(length(data))")
    db.close()


def test_a_damaged_cache_row_is_never_published(tmp_path: Path) -> None:
    build(tmp_path, posts(tmp_path), TEXT_ONLY)
    before = files(tmp_path)
    _spoil_blobs(tmp_path / "state")
    # Files in place: their bytes are not needed, and they are still the right ones.
    kept, _ = build(tmp_path, posts(tmp_path), TEXT_ONLY)
    assert (kept.rendered, kept.reused) == (0, 3) and files(tmp_path) == before
    # A file gone: the bad row is not copied out, the card is rendered again.
    (tmp_path / "public" / kept.cards[0].path).unlink()
    _spoil_blobs(tmp_path / "state")
    again, _ = build(tmp_path, posts(tmp_path), TEXT_ONLY)
    assert (again.rendered, again.reused) == (1, 2) and files(tmp_path) == before


def test_a_card_file_changed_after_it_was_found_in_place_is_rendered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Between the look at the output folder and the write, another program deletes a
    # card (and its cached bytes are bad): the card is rendered, not left missing.
    cold, _ = build(tmp_path, posts(tmp_path), TEXT_ONLY)
    before = files(tmp_path)
    _spoil_blobs(tmp_path / "state")
    real = Publisher.in_place

    def then_deleted(self: Publisher, item: Any, stored: Any) -> bool:
        found = real(self, item, stored)
        if item.post.id == cold.cards[2].post_id:
            (tmp_path / "public" / cold.cards[2].path).unlink()
        return found

    monkeypatch.setattr(Publisher, "in_place", then_deleted)
    warm, _ = build(tmp_path, posts(tmp_path), TEXT_ONLY)
    assert [c.path for c in warm.cards] == [c.path for c in cold.cards]
    assert files(tmp_path) == before


def test_a_dry_run_writer_notes_no_stamp_for_a_file_it_did_not_write(tmp_path: Path) -> None:
    cold, _ = build(tmp_path, posts(tmp_path), TEXT_ONLY)
    before = files(tmp_path)
    (tmp_path / "public" / cold.cards[0].path).unlink()
    build(tmp_path, posts(tmp_path), TEXT_ONLY, dry_run=True)
    assert not (tmp_path / "public" / cold.cards[0].path).exists()
    build(tmp_path, posts(tmp_path), TEXT_ONLY)
    assert files(tmp_path) == before


# --- fonts: checked when a card is drawn ------------------------------------------------------


def own_fonts(root: Path) -> Any:
    """Options whose regular and bold fonts are copies the test may spoil."""
    folder = root / "fonts"
    folder.mkdir(parents=True, exist_ok=True)
    regular, bold = folder / "regular.otf", folder / "bold.otf"
    regular.write_bytes(TEXT_ONLY.regular_font.read_bytes())
    bold.write_bytes(TEXT_ONLY.bold_font.read_bytes())
    return replace(TEXT_ONLY, font_regular=regular, font_bold=bold)


def test_nothing_to_draw_parses_no_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = own_fonts(tmp_path)
    build(tmp_path, posts(tmp_path), options)

    def parsing(path: str) -> frozenset[int]:
        raise AssertionError(f"{path} was parsed")

    monkeypatch.setattr(card_fonts, "coverage", parsing)
    warm, _ = build(tmp_path, posts(tmp_path), options)
    assert (warm.rendered, warm.reused) == (0, 3)


@pytest.mark.parametrize("spoil", ["garbage", "missing", "fifo", "folder"])
def test_a_spoiled_font_stops_the_stage_though_every_card_was_cached(
    tmp_path: Path, spoil: str
) -> None:
    options = own_fonts(tmp_path)
    build(tmp_path, posts(tmp_path), options)
    bold = options.bold_font
    bold.unlink()
    if spoil == "garbage":
        bold.write_bytes(b"not a font at all")
    elif spoil == "fifo":
        os.mkfifo(bold)
    elif spoil == "folder":
        bold.mkdir()
    card_fonts.coverage.cache_clear()  # as in the next build's own process
    with pytest.raises(CardError, match=r"font .*bold.otf cannot be read; point cards.fonts"):
        build(tmp_path, posts(tmp_path), options)


# --- layouts: read once, by libyaml ----------------------------------------------------------


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML without libyaml")
def test_the_shipped_layouts_read_the_same_with_libyaml() -> None:
    for path in sorted((templates() / "cards").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=yaml.CSafeLoader) == yaml.safe_load(text), path.name


def test_a_broken_layout_is_reported_as_pyyaml_words_it(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(CardError) as error:
        card_layout.load_layout("bad", (tmp_path,))
    try:
        yaml.safe_load("title: [unclosed\n")
    except yaml.YAMLError as exc:
        expected = card_layout._yaml_problem(exc)
    assert str(error.value) == f"bad.yaml: {expected}; fix the file"


def test_a_layout_edited_keeping_size_and_mtime_is_read_again(tmp_path: Path) -> None:
    shipped = (templates() / "cards" / "text.yaml").read_text(encoding="utf-8")
    path = tmp_path / "mine.yaml"
    path.write_text(shipped, encoding="utf-8")
    first = card_layout.load_layout("mine", (tmp_path,))
    assert card_layout.load_layout("mine", (tmp_path,)) is first  # read once
    before = path.stat()
    edited = shipped.replace("valign: center", "valign: bottom")
    assert edited != shipped and len(edited) == len(shipped)
    path.write_text(edited, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    again = card_layout.load_layout("mine", (tmp_path,))
    assert again.digest != first.digest and again.text.valign == "bottom"


# --- the face detector: told by its files, not imported --------------------------------------

WARM_BUILD = """
import sys
from pathlib import Path
from dataclasses import replace
sys.path.insert(0, sys.argv[2])
from test_cards import LATIN_ONLY, build, make_post
root = Path(sys.argv[1])
posts = [make_post(root, "2024-01-01-p1", title="Post 1")]
result, _ = build(root, posts, replace(LATIN_ONLY, layout="text"))
print(result.rendered, result.reused, "cv2" in sys.modules, "publisher.cards.render" in sys.modules)
"""


def test_a_build_with_nothing_to_draw_imports_neither_opencv_nor_the_renderer(
    tmp_path: Path,
) -> None:
    pytest.importorskip("cv2")
    tests = str(Path(__file__).parent)

    def run() -> str:
        ran = subprocess.run(
            [sys.executable, "-c", WARM_BUILD, str(tmp_path), tests],
            capture_output=True,
            text=True,
            check=False,
        )
        assert ran.returncode == 0, ran.stderr
        return ran.stdout.split()

    # Drawn: the renderer and the detector are imported, and the detector remembered.
    assert run() == ["1", "0", "True", "True"]
    assert run() == ["0", "1", "False", "False"]


def test_the_detector_is_asked_again_when_what_it_depends_on_changes(tmp_path: Path) -> None:
    asked: list[str] = []

    def answer() -> str:
        asked.append("asked")
        return f"answer {len(asked)}"

    cache = RenderCache(tmp_path)
    assert cache.remembered("q", "one", answer) == "answer 1"
    cache.close()
    again = RenderCache(tmp_path)
    assert again.remembered("q", "one", answer) == "answer 1"
    assert again.remembered("q", "two", answer) == "answer 2"
    again.close()
    dry = RenderCache(tmp_path, readonly=True)
    assert dry.remembered("q", "three", answer) == "answer 3"
    dry.close()
    assert RenderCache(tmp_path).remembered("q", "two", answer) == "answer 2"
    assert len(asked) == 3


def test_installing_or_upgrading_opencv_changes_what_the_detector_depends_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publisher.cards import faces

    # find_spec answers from sys.modules first: as a new process would, not this one.
    monkeypatch.delitem(sys.modules, "cv2", raising=False)
    before = faces.installed()
    package = tmp_path / "cv2"
    package.mkdir()
    init = package / "__init__.py"
    init.write_text("__version__ = '9.0.0'\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    installed = faces.installed()
    assert installed != before and str(init) in installed
    # An upgrade writes the files again (even the same bytes, with the same mtime).
    info = init.stat()
    init.unlink()
    init.write_text("__version__ = '9.0.0'\n", encoding="utf-8")
    os.utime(init, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert faces.installed() != installed


# --- through publish build: a card changed by hand, then a post edited ---------------------

CLI_CONFIG = """\
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
  layout: text
  fonts:
    fallbacks: []
feeds:
  formats: [rss]
"""


@pytest.mark.parametrize("edit_a_post", [True, False], ids=["a post edited", "nothing else"])
@pytest.mark.parametrize(
    "tampering", ["edited keeping size and mtime", "renamed over keeping size and mtime", "deleted"]
)
def test_publish_build_writes_a_card_changed_by_hand_again(
    site: Site, tmp_path: Path, tampering: str, edit_a_post: bool
) -> None:
    site.config(CLI_CONFIG)
    for i in range(3):
        site.post(f"p{i}", f"title: Post {i}\ndate: 2024-01-0{i + 1}", f"Body {i}.\n")
    first = cli_run.publish("build", cwd=site.root, terminal=True)
    assert first.returncode == 0, first.stderr
    card = next((site.root / "public" / "og").glob("p1.*.jpg"))
    TAMPERINGS[tampering](card)
    if edit_a_post:  # the stages run, the card stage among them
        site.post("p2", "title: Post 2\ndate: 2024-01-03", "Body 2, edited.\n")
    ran = cli_run.publish("build", cwd=site.root, terminal=True)
    assert ran.returncode == 0, ran.stderr
    cold = tmp_path / "cold"
    shutil.copytree(site.root, cold, ignore=shutil.ignore_patterns("public", "state"))
    again = cli_run.publish("build", cwd=cold, terminal=True)
    assert again.returncode == 0, again.stderr
    built = tree_bytes(site.root / "public")
    built.pop("og/other.tmp", None)
    assert built == tree_bytes(cold / "public")


def test_an_opencv_that_does_not_load_is_asked_about_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publisher.cards import faces

    pytest.importorskip("cv2")
    # Installed, but failing to load (a missing system library): not remembered as none.
    monkeypatch.setattr(faces, "_modules", lambda: None)
    build(tmp_path, posts(tmp_path), TEXT_ONLY)
    asked: list[str] = []
    monkeypatch.setattr(faces, "detector", lambda: asked.append("asked") or "opencv 9")
    build(tmp_path, posts(tmp_path), TEXT_ONLY)
    build(tmp_path, posts(tmp_path), TEXT_ONLY)
    assert asked == ["asked"]  # then remembered
