"""LinkedIn: the versioned REST API's posts, with its little-text escaping."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from publisher.config import TargetConfig

from ..posts import target
from ..server import FakePlatform, Fault, Request, Response
from .common import cp, over, utf16_units

# -- LinkedIn ---------------------------------------------------------------------------

LINKEDIN_TOKEN = "AQVx9kLm2Pq7Rs4Tu1Vw8Xy5Za3Bc6De0Fg-LinkedIn"
LINKEDIN_AUTHOR = "urn:li:organization:5515715"
_URL = re.compile(r"https?://[^\s]+")
_LITTLE_RESERVED = re.compile(r"(?<!\\)[|{}@\[\]()<>*_~]")


def check_linkedin(p: dict[str, Any]) -> list[str]:
    """commentary: 3,000 characters (UTF-16, as Java counts); little text escaped."""
    commentary = p["commentary"]
    problems = over("commentary", commentary, utf16_units, 3000)
    article = p["content"]["article"]
    problems += over("article title", article["title"], cp, 400)
    bare = _URL.sub("", commentary)
    bare = re.sub(r"(?<![\\\w])#\w+", "", bare)  # hashtags are meant to be live
    if _LITTLE_RESERVED.search(bare) or re.search(r"(?<!\\)#", bare):
        problems.append("commentary: an unescaped little-text character")
    return problems


class LinkedInFake(FakePlatform):
    """``/rest/posts`` (create, list by author), ``/rest/images`` and the upload URL."""

    name = "linkedin"

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[dict[str, Any]] = []
        self.images: dict[str, bytes | None] = {}
        self.ids = itertools.count(7100000000000000001)
        self.can_read = True

    def is_write(self, request: Request) -> bool:
        return request.method == "POST" and request.path == "/rest/posts"

    def fault_response(self, fault: Fault) -> Response:
        body = {"status": fault.code, "message": f"fault {fault.code}"}
        if fault.code == 429:
            body["message"] = "Resource level throttle APPLICATION DAY limit reached."
        return Response(fault.code, body)

    def route(self, request: Request) -> Response:
        if request.path.startswith("/dms-uploads/") and request.method == "PUT":
            urn = "urn:li:image:" + request.path.rsplit("/", 1)[-1]
            if urn not in self.images or not request.body:
                return Response(400, {"status": 400, "message": "bad upload"})
            self.images[urn] = request.body
            return Response(201, None)
        if request.headers.get("authorization") != f"Bearer {LINKEDIN_TOKEN}":
            return Response(
                401,
                {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
                 "message": "Invalid access token"},
            )  # fmt: skip
        version = request.headers.get("linkedin-version", "")
        if not re.fullmatch(r"20\d{4}", version):
            return Response(
                426,
                {"status": 426, "code": "NONEXISTENT_VERSION",
                 "message": f"Requested version {version} is not active"},
            )  # fmt: skip
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            self.problem("linkedin: no X-Restli-Protocol-Version: 2.0.0")
        if request.path == "/rest/images" and request.method == "POST":
            if request.query.get("action") != ["initializeUpload"]:
                return Response(400, {"status": 400, "message": "unknown action"})
            owner = request.json()["initializeUploadRequest"]["owner"]
            if owner != LINKEDIN_AUTHOR:
                return Response(403, {"status": 403, "message": "owner is not the author"})
            key = f"D4E10AQ{next(self.ids)}"
            self.images[f"urn:li:image:{key}"] = None
            return Response(
                200,
                {"value": {"uploadUrlExpiresAt": 1, "uploadUrl": f"{self.base}/dms-uploads/{key}",
                           "image": f"urn:li:image:{key}"}},
            )  # fmt: skip
        if request.path == "/rest/posts" and request.method == "POST":
            return self._create(request)
        if request.path == "/rest/posts" and request.method == "GET":
            if not self.can_read:
                return Response(
                    403,
                    {"status": 403, "code": "ACCESS_DENIED",
                     "message": "Not enough permissions to access: posts.FINDER-author"},
                )  # fmt: skip
            if request.query.get("author") != [LINKEDIN_AUTHOR]:
                self.problem(f"linkedin: read-back author {request.query.get('author')}")
            start = int(request.query.get("start", ["0"])[0])
            count = int(request.query.get("count", ["10"])[0])
            newest = list(reversed(self.posts))
            return Response(200, {"elements": newest[start : start + count], "paging": {}})
        return Response(404, {"status": 404, "message": "Not Found"})

    def _create(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            self.problem("linkedin: content type is not application/json")
        body = request.json()
        if body.get("author") != LINKEDIN_AUTHOR:
            return Response(403, {"status": 403, "message": "author mismatch"})
        if body.get("lifecycleState") != "PUBLISHED" or "distribution" not in body:
            return Response(422, {"status": 422, "message": "missing required fields"})
        problems = check_linkedin(body)
        if problems:
            self.problem(f"linkedin: {problems}")
            if any("little-text" not in p for p in problems):
                return Response(
                    422, {"status": 422, "message": f"ERROR :: /commentary :: {problems}"}
                )
        thumbnail = body["content"]["article"].get("thumbnail")
        if thumbnail is not None and self.images.get(thumbnail) is None:
            self.problem(f"linkedin: thumbnail {thumbnail} was never uploaded")
            return Response(422, {"status": 422, "message": "invalid thumbnail"})
        with self.lock:
            for post in self.posts:
                if post["commentary"] == body["commentary"]:
                    return Response(
                        422, {"status": 422, "message": f"Content is a duplicate of {post['id']}"}
                    )
            urn = f"urn:li:share:{next(self.ids)}"
            self.posts.append({**body, "id": urn, "createdAt": int(self.now() * 1000)})
            self.delivered.append(body)
        return Response(201, None, {"x-restli-id": urn}, processed=True)


def start_linkedin(
    mp: pytest.MonkeyPatch, extra: dict[str, Any]
) -> tuple[FakePlatform, TargetConfig]:
    fake = LinkedInFake().start()
    mp.setenv("T_LINKEDIN_TOKEN", LINKEDIN_TOKEN)
    raw = {"token": "${T_LINKEDIN_TOKEN}", "author": LINKEDIN_AUTHOR, "api": fake.base, **extra}
    return fake, target("linkedin", "linkedin", raw)
