"""How hard one target is tried in one run: retry policy, circuit breaker, pacing, keys."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

#: Timeouts or ambiguous failures of one target in one run before it is paused.
BREAKER_LIMIT = 2


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How hard to try one announcement in one run."""

    attempts: int = 4
    base: float = 1.0
    cap: float = 30.0
    #: Longest total wait for one announcement; a longer Retry-After ends the target's run.
    #: None: the target's ``retry_time`` option.
    budget: float | None = None

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: somewhere in the upper half of base * 2^(n-1)."""
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return float(ceiling * random.uniform(0.5, 1.0))


class Breaker:
    """One target's circuit breaker for one run.

    A platform that hangs costs a full timeout per request and leaves each message in
    doubt; after ``limit`` timeouts (or other answers that leave doubt, or connections that
    fail) the target gets nothing more this run, and its untried posts stay pending.
    """

    def __init__(self, limit: int = BREAKER_LIMIT) -> None:
        self.limit = limit
        self.trips: list[str] = []
        self.silent = 0

    def record(self, why: str, *, answered: bool) -> None:
        """One failure that left doubt or cost a timeout; ``answered``: the platform did
        answer (a 5xx), quickly, as opposed to a timeout, a drop or no connection."""
        self.trips.append(why)
        self.silent += not answered

    @property
    def open(self) -> bool:
        return len(self.trips) >= self.limit

    @property
    def hopeless(self) -> bool:
        """Open on silences alone: not even the announcement in hand is retried, as each
        try would cost another full timeout. (After quick 5xx answers, the retries of the
        announcement in hand go on, with its key; the target pauses after it.)"""
        return self.silent >= self.limit

    def reason(self, target: str) -> str:
        return (
            f"paused {target} for the rest of this run after {len(self.trips)} requests with "
            f"no clear answer (last: {self.trips[-1] if self.trips else '?'}); "
            "its untried posts go out on the next run"
        )


class Pacer:
    """A target's own clock: waits out an empty rate-limit bucket before the next request."""

    def __init__(self, sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
        self.sleep = sleep
        self.clock = clock
        self.not_before = 0.0

    def hold(self, seconds: float | None) -> None:
        if seconds:
            self.not_before = max(self.not_before, self.clock() + seconds)

    def wait(self) -> None:
        delay = self.not_before - self.clock()
        if delay > 0:
            self.sleep(delay)


def new_key(target: str, post_id: str, now: datetime) -> str:
    """An idempotency key, made at the first attempt and kept in the ledger from then on."""
    seed = f"{target}\n{post_id}\n{now.isoformat()}\n{random.random()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]
