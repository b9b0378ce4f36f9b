"""``publish ARGS`` run in this process, answered like ``subprocess.run`` answers.

Through the console entry point (``publisher.cli.main``: exit codes, error lines and all),
in a folder of the test's choosing and with an environment of its own: the variables of a
CI runner or of a developer's shell (``CI``, ``GITHUB_ACTIONS``, ``PUBLISHER_CONFIG``)
do not reach the run unless the test passes them. A run costs no interpreter start and no
imports after the first, so a CLI test takes the time of its work.

What one run could leave behind for the next is put back when it ends: the working folder,
the environment, ``sys.argv``, the SIGINT/SIGTERM handlers, the root logger's handlers and
the process-wide secret registry (a target's token registered by one run would be masked
in the next one's output). Each run starts with publisher's ``functools`` caches empty, as
a new process does: a template cached by its path would hide the file's new content.
tests/test_cli.py checks each.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from publisher.cli import main

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _secrets_kept() -> Iterator[None]:
    """The redaction registry as it was (it lives as long as the process does)."""
    module = sys.modules.get("publisher.announce.redact")
    before = set(module._secrets) if module is not None else set()
    try:
        yield
    finally:
        module = sys.modules.get("publisher.announce.redact")
        if module is not None:
            module._secrets.clear()
            module._secrets.update(before)


def _clear_caches() -> None:
    """Empty every ``functools.lru_cache``/``cache`` defined in a loaded publisher module."""
    for name, module in list(sys.modules.items()):
        if name != "publisher" and not name.startswith("publisher."):
            continue
        for value in list(vars(module).values()):
            cached = hasattr(value, "cache_clear") and not isinstance(value, type)
            if cached and getattr(value, "__module__", None) == name:
                value.cache_clear()


@contextlib.contextmanager
def _process_kept(cwd: Path, env: Mapping[str, str]) -> Iterator[None]:
    """Folder, environment, argv, signal handlers and log handlers as they were."""
    folder = Path.cwd()
    environ = dict(os.environ)
    argv = sys.argv[:]
    handlers = {signum: signal.getsignal(signum) for signum in SIGNALS}
    loggers = logging.root.handlers[:]
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    _clear_caches()
    try:
        yield
    finally:
        os.chdir(folder)
        os.environ.clear()
        os.environ.update(environ)
        sys.argv[:] = argv
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        logging.root.handlers[:] = loggers


def publish(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, terminal: bool = False
) -> subprocess.CompletedProcess[str]:
    """``publish ARGS`` in ``cwd`` with only ``env`` (default: PATH alone) set.

    A bug (an exception the entry point lets through) ends the run as the interpreter
    would end it: exit 1 and the traceback on stderr. With ``terminal``, stderr is a UTF-8
    stream as a terminal's is: a StringIO has no encoding, and the no-op fast path leaves
    such a stream to click, so without it the fast path never runs.
    """
    return run_entry(main, args, cwd=cwd, env=env, terminal=terminal)


def run_entry(
    call: Callable[[], object],
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    terminal: bool = True,
) -> subprocess.CompletedProcess[str]:
    """``call()`` (an entry point: the CLI's, click's, the fast path's) run as ``publish
    ARGS`` would be, as :func:`publish` runs the console script's; its return value or
    SystemExit is the exit code."""
    out, plain, raw = io.StringIO(), io.StringIO(), io.BytesIO()
    err = io.TextIOWrapper(raw, encoding="utf-8", write_through=True) if terminal else plain
    clean = {"PATH": os.environ.get("PATH", "")} if env is None else dict(env)
    with (
        _secrets_kept(),
        _process_kept(cwd, clean),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        sys.argv[:] = ["publish", *args]
        try:
            returned = call()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:
            traceback.print_exc()
            code = 1
        else:
            code = returned if isinstance(returned, int) else 0
    stderr = raw.getvalue().decode() if terminal else plain.getvalue()
    return subprocess.CompletedProcess(
        ["publish", *args], code, stdout=out.getvalue(), stderr=stderr
    )
