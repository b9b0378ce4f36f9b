"""WebSub (https://www.w3.org/TR/websub/): tell the hub which feeds changed.

Called after a real (not dry) build with the public URLs of the feeds whose bytes
changed. The HTTP session is passed in, so tests use a fake one and a dry run none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from publisher.errors import AnnounceError


class _Response(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...


class Session(Protocol):
    def post(self, url: str, *, data: Any, timeout: float) -> _Response: ...


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
        raise AnnounceError(
            "websub", response.status_code, f"the hub {hub} refused the ping: {response.text[:200]}"
        )
