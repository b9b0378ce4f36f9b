"""WebSub (https://www.w3.org/TR/websub/): tell the hub which feeds changed, once they are live.

A hub fetches the feed as soon as it is pinged, so a ping sent by the build (before the
deploy) makes it fetch the old feed. The build therefore only records which feeds
changed (:func:`record_pending`, ``websub.json`` in the state folder); the announce stage
(:func:`send_pending`, after the page-live check) asks each feed URL until it serves the
bytes just built, pings the hub, and forgets a feed only when the hub accepts (2xx).
Anything not accepted stays pending and is tried again on the next run.

The HTTP session is passed in, so tests use a fake hub and a dry run none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from publisher.errors import AnnounceError
from publisher.output import write_state_file

#: In the state folder: feed URL -> its output path, for feeds the hub was not told of yet.
PENDING_FILE = "websub.json"
#: Runs a feed may serve other bytes than were built before it is pinged anyway (a CDN
#: that rewrites feeds would otherwise hold the ping back for ever).
MAX_WAITS = 3


class _Response(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...


class Session(Protocol):
    def post(self, url: str, *, data: Any, timeout: float) -> _Response: ...


class _Fetched(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...


class FetchSession(Session, Protocol):
    def get(self, url: str, *, timeout: float) -> _Fetched: ...

    def __enter__(self) -> FetchSession: ...

    def __exit__(self, *exc: object) -> None: ...


def ping_hub(session: Session, hub: str, topics: Sequence[str], *, timeout: float = 10.0) -> None:
    """POST ``hub.mode=publish`` for ``topics`` (feed URLs); raise AnnounceError on refusal."""
    if not topics:
        return
    data = [("hub.mode", "publish"), *(("hub.url", topic) for topic in sorted(set(topics)))]
    try:
        response = session.post(hub, data=data, timeout=timeout)
    except OSError as exc:
        raise AnnounceError("websub", None, f"cannot reach the hub {hub} ({exc})") from None
    if not 200 <= response.status_code < 300:
        # The hub's own words on one line (an error page is often multi-line HTML).
        said = " ".join(response.text.split())[:200]
        raise AnnounceError(
            "websub",
            response.status_code,
            f"the hub {hub} refused the ping" + (f": {said}" if said else ""),
        )


# -- pending pings ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Pending:
    """A feed whose change the hub has not accepted yet."""

    path: str
    waits: int = 0


def load_pending(state: Path) -> dict[str, Pending]:
    """Feed URL -> :class:`Pending`; empty when there is no file or it is not readable."""
    try:
        data = json.loads((state / PENDING_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, dict):
        return {}
    return {
        str(url): Pending(path=str(entry.get("path", "")), waits=int(entry.get("waits", 0)))
        for url, entry in topics.items()
        if isinstance(entry, dict)
    }


def _save(state: Path, pending: Mapping[str, Pending]) -> None:
    if not pending and not (state / PENDING_FILE).exists():
        return
    topics = {url: {"path": p.path, "waits": p.waits} for url, p in sorted(pending.items())}
    write_state_file(
        state / PENDING_FILE, json.dumps({"topics": topics}, indent=1, sort_keys=True) + "\n"
    )


def record_pending(state: Path, changed: Mapping[str, str]) -> None:
    """The build: remember feeds whose bytes changed (URL -> output path) until pinged."""
    if not changed:
        return
    pending = load_pending(state)
    for url, path in changed.items():
        pending[url] = Pending(path=path)  # a new version: its wait starts again
    _save(state, pending)


@dataclass(frozen=True, kw_only=True)
class PingReport:
    """What :func:`send_pending` did (or, in a dry run, would do)."""

    hub: str
    pinged: tuple[str, ...] = ()
    #: Feeds not served as built yet: pinged on a later run.
    not_live: tuple[str, ...] = ()
    #: The hub's refusal or the network error; the feeds stay pending.
    error: str | None = None

    def lines(self, *, dry_run: bool) -> list[str]:
        out: list[str] = []
        if self.pinged:
            verb = "would ping" if dry_run else ("could not ping" if self.error else "pinged")
            out.append(f"websub: {verb} {self.hub} for {', '.join(self.pinged)}")
        if self.error:
            # The error already starts with "websub: " (the AnnounceError's target).
            out.append(f"{self.error}; the feeds stay pending and are tried again next run")
        for url in self.not_live:
            out.append(f"websub: {url} is not live as built yet; the hub is pinged on a later run")
        return out


@dataclass(frozen=True, kw_only=True)
class LiveCheck:
    """How :func:`send_pending` asks whether a feed is live: every ``interval`` seconds
    for up to ``wait``, each request given ``timeout``; ``sleep`` and ``clock`` are the
    time's (tests pass their own)."""

    wait: float = 0.0
    interval: float = 10.0
    timeout: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def send_pending(
    state: Path,
    hub: str,
    output: Path,
    *,
    session_factory: Callable[[], FetchSession],
    dry_run: bool = False,
    check: LiveCheck | None = None,
) -> PingReport | None:
    """The announce stage: ping ``hub`` for pending feeds that are live as built.

    A feed is live when its URL answers 200 with the bytes in ``output`` (asked again
    as ``check`` says). None when nothing is pending. A dry run asks nothing and
    changes nothing: it lists every pending feed.
    """
    check = check if check is not None else LiveCheck()
    pending = load_pending(state)
    if not pending:
        return None
    if dry_run:
        return PingReport(hub=hub, pinged=tuple(sorted(pending)))
    with session_factory() as session:
        ready = _live_as_built(session, pending, output, check)
        topics = sorted(url for url, ok in ready.items() if ok)
        error = None
        try:
            ping_hub(session, hub, topics, timeout=check.timeout)
        except AnnounceError as exc:
            error = str(exc)
    # Read again: a build in another process may have added feeds meanwhile.
    latest = load_pending(state)
    for url in topics:
        if error is None and latest.get(url) == pending[url]:
            del latest[url]
    for url, ok in ready.items():
        if not ok and url in latest and latest[url] == pending[url]:
            latest[url] = Pending(path=pending[url].path, waits=pending[url].waits + 1)
    _save(state, latest)
    return PingReport(
        hub=hub,
        pinged=tuple(topics),
        not_live=tuple(sorted(url for url, ok in ready.items() if not ok)),
        error=error,
    )


def _live_as_built(
    session: FetchSession,
    pending: Mapping[str, Pending],
    output: Path,
    check: LiveCheck,
) -> dict[str, bool]:
    """URL -> whether it serves what the build wrote (or has waited MAX_WAITS runs)."""
    ready = {url: p.waits >= MAX_WAITS for url, p in pending.items()}
    deadline = check.clock() + check.wait
    while True:
        for url in [u for u, ok in ready.items() if not ok]:
            ready[url] = _serves(session, url, output / pending[url].path, check.timeout)
        if all(ready.values()) or check.clock() + check.interval > deadline:
            return ready
        check.sleep(check.interval)


def _serves(session: FetchSession, url: str, built: Path, timeout: float) -> bool:
    try:
        response = session.get(url, timeout=timeout)
    except OSError:
        return False
    if response.status_code != 200:
        return False
    try:
        return response.content == built.read_bytes()
    except OSError:
        return True  # the file is gone from the output (withdrawn): 200 is all we can ask


def changed_feeds(paths: Iterable[str], url: Callable[[str], str]) -> dict[str, str]:
    """URL -> output path for the feed files among ``paths``."""
    return {url(path): path for path in paths if path.endswith((".xml", ".json"))}
