"""The ``publish`` command: parses arguments, calls library functions, prints what they
return, and maps errors to exit codes (listed in publisher/report.py, which a library
caller uses too).

One small module per command group::

    entry.py    the ``publish`` group, ``publish`` with no command, and :func:`main`
    options.py  the options every command takes (also used by ``publish preview``)
    console.py  human lines on stderr, listings on stdout; the reading summary
    site.py     which config a command runs on (or the example site), and ``--now``
    build.py    ``build`` (the click command)
    building.py what ``build`` and the build stage of ``publish`` run, without click
    plain.py    a plain ``publish build`` the fast path did not answer, run without click
    announce.py ``announce``, and the announce stage of ``publish``
    check.py    ``check``
    cards.py    ``cards --post`` / ``cards --sheet``
    state.py    ``state list|forget|mark-sent``
    init.py     ``init``
    preview.py  ``preview`` (imported by name only when run: ``LAZY_COMMANDS``)

``automation`` lives in its own package and is imported by name only when run too. Everything else a command needs is imported inside it:
``publish --version`` and ``--help`` stay fast, and a build with announcements off loads
nothing of announce/, preview/ or automation/ (tests/test_lazy_imports.py).
"""

from __future__ import annotations

import importlib
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (the fast path)
if TYPE_CHECKING:
    from publisher.cli.entry import LAZY_COMMANDS, cli
    from publisher.report import (
        EXIT_ANNOUNCE_FAILED,
        EXIT_BUSY,
        EXIT_CONFIG,
        EXIT_INTERNAL,
        EXIT_NOTHING_TO_DO,
        EXIT_OK,
        EXIT_POSTS_SKIPPED,
    )

__all__ = [
    "EXIT_ANNOUNCE_FAILED",
    "EXIT_BUSY",
    "EXIT_CONFIG",
    "EXIT_INTERNAL",
    "EXIT_NOTHING_TO_DO",
    "EXIT_OK",
    "EXIT_POSTS_SKIPPED",
    "LAZY_COMMANDS",
    "cli",
    "main",
]


def __getattr__(name: str) -> object:
    """The group and the exit codes, imported on first use: a build with nothing changed
    never needs click (fastpath.py). (Not publisher.lazy: it imports typing.)"""
    if name in ("cli", "LAZY_COMMANDS"):
        home = "publisher.cli.entry"
    elif name.startswith("EXIT_") and name in __all__:
        home = "publisher.report"
    else:
        raise AttributeError(f"module 'publisher.cli' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


#: The cyclic garbage collector's thresholds while a command runs. A build makes millions
#: of objects that live until it ends (posts, rows, stat results), and the default
#: thresholds (700, 10, 10) have the collector walk them again and again, finding
#: nothing: at 10,000 posts 0.3 to 0.9 s of a cold build's main process (679 collections),
#: 35 to 50 ms of a one-post build (233); the pool's workers, forked, inherit the setting.
#: With these, 3 and 1 collections, and the same peak memory (tests/test_gc_thresholds.py).
GC_THRESHOLDS = (100_000, 20, 20)


def main() -> None:
    """Console entry point: a build with nothing to do is answered by the fast path, with
    only the standard library loaded; any other plain build runs without click
    (cli/plain.py); anything else goes to click (cli/entry.py)."""
    import gc

    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        _run()
    except KeyboardInterrupt:
        # Ctrl-C before a command's own handler runs (importing, the fast path's stat
        # pass): as after it, one line and 130, not a traceback.
        sys.stderr.write("\naborted\n")
        sys.exit(130)
    finally:
        gc.set_threshold(*before)  # a caller in the same process (a test) gets its own back


def _run() -> None:
    if "build" not in sys.argv[1:]:  # --version and --help need not load the fast path
        from publisher.cli.entry import main as cli_main

        cli_main()
        return
    from publisher import fastpath

    code = fastpath.run(sys.argv[1:], hand_over=True)
    if code is not None:
        _exit(code)
    try:
        if fastpath.plain is not None:
            from publisher import exiting
            from publisher.cli.plain import main as plain_main

            # One build, then os._exit (not a command that runs on, as preview does).
            if _own_process():
                exiting.expect_fast_exit()
            try:
                code = plain_main(fastpath.plain)
            finally:
                exiting.keep(fastpath.handed, fastpath.record, fastpath.stored)
        else:
            from publisher.cli.entry import main as cli_main

            cli_main()
    finally:
        fastpath.handed = fastpath.plain = fastpath.record = fastpath.stored = None
    _exit(code)


def _exit(code: int | None) -> None:
    """``sys.exit(code)``; in the ``publish`` process itself, once the build is done, the
    same without tearing the interpreter down: freeing every module and object one by one
    costs a one-post build 15 to 25 ms (8% of it at 1,000 posts) and does nothing a build
    needs (its files and caches are written, synced and closed by then). What exit does
    that matters still runs: the atexit handlers and a flush of stdout and stderr. Called
    as a function (a test, a script of the user's), or with a thread still running, the
    normal exit (tests/test_fast_exit.py)."""
    import os

    if not _own_process():
        sys.exit(code)
    # signal's C half: the module around it builds enums on import (0.7 ms, 2% of a no-op
    # at 1,000 posts), for names this line does not need.
    import _signal  # type: ignore[import-not-found]  # no stub: the C module

    # The build is done (its files written, its summary printed): a Ctrl-C now would only
    # interrupt the exit handlers with a traceback (one saving coverage data, say).
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    threading = sys.modules.get("threading")
    if threading is None or threading.active_count() == 1:
        import atexit

        try:
            sys.stdout.flush()
            sys.stderr.flush()
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            sys.exit(code)  # a stream gone or closed: Python's own exit says so
        os._exit(code or 0)
    sys.exit(code)


def _own_process() -> bool:
    """The interpreter runs the ``publish`` console script or ``python -m publisher``."""
    import os

    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    package = __name__.partition(".")[0]  # publisher
    if spec is not None and getattr(spec, "name", None) == f"{package}.__main__":
        return True
    script = getattr(main, "__file__", None)
    return isinstance(script, str) and os.path.basename(script) in ("publish", "publish.exe")
