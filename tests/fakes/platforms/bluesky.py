"""Bluesky: the AT Protocol's XRPC (sessions, blobs, records)."""

from __future__ import annotations

import itertools
import re
from typing import Any

from publisher.announce.text import count

from ..server import FakePlatform, Fault, Request, Response

_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


class BlueskyFake(FakePlatform):
    name = "bluesky"

    def __init__(
        self, handle: str = "blog.example.org", password: str = "abcd-efgh-ijkl-mnop"
    ) -> None:
        super().__init__()
        self.handle, self.password = handle, password
        self.did = "did:plc:fake1234567890"
        self.logins = 0
        self.refreshes = 0
        self.tokens = itertools.count(1)
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.records: dict[str, dict[str, Any]] = {}
        #: Answer this many of the next ``getRecord`` calls 502 (a read that cannot tell).
        self.failing_reads = 0

    def is_write(self, request: Request) -> bool:
        return request.path == "/xrpc/com.atproto.repo.createRecord"

    def fault_response(self, fault: Fault) -> Response:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return Response(
            fault.code,
            {
                "error": "RateLimitExceeded" if fault.code == 429 else "InternalServerError",
                "message": "fault",
            },
            headers,
        )

    def expire_access_tokens(self) -> None:
        self.access.clear()

    def _new_session(self) -> dict[str, str]:
        n = next(self.tokens)
        access, refresh = f"access-jwt-{n:08d}-xxxxxxxx", f"refresh-jwt-{n:08d}-yyyyyyyy"
        self.access.add(access)
        self.refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "did": self.did, "handle": self.handle}

    def _bearer(self, request: Request) -> str:
        return request.headers.get("authorization", "").removeprefix("Bearer ")

    def _session_route(self, method: str, request: Request) -> Response:
        """Log in (createSession) or trade a refresh token for a new session."""
        if method == "com.atproto.server.createSession":
            body = request.json()
            if body.get("identifier") != self.handle or body.get("password") != self.password:
                return Response(
                    401,
                    {
                        "error": "AuthenticationRequired",
                        "message": "Invalid identifier or password",
                    },
                )
            self.logins += 1
            return Response(200, self._new_session())
        token = self._bearer(request)  # com.atproto.server.refreshSession
        if token not in self.refresh:
            return Response(400, {"error": "ExpiredToken", "message": "Token has been revoked"})
        self.refresh.discard(token)
        self.refreshes += 1
        return Response(200, self._new_session())

    def route(self, request: Request) -> Response:
        method = request.path.removeprefix("/xrpc/")
        if method in ("com.atproto.server.createSession", "com.atproto.server.refreshSession"):
            return self._session_route(method, request)
        if method == "com.atproto.repo.getRecord":
            with self.lock:
                failing, self.failing_reads = self.failing_reads > 0, max(0, self.failing_reads - 1)
            if failing:
                return Response(502, {"error": "InternalServerError", "message": "read fault"})
            rkey = request.query.get("rkey", [""])[0]
            if rkey in self.records:
                return Response(
                    200,
                    {
                        "uri": f"at://{self.did}/app.bsky.feed.post/{rkey}",
                        "cid": "bafyfake",
                        "value": self.records[rkey],
                    },
                )
            return Response(400, {"error": "RecordNotFound", "message": "Could not locate record"})
        if method == "com.atproto.repo.listRecords":
            return Response(200, self._list(request))
        if self._bearer(request) not in self.access:
            return Response(400, {"error": "ExpiredToken", "message": "Token has expired"})
        if method == "com.atproto.repo.uploadBlob":
            if not request.headers.get("content-type", "").startswith("image/"):
                self.problem("bluesky: blob without an image content type")
            if len(request.body) > 1_000_000:
                self.problem("bluesky: blob over 1,000,000 bytes")
                return Response(400, {"error": "BlobTooLarge", "message": "too large"})
            return Response(
                200,
                {
                    "blob": {
                        "$type": "blob",
                        "ref": {"$link": "bafkreifake"},
                        "mimeType": request.headers["content-type"],
                        "size": len(request.body),
                    }
                },
            )
        if method == "com.atproto.repo.createRecord":
            body = request.json()
            record, rkey = body.get("record", {}), body.get("rkey", "")
            problems = self._check_post(body, record, rkey)
            if problems:
                for p in problems:
                    self.problem(f"bluesky: {p}")
                return Response(400, {"error": "InvalidRequest", "message": "; ".join(problems)})
            with self.lock:
                if rkey in self.records:
                    return Response(
                        400, {"error": "InvalidRequest", "message": "Record already exists"}
                    )
                self.records[rkey] = record
                self.delivered.append(record)
            return Response(
                200,
                {"uri": f"at://{self.did}/app.bsky.feed.post/{rkey}", "cid": "bafyfake"},
                processed=True,
            )
        return Response(404, {"error": "MethodNotImplemented"})

    def _list(self, request: Request) -> dict[str, Any]:
        """Newest first (record keys descending); ``cursor`` is the last key of the page."""
        limit = min(int(request.query.get("limit", ["50"])[0]), 100)
        cursor = request.query.get("cursor", [None])[0]
        with self.lock:
            keys = sorted(self.records, reverse=True)
            if cursor is not None:
                keys = [k for k in keys if k < cursor]
            page = keys[:limit]
            records = [
                {
                    "uri": f"at://{self.did}/app.bsky.feed.post/{k}",
                    "cid": "bafyfake",
                    "value": self.records[k],
                }
                for k in page
            ]
        answer: dict[str, Any] = {"records": records}
        if len(page) == limit:
            answer["cursor"] = page[-1]
        return answer

    def _check_post(self, body: dict[str, Any], record: dict[str, Any], rkey: str) -> list[str]:
        problems = []
        if body.get("repo") != self.did or body.get("collection") != "app.bsky.feed.post":
            problems.append("wrong repo or collection")
        if not _TID.match(rkey):
            problems.append(f"rkey {rkey!r} is not a TID")
        if record.get("$type") != "app.bsky.feed.post" or not record.get("createdAt"):
            problems.append("record without $type or createdAt")
        text = record.get("text", "")
        if count(text, "graphemes") > 300 or len(text.encode()) > 3000:
            problems.append("text over 300 graphemes / 3000 bytes")
        data = text.encode("utf-8")
        for facet in record.get("facets", []):
            index = facet["index"]
            piece = data[index["byteStart"] : index["byteEnd"]].decode("utf-8", errors="replace")
            for feature in facet["features"]:
                if feature["$type"] == "app.bsky.richtext.facet#link" and piece != feature["uri"]:
                    problems.append(f"facet bytes {piece!r} are not the link {feature['uri']!r}")
        embed = record.get("embed")
        if embed is not None:
            external = embed.get("external", {})
            if embed.get("$type") != "app.bsky.embed.external" or not all(
                k in external for k in ("uri", "title", "description")
            ):
                problems.append("embed is not a complete app.bsky.embed.external")
            elif (
                count(external["title"], "graphemes") > 300
                or len(external["title"].encode()) > 3000
            ):
                problems.append("card title over 300 graphemes / 3000 bytes")
            elif (
                count(external["description"], "graphemes") > 1000
                or len(external["description"].encode()) > 3000
            ):
                problems.append("card description over 1000 graphemes / 3000 bytes")
        return problems
