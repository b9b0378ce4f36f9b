"""``publish build`` with plain options, run without click when the fast path did not answer.

The fast path (fastpath.py) answers a plain build (``-q``, ``-v``, ``--config``, ``--jobs``,
``--detailed-exit-codes``, parsed as click parses them) when nothing changed. Any other
plain build runs here, with a UTF-8 stderr (the fast path declines any other stream): the
options the fast path parsed, :func:`~publisher.cli.building.run_build` as the click
command calls it (with the fast path's stat pass and record when the config is the one
the last build loaded), and the error lines and exit codes of cli/entry.py's
:func:`~publisher.cli.entry.main`, written as click.echo writes them. Click and its command
modules, 10 to 35 ms of CPU, are not imported; tests/test_plain_build.py holds the two
entries to the same lines, exit codes and files.
"""

from __future__ import annotations

import errno
import gc
import sys

from publisher.cli.building import run_build
from publisher.cli.console import Console
from publisher.cli.options import Options
from publisher.errors import ConfigError, PublisherError, printable
from publisher.report import EXIT_CONFIG

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any


def options_of(parsed: dict[str, Any]) -> Options:
    """The :class:`Options` click would make of a command line fastpath.parse accepted."""
    jobs = parsed.get("jobs")
    return Options(
        config=parsed.get("config"),
        verbose=int(parsed.get("verbose", 0)),
        quiet=bool(parsed.get("quiet", False)),
        jobs=None if jobs is None else int(jobs),
        detailed_exit_codes=bool(parsed.get("detailed", False)),
    )


def echo(text: str, err: bool = False) -> None:
    """click.echo's bytes on a UTF-8 text stream: the line, a newline, a flush (the lines
    here are :func:`printable`, so click would strip no ANSI code from them)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(f"{text}\n")
    stream.flush()


def main(parsed: dict[str, Any]) -> int:
    """The exit code of ``publish build`` with the options ``parsed``; user mistakes become
    messages and exit codes, as in cli/entry.py."""
    options = options_of(parsed)
    # What is alive now (the modules imported so far, the fast path's stat pass: 40,000
    # objects at 10,000 posts) lives until the build ends: frozen, the collector neither
    # walks it again nor counts it towards its next pass. A one-post build at 10,000
    # posts then makes no collection, not one of 15 ms (issue 12). Thawed when the build
    # returns, for a caller in the same process.
    gc.freeze()
    try:
        return run_build(options, "build", console=Console(options, echo=echo))
    except (EOFError, KeyboardInterrupt):
        echo("", err=True)  # click's main ends the line, then raises Abort
        echo("aborted", err=True)
        return 130
    except ConfigError as exc:
        for line in exc.problems:
            echo(f"config error: {line}", err=True)
        echo(f"{len(exc.problems)} problem(s) in the config; nothing was done", err=True)
        return EXIT_CONFIG
    except PublisherError as exc:
        echo(f"error: {printable(str(exc))}", err=True)
        return EXIT_CONFIG
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        # click's main: a reader gone (`publish build | head`) is exit 1, and the streams'
        # last flush at exit says nothing of it.
        sys.stdout = _Pacified(sys.stdout)
        sys.stderr = _Pacified(sys.stderr)
        return 1
    finally:
        gc.unfreeze()


class _Pacified:
    """A stream whose flush ignores a reader that went away (click's wrapper does so)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)
