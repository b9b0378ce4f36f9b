"""Ctrl-C while a build forks its worker processes (the read's, the feeds', the cards')."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """A Ctrl-C (SIGINT) that comes while worker processes are forked acted on once they
    are: Python runs a signal's handler at the next bytecode of the main thread, and a
    fork runs bytecode of its own, the at-fork hooks (logging's lock release, in the
    parent); a ``KeyboardInterrupt`` raised there was printed as "Exception ignored" with
    a traceback, and lost: the build went on (tests/test_fork_signals.py). Meanwhile the
    signal is only noted, and raised again, to the handler there was, on leaving. Only
    where a handler of Python's is set (else a Ctrl-C runs no bytecode) and in the main
    thread (the only one that can set one). A worker forked meanwhile inherits the noting
    handler: its initializer sets its own (``posts.workers.die_with_parent`` ignores it)."""
    came: list[int] = []
    before = signal.getsignal(signal.SIGINT)
    noting = callable(before)
    if noting:
        try:
            signal.signal(signal.SIGINT, lambda signum, _: came.append(signum))
        except ValueError:  # not the main thread
            noting = False
    if not noting:
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
        if came:
            signal.raise_signal(signal.SIGINT)
