"""``publisher.exiting``: a ``publish`` process keeps what its build made until it ends
with ``os._exit`` (freeing it on return was 16 to 25 ms of a one-post build at 10,000
posts); any other process keeps nothing."""

from __future__ import annotations

import gc
import os
import textwrap
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import cli_run
import pytest
from test_fast_exit import CONFIG, _run

from conftest import Site
from publisher import exiting


class Big:
    """Something a function makes and drops on return (a weakref tells if it is freed)."""


def _makes() -> weakref.ref[Big]:
    made = Big()
    exiting.keep_frame()
    return weakref.ref(made)


@pytest.fixture
def fresh() -> Iterator[None]:
    exiting.release()
    yield
    exiting.release()


def test_a_process_that_ends_fast_keeps_the_callers_locals(fresh: None) -> None:
    exiting.expect_fast_exit()
    made = _makes()
    gc.collect()
    assert made() is not None  # outlived its function's return
    exiting.release()
    gc.collect()
    assert made() is None


def test_any_other_process_keeps_nothing(fresh: None) -> None:
    made = _makes()
    assert made() is None  # freed on return, as always
    exiting.keep(Big())
    assert exiting._kept is None


#: A ``publish`` script as pip writes it, whose exit handler writes down what the process
#: kept: each kept frame's function, with those of its locals that hold the build (not None).
SCRIPT = textwrap.dedent(
    """\
    import atexit, sys
    from pathlib import Path

    def kept():
        from publisher import exiting
        if exiting._kept is None:
            Path("kept").write_text("nothing")
            return
        frames = [k for k in exiting._kept if hasattr(k, "f_code")]
        Path("kept").write_text(" ".join(sorted(
            f.f_code.co_name + ":" + ",".join(sorted(
                name for name in ("result", "site", "snapshot") if f.f_locals.get(name) is not None
            ))
            for f in frames
        )))

    atexit.register(kept)
    from publisher.cli import main
    if __name__ == "__main__":
        sys.exit(main())
    """
)


def _kept(site: Path, script: str, *args: str) -> str:
    code, stderr, _ = _run(site, script, *(args or ("build",)), text=SCRIPT)
    assert code == 0, stderr
    return (site / "kept").read_text()


def _aged(root: Path) -> None:
    """Files a minute old: judged by their stat, not hashed as just written (a build
    records what the fast path needs only then)."""
    old = time.time() - 60
    for path in root.rglob("*"):
        os.utime(path, (old, old))


def test_the_publish_process_keeps_its_build_until_it_ends(site: Site) -> None:
    site.config(CONFIG)
    site.post("p0", "title: P\ndate: 2024-01-01", "Body.\n")
    _aged(site.root)
    # A cold build: the build's two frames, with the site read, the stat pass the build
    # took for its no-op check and its result.
    assert _kept(site.root, "publish") == "_build:site,snapshot run_build:result,snapshot"
    site.post("p1", "title: Q\ndate: 2024-01-02", "Another.\n")
    _aged(site.root)
    # An incremental build: the stat pass is the fast path's, handed over.
    assert _kept(site.root, "publish") == "_build:site,snapshot run_build:result,snapshot"


def test_another_process_keeps_nothing(site: Site) -> None:
    site.config(CONFIG)
    site.post("p0", "title: P\ndate: 2024-01-01", "Body.\n")
    assert _kept(site.root, "other") == "nothing"
    # A build the CLI runs through click (not one build of the plain kind, which the fast
    # path hands over): a command such as preview builds again and again in one process.
    assert _kept(site.root, "publish", "build", "--dry-run") == "nothing"
    done = cli_run.publish("build", cwd=site.root, terminal=True)  # called as a function
    assert done.returncode == 0, done.stderr
    assert exiting._kept is None
