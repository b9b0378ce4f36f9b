"""The caches' code digests remembered by stat (``publisher/sources.py``, issue 12): the
memo answers only while every file, folder and ``sys.path`` entry it was made from has the
same stat, a damaged memo is no memo, and a change of the code a cache's rows come from
still changes their key in a real build (the post cache is not reused after an edit of a
module of ``publisher/posts``)."""

from __future__ import annotations

import compileall
import json
import os
import shutil
import site
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import publisher
from publisher import sources, statecache
from publisher.statecache import code_version

sys.path.insert(0, str(Path(__file__).parent))
from build_process import ENV


@pytest.fixture
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A state folder named for the memo, and an import path of folders a test run does not
    write to (the standard library's and site-packages): the memo's key holds the stat of
    every ``sys.path`` entry, and the checkout a run starts in changes under it (coverage
    writes its data files there as other workers' subprocesses end; CI failed
    test_a_flat_listing_does_not_watch_subfolders). publisher's modules are found through
    its package's own path."""
    monkeypatch.setattr(sys, "path", [os.path.dirname(os.__file__), *site.getsitepackages()])
    folder = tmp_path / "state"
    folder.mkdir()
    sources.keep_in(folder)
    yield folder
    sources.keep_in(None)


@pytest.fixture
def state(kept: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """:func:`kept`, with the files made here taken as settled (see
    :func:`test_a_stat_too_new_is_not_remembered` for the rule)."""
    monkeypatch.setattr(sources, "SETTLED_NS", -(10**10))
    return kept


@pytest.fixture
def code(tmp_path: Path) -> Path:
    root = tmp_path / "code"
    (root / "sub").mkdir(parents=True)
    (root / "a.py").write_text("a = 1\n")
    (root / "b.py").write_text("b = 1\n")
    (root / "notes.txt").write_text("not code\n")
    (root / "sub" / "c.py").write_text("c = 1\n")
    return root


class Made:
    """statecache.code_version, counting its calls (what the memo saves)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        monkeypatch.setattr(statecache, "code_version", self)

    def __call__(self, files: list[Path], packages: tuple[str, ...]) -> bytes:
        self.calls += 1
        return code_version(files, packages)


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> Made:
    return Made(monkeypatch)


def digest(code: Path, *, recursive: bool = True, files: tuple[Path, ...] = ()) -> bytes:
    return sources.code_digest("t", code, ("lxml",), recursive=recursive, files=files)


def test_the_digest_is_the_code_version_of_the_listed_files(code: Path, state: Path) -> None:
    extra = code.parent / "extra.py"
    extra.write_text("e = 1\n")
    expected = code_version([code / "a.py", code / "b.py", code / "sub" / "c.py", extra], ("lxml",))
    assert digest(code, files=(extra,)) == expected
    flat = code_version([code / "a.py", code / "b.py", extra], ("lxml",))
    assert sources.code_digest("u", code, ("lxml",), files=(extra,)) == flat


def test_a_second_build_takes_the_digest_from_the_memo(made: Made, code: Path, state: Path) -> None:
    first = digest(code)
    assert (state / sources.MEMO_FILE).is_file()
    assert digest(code) == first
    assert made.calls == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda code: (code / "a.py").write_text("a = 2\n"),  # same size, new bytes
        lambda code: (code / "sub" / "c.py").write_text("c = 22\n"),  # below, recursive
        lambda code: (code / "new.py").write_text(""),  # a module added
        lambda code: (code / "b.py").unlink(),  # a module removed
        lambda code: (code / "b.py").rename(code / "z.py"),  # renamed: another order
        lambda code: (code / "sub" / "deeper").mkdir(),  # a folder added below
        lambda code: os.utime(code / "a.py", ns=(1, 1)),  # only its times
    ],
)
def test_any_change_of_the_code_makes_it_again(
    made: Made, code: Path, state: Path, change: object
) -> None:
    digest(code)
    time.sleep(0.05)  # past the kernel's clock tick: the change has stamps of its own
    change(code)  # type: ignore[operator]
    again = digest(code)
    assert made.calls == 2
    listed, _ = sources.python_files(code, recursive=True)
    assert again == code_version([Path(p) for p in listed], ("lxml",))


def test_a_file_named_beside_the_folder_is_watched(made: Made, code: Path, state: Path) -> None:
    extra = code.parent / "extra.py"
    extra.write_text("e = 1\n")
    digest(code, files=(extra,))
    time.sleep(0.05)
    extra.write_text("e = 2\n")
    digest(code, files=(extra,))
    assert made.calls == 2


def test_a_package_folder_changed_makes_it_again(
    made: Made, code: Path, state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    digest(code)
    digest(code)
    time.sleep(0.05)
    (site / "lxml-99.0.dist-info").mkdir()  # an upgrade lands a new metadata folder
    digest(code)
    assert made.calls == 2


def test_a_flat_listing_does_not_watch_subfolders(made: Made, code: Path, state: Path) -> None:
    digest(code, recursive=False)
    time.sleep(0.05)
    (code / "sub" / "c.py").write_text("c = 2\n")
    digest(code, recursive=False)
    assert made.calls == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # torn
        lambda text: "",
        lambda text: text.replace('"entries"', '"entriez"'),
        lambda text: "[1, 2]",
        "value",
    ],
)
def test_a_damaged_memo_is_no_memo(made: Made, code: Path, state: Path, damage: object) -> None:
    first = digest(code)
    memo = state / sources.MEMO_FILE
    text = memo.read_text()
    if damage == "value":
        # A digest changed in place, its check not: not taken.
        data = json.loads(text)
        [[key, value]] = data["entries"]["t"]
        data["entries"]["t"] = [[key, ("0" if value[0] != "0" else "1") + value[1:]]]
        memo.write_text(json.dumps(data))
    else:
        memo.write_text(damage(text))  # type: ignore[operator]
    assert digest(code) == first
    assert made.calls == 2
    assert digest(code) == first
    assert made.calls == 2  # and written again whole


def test_a_memo_of_bad_hex_with_a_good_check_is_no_memo(
    made: Made, code: Path, state: Path
) -> None:
    first = digest(code)
    memo = state / sources.MEMO_FILE
    entries = json.loads(memo.read_text())["entries"]
    entries["t"][0][1] = "zz"
    memo.write_text(json.dumps({"check": sources._check(entries), "entries": entries}))
    assert digest(code) == first
    assert made.calls == 2


def test_without_a_state_folder_nothing_is_kept(made: Made, code: Path, tmp_path: Path) -> None:
    sources.keep_in(None)
    first = digest(code)
    assert digest(code) == first
    assert made.calls == 2
    assert not list(tmp_path.rglob(sources.MEMO_FILE))


def test_a_state_folder_not_made_yet_is_not_made(made: Made, code: Path, tmp_path: Path) -> None:
    sources.keep_in(tmp_path / "missing")
    try:
        digest(code)
        digest(code)
    finally:
        sources.keep_in(None)
    assert made.calls == 2
    assert not (tmp_path / "missing").exists()


def test_two_digests_share_the_memo(made: Made, code: Path, state: Path) -> None:
    one = sources.code_digest("one", code, (), recursive=True)
    two = sources.code_digest("two", code, ())
    assert sources.code_digest("one", code, (), recursive=True) == one
    assert sources.code_digest("two", code, ()) == two
    assert made.calls == 2
    assert sorted(json.loads((state / sources.MEMO_FILE).read_text())["entries"]) == [
        "one",
        "two",
    ]


def test_builds_with_two_import_paths_in_turn_both_take_the_memo(
    made: Made, code: Path, state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `publish` and `python -m publisher` start with other sys.path[0]s (the script's
    # folder, the current one): part of the key. Run in turn, each finds its own digest.
    ways = [tmp_path / "bin", tmp_path / "site"]
    for folder in ways:
        folder.mkdir()
    path = list(sys.path)
    first = []
    for folder in ways:
        monkeypatch.setattr(sys, "path", [str(folder), *path])
        first.append(digest(code))
    assert made.calls == 2
    for _ in range(3):
        for folder, expected in zip(ways, first, strict=True):
            monkeypatch.setattr(sys, "path", [str(folder), *path])
            assert digest(code) == expected
    assert made.calls == 2
    kept = json.loads((state / sources.MEMO_FILE).read_text())["entries"]["t"]
    assert len(kept) == 2


def test_a_name_keeps_its_latest_digests_only(made: Made, code: Path, state: Path) -> None:
    for n in range(sources.KEPT + 2):
        time.sleep(0.02)  # past the kernel's clock tick: each change has stamps of its own
        (code / "a.py").write_text(f"a = {n}\n")
        digest(code)
    kept = json.loads((state / sources.MEMO_FILE).read_text())["entries"]["t"]
    assert len(kept) == sources.KEPT
    assert kept[0][1] == digest(code).hex()  # the latest first, taken from the memo
    assert made.calls == sources.KEPT + 2


def test_a_stat_too_new_is_not_remembered(
    made: Made, code: Path, kept: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Written twice within one tick of the kernel's clock, a file keeps its size and
    # times: a digest made from so new a stat is never remembered.
    first = digest(code)
    assert not (kept / sources.MEMO_FILE).exists()
    (code / "a.py").write_text("a = 2\n")  # same size, at once: maybe the same stat
    assert digest(code) != first
    assert made.calls == 2
    later = time.time_ns() + sources.SETTLED_NS + 10**9
    monkeypatch.setattr(sources, "time", SimpleNamespace(time_ns=lambda: later))
    digest(code)  # the same stats, two seconds on: kept
    assert (kept / sources.MEMO_FILE).is_file()
    digest(code)
    assert made.calls == 3


# --- a real build ----------------------------------------------------------------------------

CONFIG = """site: {title: T, url: 'https://blog.example.org', timezone: UTC}
posts: {folder: posts}
cards: {enabled: false}
"""

#: ``publish build`` as ``python -c`` runs it (its ``sys.path`` is part of the memo's key).
BUILD = "import sys\nsys.argv = ['publish', 'build']\nfrom publisher.cli import main\nmain()\n"
#: The same build, whose caches' digests must come from the memo: making one raises.
NO_DIGEST = (
    "import publisher.statecache as s\n"
    "def boom(*a, **k): raise SystemExit('code_version called')\n"
    "s.code_version = boom\n" + BUILD
)


def _site(root: Path) -> Path:
    root.mkdir()
    (root / "config.yaml").write_text(CONFIG)
    for n in range(3):
        folder = root / "posts" / f"p{n}"
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(
            f"---\ntitle: Post {n}\ndate: 2024-01-0{n + 1}\n---\nBody {n} with *words*.\n"
        )
    return root


def _build(root: Path, package: Path, script: str = "") -> subprocess.CompletedProcess[str]:
    """``script`` (by default :data:`BUILD`) with the copy ``package`` first on the path,
    no checkout of publisher on it (an editable install's), and no ``PYTHONPATH``: the test
    run's path holds folders that change while it runs (the checkout, where coverage and
    pytest write), and a folder on the path changed under two seconds ago keeps the memo
    from being written."""
    path = (
        "import os, sys\n"
        f"sys.path[:] = [{str(package)!r}, *(p for p in sys.path"
        " if not os.path.isfile(os.path.join(p or '.', 'pyproject.toml'))"
        " or not os.path.isdir(os.path.join(p or '.', 'publisher')))]\n"
    )
    return subprocess.run(
        [sys.executable, "-c", path + (script or BUILD)],
        cwd=root,
        env={k: v for k, v in ENV.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _edit(root: Path, n: int, text: str) -> None:
    post = root / "posts" / f"p{n}" / "index.md"
    post.write_text(post.read_text() + text)


def test_a_build_uses_the_memo_and_an_edit_of_the_code_is_seen(tmp_path: Path) -> None:
    # A copy of the package, whose posts/ a test may edit as a developer would.
    package = tmp_path / "code"
    shutil.copytree(
        Path(publisher.__file__).parent,
        package / "publisher",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    # Compiled, as an installed package is: a build that imports a module the last one
    # did not would otherwise write its .pyc, and a folder of the code changed under two
    # seconds ago is not remembered (where PYTHONDONTWRITEBYTECODE is unset, as in CI).
    assert compileall.compile_dir(package / "publisher", quiet=1)
    repo = Path(publisher.__file__).parents[1]
    for shared in ("assets", "templates", "config.yaml"):
        (package / shared).symlink_to(repo / shared)
    root = _site(tmp_path / "site")
    first = _build(root, package)
    assert first.returncode == 0, first.stderr
    time.sleep(2.1)  # the copy's stats settled (sources.SETTLED_NS)
    _edit(root, 0, "\nMore.\n")
    second = _build(root, package, BUILD)  # writes the memo: the state folder is there now
    assert second.returncode == 0, second.stderr
    assert (root / ".publisher" / sources.MEMO_FILE).is_file()
    _edit(root, 0, "\nMore again.\n")
    memo = _build(root, package, NO_DIGEST)
    assert memo.returncode == 0, memo.stderr
    assert "(2 from cache)" in memo.stderr
    # A module the posts are read with changes: no cached parse may be used.
    rules = package / "publisher" / "posts" / "rules.py"
    rules.write_text(rules.read_text() + "\n# changed\n")
    _edit(root, 1, "\nMore.\n")
    refused = _build(root, package, NO_DIGEST)
    assert refused.returncode != 0
    assert "code_version called" in refused.stderr
    changed = _build(root, package)
    assert changed.returncode == 0, changed.stderr
    assert "from cache" not in changed.stderr
