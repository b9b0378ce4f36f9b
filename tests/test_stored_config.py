"""The loaded config kept in the last build's record (config/stored.py): a build the fast
path hands it to does not load config.yaml, and any change the loaded config could depend
on makes the build load it again.

Builds run in this process through the console entry point (the fast path first), with the
2-second "recent" window at 0 so that the files written here are judged by their stat; a
spy on the loader tells whether the config was loaded. One run in a fresh interpreter
counts what a build handed the config does not import.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cli_run
import pytest

from conftest import Site, tree_bytes
from publisher import snapshot
from publisher.cli import entry
from publisher.config import load_config, loader, stored

CONFIG = """\
site: {title: T, url: 'https://blog.example.org', timezone: UTC}
posts: {folder: posts}
output: {folder: public}
state: {folder: state}
cards: {enabled: false, logo: logo.png, layouts_folder: layouts}
feeds: {formats: [rss, atom, json], categories: true, limit: 10}
"""
POST = "title: Post {i}\ndate: 2024-01-{day:02d}\ncategories: [c{i}]"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
#: A layout of the site's own: the shipped hero layout, as a site would copy it.
LAYOUT = (Path(stored.__file__).parents[2] / "templates" / "cards" / "hero.yaml").read_text(
    encoding="utf-8"
)


@pytest.fixture(autouse=True)
def _no_recent_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "RECENT_NS", 0)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Each config file the loader loads."""
    seen: list[Path] = []
    real = loader._load

    def spy(path: Path) -> Any:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(loader, "_load", spy)
    return seen


def _build(root: Path, main: Callable[[], object] = cli_run.main) -> tuple[int, str]:
    ran = cli_run.run_entry(main, ("build",), cwd=root, env={"PATH": os.environ["PATH"]})
    return ran.returncode, ran.stderr


@pytest.fixture
def built(site: Site, loads: list[Path]) -> Site:
    site.config(CONFIG)
    (site.root / "logo.png").write_bytes(PNG)
    (site.root / "layouts").mkdir()
    (site.root / "layouts" / "mine.yaml").write_text(LAYOUT, encoding="utf-8")
    for i in range(3):
        site.post(f"p{i}", POST.format(i=i, day=i + 1), f"Body {i}.\n")
    code, stderr = _build(site.root)
    assert code == 0, stderr
    record = json.loads((site.root / "state" / "inputs.json").read_text(encoding="utf-8"))
    assert record["fast"]["stored"]
    loads.clear()
    return site


def _cold_copy(site: Site) -> Path:
    """The site's sources in a new folder (no output, no state), to build cold."""
    cold = Path(tempfile.mkdtemp(prefix="cold-", dir=site.root)) / "site"
    shutil.copytree(
        site.root, cold, symlinks=True, ignore=shutil.ignore_patterns("public", "state", "cold-*")
    )
    return cold


def _same_as_cold(site: Site) -> None:
    cold = _cold_copy(site)
    assert _build(cold, entry.main)[0] == 0
    assert tree_bytes(site.root / "public") == tree_bytes(cold / "public")


def test_a_post_edited_builds_with_the_config_kept(built: Site, loads: list[Path]) -> None:
    built.post("p1", POST.format(i=1, day=2), "Body 1, edited.\n")
    assert _build(built.root)[0] == 0
    assert loads == []
    _same_as_cold(built)
    loads.clear()  # the cold build's load
    built.post("p7", POST.format(i=7, day=7), "New.\n")
    assert _build(built.root)[0] == 0
    assert loads == []  # kept again by the build that took it
    _same_as_cold(built)


def _edit_config(site: Site) -> None:
    site.config_path.write_text(CONFIG.replace("title: T,", "title: Other,"), encoding="utf-8")


def _edit_logo(site: Site) -> None:
    (site.root / "logo.png").write_bytes(PNG + b"\0")


def _break_logo(site: Site) -> None:
    (site.root / "logo.png").write_bytes(b"not a picture")


def _edit_layout(site: Site) -> None:
    (site.root / "layouts" / "mine.yaml").write_text(LAYOUT + "\n# edited\n", encoding="utf-8")


def _break_layout(site: Site) -> None:
    (site.root / "layouts" / "mine.yaml").write_text("layers: [", encoding="utf-8")


def _add_layout(site: Site) -> None:
    (site.root / "layouts" / "other.yaml").write_text("layers: [", encoding="utf-8")


def _damage_kept(site: Site) -> None:
    path = site.root / "state" / "inputs.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["fast"]["stored"]["config"]["class"] = "Secret"  # not a config class
    path.write_text(json.dumps(record), encoding="utf-8")


def _kept_value_edited(site: Site) -> None:
    # Still a config, of the right classes: only the digest kept beside it tells.
    path = site.root / "state" / "inputs.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["fast"]["stored"]["config"]["fields"]["site"]["fields"]["title"] = "Edited"
    path.write_text(json.dumps(record), encoding="utf-8")


def _kept_for_another_file(site: Site) -> None:
    path = site.root / "state" / "inputs.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["fast"]["stored"]["config"]["fields"]["source"]["path"] = "/elsewhere/config.yaml"
    path.write_text(json.dumps(record), encoding="utf-8")


CHANGES: dict[str, Callable[[Site], None]] = {
    "config-text": _edit_config,
    "logo-edited": _edit_logo,
    "logo-broken": _break_logo,
    "layout-edited": _edit_layout,
    "layout-broken": _break_layout,
    "layout-added": _add_layout,
    "kept-damaged": _damage_kept,
    "kept-value-edited": _kept_value_edited,
    "kept-for-another-file": _kept_for_another_file,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_the_config_may_depend_on_loads_it_again(
    built: Site, loads: list[Path], change: str
) -> None:
    CHANGES[change](built)
    built.post("p1", POST.format(i=1, day=2), "Body 1, edited.\n")  # a build to do
    code, stderr = _build(built.root)
    assert loads, change  # loaded, not taken from the record
    cold = _cold_copy(built)
    if code == 0:
        assert _build(cold, entry.main)[0] == 0
        assert tree_bytes(built.root / "public") == tree_bytes(cold / "public")
    else:  # what loading it says: the same problems, the same exit code
        assert (code, stderr) == _build(cold, entry.main)


def test_a_posts_folder_gone_is_reported_as_the_loader_reports_it(
    built: Site, loads: list[Path]
) -> None:
    shutil.rmtree(built.posts)
    code, stderr = _build(built.root)
    assert loads and code != 0
    assert "is not a folder" in stderr


def test_a_config_naming_a_variable_is_not_kept(site: Site) -> None:
    site.config(CONFIG.replace("title: T,", "title: '${SITE_TITLE}',"))
    (site.root / "logo.png").write_bytes(PNG)
    (site.root / "layouts").mkdir()
    (site.root / "layouts" / "mine.yaml").write_text(LAYOUT, encoding="utf-8")
    site.post("p0", POST.format(i=0, day=1), "Body.\n")
    ran = cli_run.run_entry(
        cli_run.main, ("build",), cwd=site.root, env={"PATH": "", "SITE_TITLE": "Secret T"}
    )
    assert ran.returncode == 0, ran.stderr
    record = json.loads((site.root / "state" / "inputs.json").read_text(encoding="utf-8"))
    assert record["fast"] and "stored" not in record["fast"]
    assert "Secret T" not in (site.root / "state" / "inputs.json").read_text(encoding="utf-8")


#: Every kind of value a config holds: nested card options, colours, limits, paths.
RICH = CONFIG.replace(
    "cards: {enabled: false,",
    "cards: {enabled: true, format: png, max_bytes: 700 KB, colors: {accent: '#ff0000'},"
    " remote: {allow_private_networks: [10.0.0.0/8]}, min_contrast: 3,",
).replace("limit: 10}", "limit: null, tags: true, hub: 'https://hub.example.org/', rights: R}")


@pytest.mark.parametrize("text", [CONFIG, RICH, None])
def test_loaded_configs_come_back_equal(tmp_path: Path, text: str | None) -> None:
    from publisher import resources

    config = load_config(resources.example_config() if text is None else _write(tmp_path, text))
    data = stored.encode(config)
    if text is None:  # an announce target's options hold values JSON does not (timedelta)
        assert data is None
        return
    assert data is not None and config.trail is not None
    back = stored.decode(json.loads(json.dumps(data))["config"], config.trail)
    assert back == config and repr(back) == repr(config)
    assert back.trail is config.trail


def test_only_the_configs_own_classes_are_made(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, CONFIG.replace("cards: {", "cards: {width: 800, ")))
    assert config.trail is not None
    data = stored.encode(config)
    assert data is not None
    planted = json.loads(json.dumps(data).replace('"class": "SiteAuthor"', '"class": "Path"'))
    planted["config"]["fields"]["site"]["class"] = "os.system"
    with pytest.raises(KeyError):
        stored.decode(planted["config"], config.trail)


def _write(folder: Path, text: str) -> Path:
    (folder / "posts").mkdir(exist_ok=True)
    (folder / "logo.png").write_bytes(PNG)
    (folder / "layouts").mkdir(exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_digest_outside_the_posts_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("posts/a/index.md", "code/x.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name, encoding="utf-8")
    plan = [
        ["walk", "code:", str(tmp_path / "code"), "code"],
        ["walk", "post:", str(tmp_path / "posts"), ""],
    ]
    later = time.time_ns() + 10**10  # every file old enough to be judged by its stat

    def outside() -> str | None:
        taken = snapshot.take(plan, {}, later)
        found = taken.digest_outside("post:")
        # The posts' walk is skipped as a slice: the same as looking at every label.
        every = snapshot.Snapshot(entries=taken.entries, recent=taken.recent)
        assert every.walks == () and every.digest_outside("post:") == found
        return found

    first = outside()
    assert first is not None
    (tmp_path / "posts" / "a" / "index.md").write_text("edited", encoding="utf-8")
    (tmp_path / "posts" / "b").mkdir()
    assert outside() == first  # the posts do not count
    (tmp_path / "code" / "x.py").write_text("edited!", encoding="utf-8")
    assert outside() != first  # anything else does
    monkeypatch.setattr(snapshot, "RECENT_NS", 2 * 10**9)  # x.py is recent: not judged
    assert snapshot.take(plan, {}, time.time_ns()).digest_outside("post:") is None


_PROBE = textwrap.dedent(
    """
    import json, sys
    sys.argv = ["publish", "build"]
    from publisher.cli import main
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
    """
)


def test_a_build_handed_the_config_imports_no_loader_or_schema(site: Site) -> None:
    site.config(CONFIG)
    (site.root / "logo.png").write_bytes(PNG)
    (site.root / "layouts").mkdir()
    (site.root / "layouts" / "mine.yaml").write_text(LAYOUT, encoding="utf-8")
    for i in range(3):
        site.post(f"p{i}", POST.format(i=i, day=i + 1), f"Body {i}.\n")

    def run() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE],
            cwd=site.root,
            env={**os.environ, "COVERAGE_PROCESS_CONFIG": "", "PYTHONIOENCODING": "utf-8"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        data = json.loads(done.stdout.strip().splitlines()[-1])
        assert data["code"] == 0, done.stderr
        return list(data["modules"])

    assert "publisher.config.loader" in run()  # the first build loads it
    _age(site.root)
    assert "publisher.config.loader" in run()  # a build to record it past the recent window
    site.post("p1", POST.format(i=1, day=2), "Body 1, edited.\n")  # recent: hashed
    modules = run()
    for name in (
        "publisher.config.loader",
        "publisher.config.paths",
        "publisher.schema",
        "difflib",
    ):
        assert name not in modules, name


def _age(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 60 * 10**9))


def test_a_config_named_from_another_folder_is_kept_too(built: Site, loads: list[Path]) -> None:
    def build() -> int:
        ran = cli_run.run_entry(
            cli_run.main,
            ("build", "--config", f"{built.root.name}/config.yaml"),
            cwd=built.root.parent,
            env={"PATH": os.environ["PATH"]},
        )
        return ran.returncode

    built.post("p1", POST.format(i=1, day=2), "Body 1, edited.\n")
    assert build() == 0
    assert loads == []  # the record of the build run from the site's own folder
    _same_as_cold(built)
