"""Threads: the Graph API's two steps (media container, then publish)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import pytest

from publisher.announce.text import graphemes
from publisher.config import TargetConfig

from ..posts import target
from ..server import FakePlatform, Fault, Request, Response

# -- Threads ----------------------------------------------------------------------------

THREADS_TOKEN = "THAAGbKq2xZr8Wm1pQv7Ls4Nd9Fj3Hc6Tb0Yg5Ue2Ko8Ri1"
_THREADS_URL = re.compile(r"https?://[^\s]+")


def threads_count(text: str) -> int:
    """Threads' documented count: characters, except that an emoji counts its UTF-8 bytes."""
    total = 0
    for cluster in graphemes(text):
        if any(ord(c) >= 0x1F000 or 0x2600 <= ord(c) <= 0x27BF for c in cluster):
            total += len(cluster.encode("utf-8"))
        else:
            total += len(cluster)
    return total


def check_threads(p: dict[str, Any]) -> list[str]:
    text = p.get("text", "")
    links = set(_THREADS_URL.findall(text)) | {p.get("link_attachment")} - {None}
    problems = [f"text: {threads_count(text)} > 500"] if threads_count(text) > 500 else []
    return problems + ([f"{len(links)} links > 5"] if len(links) > 5 else [])


def _graph_error(code: int, message: str, transient: bool = False) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "is_transient": transient,
            "fbtrace_id": "AbCdEf",
        }
    }


class ThreadsFake(FakePlatform):
    """Containers (``/me/threads``), publishing (``/me/threads_publish``), status and listing.

    Only ``threads_publish`` is a write here: it is the call that makes a post visible, so
    the fault script (and a crash) lands between the container and the post."""

    name = "threads"

    def __init__(self) -> None:
        super().__init__()
        self.containers: dict[str, dict[str, Any]] = {}
        self.posts: list[dict[str, Any]] = []
        self.ids = itertools.count(17840000000000001)
        self.in_progress_polls = 0

    def is_write(self, request: Request) -> bool:
        return request.method == "POST" and request.path.endswith("/threads_publish")

    def fault_response(self, fault: Fault) -> Response:
        if fault.code == 429:  # Graph rate limits come as 400 with code 4
            return Response(400, _graph_error(4, "Application request limit reached", True))
        if fault.code == 401:
            return Response(400, _graph_error(190, "Error validating access token"))
        if fault.code == 403:
            return Response(403, _graph_error(10, "Application does not have permission"))
        if fault.code == 400:
            return Response(400, _graph_error(100, "Invalid parameter"))
        return Response(fault.code, _graph_error(2, "Service temporarily unavailable", True))

    def _params(self, request: Request) -> dict[str, str]:
        params = {k: v[0] for k, v in request.query.items()}
        if request.method == "POST":
            if not request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                self.problem("threads: POST body is not a form")
            params.update({k: v[0] for k, v in parse_qs(request.body.decode("utf-8")).items()})
        return params

    def route(self, request: Request) -> Response:
        params = self._params(request)
        if params.get("access_token") != THREADS_TOKEN:
            return Response(400, _graph_error(190, "Invalid OAuth access token."))
        path = request.path
        if request.method == "POST" and path == "/v1.0/me/threads":
            return self._container(params)
        if request.method == "POST" and path == "/v1.0/me/threads_publish":
            return self._publish(params)
        if request.method == "GET" and path == "/v1.0/me/threads":
            since = int(params.get("since", "0"))
            with self.lock:
                found = [p for p in reversed(self.posts) if p["unix"] >= since]
            fields = set(params.get("fields", "id").split(","))
            data = [{k: v for k, v in p.items() if k in fields} for p in found]
            return Response(200, {"data": data, "paging": {"cursors": {"before": "a"}}})
        item = path.rsplit("/", 1)[-1]
        with self.lock:
            container = self.containers.get(item)
            post = next((p for p in self.posts if p["id"] == item), None)
        if request.method == "GET" and container is not None:
            if container["status"] == "FINISHED" and self.in_progress_polls > 0:
                self.in_progress_polls -= 1
                return Response(200, {"status": "IN_PROGRESS", "id": item})
            return Response(200, {"status": container["status"], "id": item})
        if request.method == "GET" and post is not None:
            return Response(200, {"id": item, "permalink": post["permalink"]})
        return Response(400, _graph_error(100, "Unsupported get request."))

    def _container(self, params: dict[str, str]) -> Response:
        if params.get("media_type") != "TEXT" or not params.get("text"):
            return Response(400, _graph_error(100, "The parameter text is required"))
        problems = check_threads(params)
        if problems:
            self.problem(f"threads: {problems}")
            return Response(400, _graph_error(100, f"Param text is too long: {problems}"))
        with self.lock:
            container = str(next(self.ids))
            self.containers[container] = {"status": "FINISHED", **params}
        return Response(200, {"id": container})

    def _publish(self, params: dict[str, str]) -> Response:
        creation = params.get("creation_id", "")
        with self.lock:
            container = self.containers.get(creation)
            if container is None:
                return Response(400, _graph_error(100, "Invalid creation_id"))
            if container["status"] != "FINISHED":
                self.problem(f"threads: published a container that is {container['status']}")
                return Response(400, _graph_error(24, "The media is not ready for publishing"))
            container["status"] = "PUBLISHED"
            media_id = str(next(self.ids))
            self.posts.append(
                {
                    "id": media_id,
                    "permalink": f"https://www.threads.net/@lanternblog/post/C{media_id[-6:]}",
                    "text": container["text"],
                    "link_attachment_url": container.get("link_attachment"),
                    "unix": int(self.now()),
                    "timestamp": datetime.fromtimestamp(self.now(), UTC).strftime(
                        "%Y-%m-%dT%H:%M:%S+0000"
                    ),
                }
            )
            self.delivered.append({k: v for k, v in container.items() if k != "access_token"})
        return Response(200, {"id": media_id}, processed=True)


def start_threads(
    mp: pytest.MonkeyPatch, extra: dict[str, Any]
) -> tuple[FakePlatform, TargetConfig]:
    fake = ThreadsFake().start()
    mp.setenv("T_THREADS_TOKEN", THREADS_TOKEN)
    return fake, target(
        "threads", "threads", {"token": "${T_THREADS_TOKEN}", "api": fake.base, **extra}
    )
