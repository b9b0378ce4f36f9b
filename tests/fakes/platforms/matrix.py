"""Matrix: the client-server API's room messages, with transaction ids."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any
from urllib.parse import unquote

from ..server import FakePlatform, Fault, Request, Response


class MatrixFake(FakePlatform):
    """A homeserver room: ``PUT .../send/m.room.message/{txnId}`` remembered per token for
    ``txn_ttl`` seconds (Synapse: 30 to 60 minutes), events readable backwards through
    ``GET .../messages?dir=b`` with ``unsigned.transaction_id`` shown to the sender."""

    name = "matrix"

    def __init__(self, token: str = "syt_matrix_token_0123456789", txn_ttl: float = 1800.0) -> None:
        super().__init__()
        self.token = token
        self.txn_ttl = txn_ttl
        self.events: dict[str, tuple[float, str]] = {}
        self.timeline: list[dict[str, Any]] = []
        self.ids = itertools.count(1)

    def is_write(self, request: Request) -> bool:
        return request.method == "PUT"

    def fault_response(self, fault: Fault) -> Response:
        if fault.code == 429:
            return Response(
                429,
                {
                    "errcode": "M_LIMIT_EXCEEDED",
                    "error": "Too many requests",
                    "retry_after_ms": int((fault.retry_after or 1) * 1000),
                },
            )
        return Response(fault.code, {"errcode": "M_UNKNOWN", "error": "Internal error"})

    def route(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token"})
        messages = re.fullmatch(r"/_matrix/client/v3/rooms/([^/]+)/messages", request.path)
        if request.method == "GET" and messages is not None:
            return Response(200, self._messages(request))
        match = re.fullmatch(
            r"/_matrix/client/v3/rooms/([^/]+)/send/m\.room\.message/([^/]+)", request.path
        )
        if request.method != "PUT" or match is None:
            return Response(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
        body = request.json()
        if not body.get("msgtype") or not isinstance(body.get("body"), str):
            return Response(400, {"errcode": "M_BAD_JSON", "error": "msgtype and body required"})
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        if len(content.encode()) > 60_000:
            self.problem("matrix: event content over 60000 bytes")
            return Response(413, {"errcode": "M_TOO_LARGE", "error": "event too large"})
        txn = unquote(match.group(2))
        with self.lock:
            seen = self.events.get(txn)
            if seen is not None and self.now() - seen[0] < self.txn_ttl:
                return Response(200, {"event_id": seen[1]})
            event_id = f"$event{next(self.ids)}"
            self.events[txn] = (self.now(), event_id)
            self.timeline.append(
                {
                    "type": "m.room.message",
                    "event_id": event_id,
                    "sender": "@blog:example.org",
                    "origin_server_ts": int(self.now() * 1000),
                    "content": body,
                    "unsigned": {"transaction_id": txn},
                }
            )
            self.delivered.append({"room": unquote(match.group(1)), **body})
        return Response(200, {"event_id": event_id}, processed=True)

    def _messages(self, request: Request) -> dict[str, Any]:
        """Backwards from ``from`` (an index into the timeline), ``limit`` events a page."""
        limit = int(request.query.get("limit", ["10"])[0])
        with self.lock:
            events = list(self.timeline)
        start = int(request.query.get("from", [str(len(events))])[0])
        chunk = list(reversed(events[max(0, start - limit) : start]))
        answer: dict[str, Any] = {"chunk": chunk, "start": str(start)}
        if start - limit > 0:
            answer["end"] = str(start - limit)
        return answer
