"""Is the post's page live yet? Announcing a link that answers 404 wastes the announcement.

A deploy often finishes minutes after the build. :class:`PageCheck` asks each URL (the
page, and the card image when there is one) with a GET until it answers 200, for at most
``wait`` seconds in all; a URL that never does is ``not_live`` this run and tried again
on the next.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import requests

LiveCheck = Callable[[Sequence[str]], Mapping[str, bool]]


class PageCheck:
    def __init__(
        self,
        session_factory: Callable[[], requests.Session],
        *,
        wait: float = 0.0,
        interval: float = 10.0,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        stopped: Callable[[], bool] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.wait = wait
        self.interval = interval
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        #: True once the run is stopping (a signal): wait no longer for a deploy.
        self.stopped = stopped or (lambda: False)

    def _answers(self, session: requests.Session, url: str) -> bool:
        try:
            with session.get(
                url, timeout=self.timeout, stream=True, allow_redirects=True
            ) as response:
                return response.status_code == 200
        except requests.RequestException:
            return False

    def __call__(self, urls: Sequence[str]) -> dict[str, bool]:
        """URL -> whether it answered 200 before the wait ran out."""
        live = dict.fromkeys(urls, False)
        deadline = self.clock() + self.wait
        with self.session_factory() as session:
            while True:
                for url in [u for u, ok in live.items() if not ok]:
                    live[url] = self._answers(session, url)
                if all(live.values()) or self.clock() + self.interval > deadline or self.stopped():
                    return live
                self.sleep(self.interval)
