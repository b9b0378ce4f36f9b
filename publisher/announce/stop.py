"""Stopping a run early without losing or doubling anything: signals and deadlines.

On SIGINT/SIGTERM, or when the run's (or a target's) ``deadline`` passes, the request in
flight is finished and its row written, nothing more is sent, and each post not tried is
reported (``interrupted``, ``deadline``) with its ledger row left as it was.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from publisher.announce.report import Result

#: The signals that stop a run gracefully (exit 130 / 143 from the CLI).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop:
    """Why a run stops sending early: a signal, or a deadline (the run's or a target's).

    Every target's thread asks :meth:`why` before each post and before each retry; waits
    (backoff, rate limits) end early when a signal comes or the deadline passes.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        started: float,
        deadline: float | None,
        sleep: Callable[[float], None] | None,
    ) -> None:
        self.clock = clock
        self.started = started
        self.deadline = deadline
        self.signal: int | None = None
        self._event = threading.Event()
        self._sleep = sleep

    def interrupt(self, signum: int) -> None:
        self.signal = signum
        self._event.set()

    def ends_at(self, target_deadline: float | None) -> float | None:
        limits = [d for d in (self.deadline, target_deadline) if d is not None]
        return self.started + min(limits) if limits else None

    def why(self, target_deadline: float | None = None) -> tuple[Result, str] | None:
        if self.signal is not None:
            name = signal.Signals(self.signal).name
            return "interrupted", f"stopped by {name}: not sent; it goes out on the next run"
        end = self.ends_at(target_deadline)
        if end is not None and self.clock() >= end:
            return "deadline", "the run's deadline passed: not sent; it goes out on the next run"
        return None

    def nap(self, seconds: float, target_deadline: float | None = None) -> None:
        """Sleep, but no later than the deadline and not past a signal."""
        end = self.ends_at(target_deadline)
        if end is not None:
            seconds = min(seconds, max(0.0, end - self.clock()))
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            self._event.wait(seconds)


@contextmanager
def stop_on_signals(stop: Stop) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (the request in flight finishes, nothing more is sent);
    a second one gets the previous handler (Ctrl-C twice: the usual KeyboardInterrupt).
    Only the main thread may set handlers; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

    def handle(signum: int, frame: object) -> None:
        stop.interrupt(signum)
        for number, handler in previous.items():
            signal.signal(number, handler)

    for signum in STOP_SIGNALS:
        signal.signal(signum, handle)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
