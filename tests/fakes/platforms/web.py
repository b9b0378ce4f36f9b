"""A webhook receiver (Standard Webhooks signatures) and the site whose pages are checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from ..server import FakePlatform, Request, Response


class WebhookReceiver(FakePlatform):
    """A receiver that verifies Standard Webhooks signatures and drops repeated webhook-ids."""

    name = "webhook"

    def __init__(
        self, secret: str = "whsec_" + base64.b64encode(b"sixteen byte key" * 2).decode()
    ) -> None:
        super().__init__()
        self.secret = secret
        self.seen: set[str] = set()
        self.duplicates = 0

    @property
    def url(self) -> str:
        return self.base + "/hooks/receiver-0123456789"

    def route(self, request: Request) -> Response:
        msg_id = request.headers.get("webhook-id")
        stamp = request.headers.get("webhook-timestamp")
        signature = request.headers.get("webhook-signature", "")
        if not msg_id or not stamp or not signature:
            self.problem("webhook: missing webhook-id/timestamp/signature")
            return Response(400, "missing headers")
        if abs(time.time() - int(stamp)) > 300:
            return Response(400, "timestamp too old")
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        expected = base64.b64encode(
            hmac.new(key, f"{msg_id}.{stamp}.".encode() + request.body, hashlib.sha256).digest()
        ).decode()
        if not any(
            hmac.compare_digest(s.split(",", 1)[-1], expected)
            for s in signature.split(" ")
            if s.startswith("v1,")
        ):
            self.problem("webhook: bad signature")
            return Response(401, "bad signature")
        with self.lock:
            if msg_id in self.seen:
                self.duplicates += 1
                return Response(200, "duplicate")
            self.seen.add(msg_id)
            self.delivered.append(request.json())
        return Response(204, None, processed=True)


class SiteFake(FakePlatform):
    """The deployed blog: pages answer 200 once live, 404 before."""

    name = "site"

    def __init__(self) -> None:
        super().__init__()
        self.live: set[str] = set()

    def route(self, request: Request) -> Response:
        return (
            Response(200, "<html>ok</html>")
            if request.path in self.live
            else Response(404, "not found")
        )
