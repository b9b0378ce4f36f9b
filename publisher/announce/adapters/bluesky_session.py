"""An AT Protocol (Bluesky) login kept between runs, under every Bluesky call.

Logging in (``com.atproto.server.createSession``) is rate limited per account, so it
happens only when no session is kept: the access and refresh tokens live in the state
folder (mode 0600, written atomically) and an expired access token is renewed with
``com.atproto.server.refreshSession``; a refused refresh falls back to a login. Every
token is registered for redaction the moment it is read or received.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import requests

from publisher.announce.contract import Announcer, DeliveryError
from publisher.announce.http import call, json_object
from publisher.announce.redact import register_secret
from publisher.atomic import write_atomic


class XrpcSession(Announcer):
    """The session half of the Bluesky adapter: ``_authed`` makes a call with a valid token."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session: dict[str, str] | None = None
        self._lock = threading.Lock()

    @property
    def service(self) -> str:
        return str(self.config.get("service") or "https://bsky.social").rstrip("/")

    def _xrpc(self, method: str) -> str:
        return f"{self.service}/xrpc/{method}"

    # -- session -------------------------------------------------------------

    def session_file(self) -> Path | None:
        if self.state_dir is None:
            return None
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.name)
        return self.state_dir / f"bluesky-{safe}.session.json"

    def _load(self) -> dict[str, str] | None:
        path = self.session_file()
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("handle_config") != self.config.get("handle"):
            return None
        if not all(isinstance(data.get(k), str) for k in ("accessJwt", "refreshJwt", "did")):
            return None
        for key in ("accessJwt", "refreshJwt"):
            register_secret(data[key])
        return {k: str(v) for k, v in data.items()}

    def _save(self, data: dict[str, Any]) -> dict[str, str]:
        session = {
            "accessJwt": str(data["accessJwt"]),
            "refreshJwt": str(data["refreshJwt"]),
            "did": str(data["did"]),
            "handle": str(data.get("handle") or self.config.get("handle")),
            "handle_config": str(self.config.get("handle")),
        }
        for key in ("accessJwt", "refreshJwt"):
            register_secret(session[key])
        path = self.session_file()
        if path is not None:
            # 0600 from the first byte (mkstemp's mode): the tokens are secrets.
            write_atomic(path, json.dumps(session).encode("utf-8"), mode=0o600)
        return session

    def _login(self, http: requests.Session) -> dict[str, str]:
        response = call(
            http,
            self.name,
            "POST",
            self._xrpc("com.atproto.server.createSession"),
            what="Bluesky login",
            json={"identifier": self.config["handle"], "password": self.secret("app_password")},
            timeout=self.timeout,
            ok=(200,),
        )
        body = json_object(response)
        if not all(isinstance(body.get(k), str) for k in ("accessJwt", "refreshJwt", "did")):
            raise DeliveryError(
                self.name, 200, "Bluesky login answered without tokens", outcome="retry"
            )
        return self._save(body)

    def _refresh(self, http: requests.Session, session: dict[str, str]) -> dict[str, str]:
        try:
            response = call(
                http,
                self.name,
                "POST",
                self._xrpc("com.atproto.server.refreshSession"),
                what="Bluesky session refresh",
                headers={"Authorization": f"Bearer {session['refreshJwt']}"},
                timeout=self.timeout,
                ok=(200,),
            )
        except DeliveryError as exc:
            if exc.outcome == "refused":
                return self._login(http)
            raise
        body = json_object(response)
        if not all(isinstance(body.get(k), str) for k in ("accessJwt", "refreshJwt")):
            return self._login(http)
        return self._save({**session, **body})

    def _current(self, http: requests.Session) -> dict[str, str]:
        if self._session is None:
            self._session = self._load() or self._login(http)
        return self._session

    def _authed(
        self, http: requests.Session, method: str, name: str, *, what: str, **kwargs: Any
    ) -> requests.Response:
        """A call with the access token; on an expired token, refresh once and repeat."""
        with self._lock:
            session = self._current(http)
        headers = dict(kwargs.pop("headers", {}) or {})
        try:
            return call(
                http,
                self.name,
                method,
                self._xrpc(name),
                what=what,
                headers={**headers, "Authorization": f"Bearer {session['accessJwt']}"},
                timeout=self.timeout,
                **kwargs,
            )
        except DeliveryError as exc:
            if exc.status not in (400, 401) or ("xpired" not in exc.reason and exc.status != 401):
                raise
        with self._lock:
            self._session = self._refresh(http, session)
            session = self._session
        return call(
            http,
            self.name,
            method,
            self._xrpc(name),
            what=what,
            headers={**headers, "Authorization": f"Bearer {session['accessJwt']}"},
            timeout=self.timeout,
            **kwargs,
        )
