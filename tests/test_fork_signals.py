"""A Ctrl-C that lands while a build forks its workers (the read's pool, the cards'
pool): Python runs the handler at the next bytecode of the main thread, and a fork runs
bytecode of its own in the parent, the at-fork hooks (logging's lock release). A
``KeyboardInterrupt`` raised in one was printed as "Exception ignored in: <function
_releaseLock>" with a traceback and lost: the build went on and ended 0 (CI, under load,
session 9). ``publisher.interrupts.ctrl_c_deferred`` notes it and raises it once the fork is done.

Made deterministic here: an at-fork hook of the test's own sends the SIGINT from inside
the fork of the pool named, so its handler runs where logging's would.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest
from build_process import bench_naive, publish_build

from publisher.interrupts import ctrl_c_deferred

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork and signals")

#: ``publish build ARGS`` with a SIGINT sent from the first fork made by ``WHERE``.
SCRIPT = r"""
import logging, os, signal, sys

fired = []


def hook():
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.replace(os.sep, "/").endswith({where!r}) and not fired:
            fired.append(1)
            print("SIGINT from the fork", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGINT)
            return
        frame = frame.f_back


os.register_at_fork(after_in_parent=hook)
sys.argv = ["publish", "build", *{args!r}]
from publisher.cli import main

main()
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bench site of 240 posts (a pool reads from 200), cards on: a cold build forks a read pool and a card pool."""
    root = tmp_path_factory.mktemp("forks") / "site"
    root.mkdir()
    bench_naive.write_site(root, 240)
    config = (root / "config.yaml").read_text(encoding="utf-8")
    (root / "config.yaml").write_text(
        config.replace("cards: {enabled: false}", "cards: {enabled: true}"), encoding="utf-8"
    )
    return root


@pytest.mark.parametrize(
    ("where", "args"),
    [("posts/forked.py", ("--jobs", "2")), ("cards/build.py", ("--jobs", "2"))],
    ids=["read-pool", "card-pool"],
)
def test_a_ctrl_c_during_a_fork_aborts_the_build_without_a_traceback(
    site: Path, tmp_path: Path, where: str, args: tuple[str, ...]
) -> None:
    import shutil

    root = tmp_path / "site"
    shutil.copytree(site, root)
    ran = publish_build(root, script=SCRIPT.format(where=where, args=args))
    assert "SIGINT from the fork" in ran.stderr, ran.stderr  # the signal came where meant
    assert "Exception ignored" not in ran.stderr and "Traceback" not in ran.stderr, ran.stderr
    assert ran.returncode == 130 and ran.stderr.strip().splitlines()[-1] == "aborted", ran.stderr


def test_a_ctrl_c_in_the_deferred_part_is_raised_on_leaving_it() -> None:
    reached = []
    with pytest.raises(KeyboardInterrupt), ctrl_c_deferred():
        signal.raise_signal(signal.SIGINT)
        reached.append("after the signal")  # not interrupted here
    assert reached == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_ctrl_c_leaves_the_handler_as_it_was() -> None:
    with ctrl_c_deferred():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with ctrl_c_deferred():  # an ignored Ctrl-C stays ignored
            signal.raise_signal(signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
