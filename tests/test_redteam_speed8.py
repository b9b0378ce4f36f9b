"""Red team for issue 12's new machinery under kills, signals and damaged state: body-less
post cache rows read again from their files (``posts/reread.py``), the site table's walk
(``incremental/walk.py``), staged layouts (``LayoutStore.stage``), the walk's post files
(``posts/listed.py``), posts.json staged by a thread (``staged.py``), lazy imports.

Each kill test runs ``python -m publisher build`` as a user runs it, on a bench site of
1,000 posts, kills it (the whole process group, the main process alone, or one worker) at
a random moment drawn from a fixed seed, and asks of the next build: exit 0, no traceback,
no temporary file in the output or state folder, and exactly a cold build's output folder.
"""

from __future__ import annotations

import random
import shutil
import signal
import sys
from pathlib import Path

import pytest
from build_process import (
    aged_bench_site,
    bench_naive,
    cold_output,
    interrupted_starting,
    killed_build,
    leftovers,
    publish_build,
)

from conftest import tree_bytes

POSTS = 1000
#: Kill points a test: each costs a killed build and the build that puts it right.
KILLS = 6
EDITED = "posts/post-00500/index.md"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals and /proc")


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, bytes]]]:
    """A bench site (posts older than two seconds: judged by their stat) and the cold
    output folders of it as written and with :data:`EDITED` edited."""
    base = tmp_path_factory.mktemp("bench")
    root = aged_bench_site(base / "site", POSTS)
    original = (root / EDITED).read_bytes()
    expected = {"original": cold_output(root, base / "cold-original")}
    (base / "cold-edited").mkdir()
    edited = base / "edited"
    shutil.copytree(root, edited)
    (edited / EDITED).write_bytes(original + b"\nEdited, with [a link](/x/) and *more*.\n")
    expected["edited"] = cold_output(edited, base / "cold-edited" / "site")
    shutil.rmtree(edited)
    return root, expected


def _put_right(root: Path, expected: dict[str, bytes], what: str) -> None:
    ran = publish_build(root)
    assert ran.returncode == 0 and "Traceback" not in ran.stderr, (what, ran.stderr)
    assert leftovers(root) == [], what
    got = tree_bytes(root / "public")
    assert sorted(got) == sorted(expected), what
    assert [name for name in got if got[name] != expected[name]] == [], what


def _kill_rounds(
    bench: tuple[Path, dict[str, dict[str, bytes]]], tmp: Path, kind: str, how: str
) -> None:
    """:data:`KILLS` builds of ``kind`` ("cold": no state or output; "edit": one post
    changed since the last build; "noop": nothing changed) killed ``how``, each followed
    by a build that must put it right."""
    source, expected = bench
    root = tmp / "site"
    shutil.copytree(source, root)
    original = (root / EDITED).read_bytes()
    rng = random.Random(f"{kind}/{how}")
    state = "original"
    if kind != "cold":
        _put_right(root, expected[state], "first build")
    for round_ in range(1 if how == "worker" else KILLS):
        if kind == "cold":
            shutil.rmtree(root / "public", ignore_errors=True)
            shutil.rmtree(root / ".publisher", ignore_errors=True)
        elif kind == "edit":
            state = "edited" if state == "original" else "original"
            text = original + b"\nEdited, with [a link](/x/) and *more*.\n"
            (root / EDITED).write_bytes(text if state == "edited" else original)
        delay = rng.uniform(0.05, 0.5 if how == "worker" else 1.3 if kind == "cold" else 0.6)
        what = f"{kind} build, {how} kill {round_} at {delay:.2f} s"
        code, stderr = killed_build(root, delay, how)
        early = how == "int" and interrupted_starting(code, stderr)  # CPython's to report
        assert early or "Traceback" not in stderr, (what, stderr)
        if how in ("int", "term") and not early:
            assert code in (0, 1, 130, 143, -signal.SIGINT, -signal.SIGTERM), (what, stderr)
            assert len(stderr.strip().splitlines()) <= 8, (what, stderr)
        _put_right(root, expected[state], what)


@pytest.mark.parametrize("how", ["group", "main", "worker"])
def test_a_killed_cold_build_is_put_right(
    bench: tuple[Path, dict[str, dict[str, bytes]]], tmp_path: Path, how: str
) -> None:
    _kill_rounds(bench, tmp_path, "cold", how)


@pytest.mark.parametrize("how", ["group", "main", "int", "term"])
def test_a_killed_one_edit_build_is_put_right(
    bench: tuple[Path, dict[str, dict[str, bytes]]], tmp_path: Path, how: str
) -> None:
    _kill_rounds(bench, tmp_path, "edit", how)


def test_a_killed_noop_build_is_put_right(
    bench: tuple[Path, dict[str, dict[str, bytes]]], tmp_path: Path
) -> None:
    _kill_rounds(bench, tmp_path, "noop", "group")


def test_ctrl_c_before_the_build_starts_is_one_line(tmp_path: Path) -> None:
    # Ctrl-C while the publish process imports or runs the fast path's stat pass (the
    # first 0.1-0.3 s of every build, before the build's own handler): a traceback of
    # the import machinery, not "aborted" and 130.
    (tmp_path / "config.yaml").write_text(bench_naive.CONFIG, encoding="utf-8")
    script = (
        "import sys; sys.argv = ['publish', 'build']\n"
        "from publisher import fastpath\n"
        "def run(*args, **kwargs):\n"
        "    raise KeyboardInterrupt\n"
        "fastpath.run = run\n"
        "from publisher.cli import main\n"
        "main()\n"
    )
    ran = publish_build(tmp_path, script=script)
    assert ran.returncode == 130, ran.stderr
    assert ran.stderr.split() == ["aborted"], ran.stderr
