"""The ``publish`` process ends a build without tearing the interpreter down (cli/__init__.py
``_exit``): the atexit handlers run and the streams are flushed, the modules and objects are
not freed one by one. Only in the ``publish`` process itself: called as a function, or by
a script of another name, the exit is Python's own.

Each run is a fresh interpreter running a console script as pip writes it, with two
witnesses: an atexit handler (must run) and an object freed only when the interpreter is
torn down (its ``__del__`` runs only on the normal exit).
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import cli_run

from conftest import Site

SCRIPT = textwrap.dedent(
    """\
    import atexit, sys
    from pathlib import Path

    class Witness:
        def __del__(self):
            Path("torn-down").write_text("yes")

    witness = Witness()
    atexit.register(lambda: Path("atexit-ran").write_text("yes"))
    from publisher.cli import main
    if __name__ == "__main__":
        sys.argv[0] = sys.argv[0].removesuffix(".exe")
        sys.exit(main())
    """
)
CONFIG = """\
site: {title: T, url: 'https://blog.example.org', timezone: UTC}
posts: {folder: posts}
output: {folder: public}
state: {folder: state}
cards: {enabled: false}
"""


def _run(site: Path, script: str, *args: str, text: str = SCRIPT) -> tuple[int, str, set[str]]:
    """``script ARGS`` in ``site``, a console script named ``script`` whose source is
    ``text``: its exit code, its stderr (times masked) and the witnesses it left."""
    path = site.parent / f"bin-{script}" / script
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    for witness in ("torn-down", "atexit-ran"):
        (site / witness).unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, str(path), *args],
        cwd=site,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    witnesses = {w for w in ("torn-down", "atexit-ran") if (site / w).exists()}
    return done.returncode, re.sub(r"\d+\.\d\d s", "X s", done.stderr), witnesses


def test_a_build_ends_without_tearing_the_interpreter_down(site: Site) -> None:
    site.config(CONFIG)
    site.post("p0", "title: P\ndate: 2024-01-01", "Body.\n")
    twin = site.root.parent / "twin"
    shutil.copytree(site.root, twin)
    code, stderr, witnesses = _run(site.root, "publish", "build")
    assert code == 0 and "wrote public/rss.xml" in stderr, stderr
    assert witnesses == {"atexit-ran"}  # atexit ran; the interpreter was not torn down
    # The same build by a script of another name: Python's own exit, the same lines.
    other_code, other_stderr, other_witnesses = _run(twin, "other", "build")
    assert (other_code, other_stderr) == (code, stderr.replace(str(site.root), str(twin)))
    assert other_witnesses == {"atexit-ran", "torn-down"}
    # Nothing changed: the fast path's answer ends the same way, with its exit code.
    code, stderr, witnesses = _run(site.root, "publish", "build", "--detailed-exit-codes")
    assert code == 5 and "nothing changed" in stderr
    assert witnesses == {"atexit-ran"}


def test_another_command_and_a_failed_build_exit_as_python_does(site: Site) -> None:
    code, stderr, witnesses = _run(site.root, "publish", "--version")
    assert code == 0 and witnesses == {"atexit-ran", "torn-down"}
    site.config(CONFIG.replace("posts: {folder: posts}", "posts: {folder: nowhere}"))
    code, stderr, witnesses = _run(site.root, "publish", "build")
    assert code == 2 and "is not a folder" in stderr
    assert witnesses == {"atexit-ran"}  # a build's exit code, config errors included


def test_called_as_a_function_main_exits_as_python_does(site: Site) -> None:
    site.config(CONFIG)
    site.post("p0", "title: P\ndate: 2024-01-01", "Body.\n")
    before = gc.get_threshold()
    done = cli_run.publish("build", cwd=site.root, terminal=True)
    assert done.returncode == 0, done.stderr  # SystemExit, caught: this process lives on
    assert gc.get_threshold() == before


def test_ctrl_c_once_the_build_is_done_does_not_interrupt_its_exit_handlers(site: Site) -> None:
    # A Ctrl-C that lands after the build has written everything and printed its summary,
    # while the atexit handlers run (coverage saving its data, in CI), printed an
    # "Exception ignored in atexit callback" traceback (tests/test_redteam_speed8.py, now
    # and then). The handler below sends it at exactly that moment.
    site.config(CONFIG)
    site.post("p0", "title: P\ndate: 2024-01-01", "Body.\n")
    path = site.root.parent / "bin-late" / "publish"
    path.parent.mkdir()
    path.write_text(
        textwrap.dedent(
            """\
            import atexit, os, signal, sys, time
            from pathlib import Path

            def late():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)
                Path("atexit-ran").write_text("yes")

            atexit.register(late)
            from publisher.cli import main
            if __name__ == "__main__":
                sys.exit(main())
            """
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(path), "build"],
        cwd=site.root,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr
    assert "wrote public/rss.xml" in done.stderr
    assert (site.root / "atexit-ran").exists()
