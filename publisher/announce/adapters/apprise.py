"""Apprise, for every service publisher has no adapter of its own for (``pip install
publisher[apprise]``).

``urls`` holds one or more Apprise URLs (``tgram://…``, ``ntfy://…``, ``pover://…``,
separated by spaces or commas) in one environment variable; each is a credential, and
every part of it that could be one (user, password, host, path segments, query values)
is registered for redaction. The title and text go to ``Apprise.notify``; Apprise itself
fits them to each service (it splits or truncates per service), within our own budget of
250 and 10,000 code points.

Apprise keeps no state and reports only "succeeded" or "failed" per URL, without saying
whether a failed service got the message: a failure (or a partial one, where a resend
would repeat the message on the services that did get it) is **in doubt**, never resent
by itself (``--retry-in-doubt`` to resend to all). A URL Apprise cannot parse is a
refusal before anything is sent. No read-back.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

import requests

from publisher.announce.contract import (
    SECRET,
    Announcement,
    Announcer,
    DeliveryError,
    Receipt,
    SetupError,
    TextLimit,
)
from publisher.announce.redact import register_secret

TEXT = TextLimit(10000, "chars")
TITLE = TextLimit(250, "chars")


def split_urls(value: str) -> list[str]:
    """Apprise URLs separated by whitespace or commas (Apprise's own convention)."""
    return [u for u in re.split(r"[\s,]+", value) if u]


def register_url_parts(url: str) -> None:
    """Every piece of an Apprise URL that may be a credential on its own."""
    register_secret(url)
    parts = urlsplit(url)
    pieces = [parts.username, parts.password, parts.hostname, parts.netloc]
    pieces += [unquote(s) for s in parts.path.split("/")]
    pieces += [v for _, v in parse_qsl(parts.query)]
    for piece in pieces:
        # Host names and words like "notify" stay readable; tokens do not.
        if piece and (
            len(piece) >= 16
            or (
                len(piece) >= 8
                and any(c.isdigit() for c in piece)
                and any(c.isalpha() for c in piece)
            )
        ):
            register_secret(piece)


class AppriseAnnouncer(Announcer):
    kind = "apprise"
    limit = TEXT
    #: The other fields it cuts to fit (the docs' limits table lists each).
    limits: ClassVar[Mapping[str, TextLimit]] = {"title": TITLE}
    idempotent = False
    options: ClassVar[Mapping[str, Any]] = {"urls": SECRET, "format": "text"}

    def urls(self) -> list[str]:
        """The URLs, each with the target's timeouts unless it sets its own (``cto``/``rto``):
        a hung service must not hold the run longer than any other target would."""
        connect, read = self.timeout
        urls = []
        for url in split_urls(self.secret("urls")):
            register_url_parts(url)
            query = dict(parse_qsl(urlsplit(url).query))
            extra = [f"{k}={v:g}" for k, v in (("cto", connect), ("rto", read)) if k not in query]
            if extra:
                url += ("&" if "?" in url else "?") + "&".join(extra)
            urls.append(url)
        return urls

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        return {
            "title": TITLE.clip(announcement.title),
            "body": TEXT.clip(announcement.text),
            "body_format": "markdown" if self.config.get("format") == "markdown" else "text",
        }

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        try:
            # An optional extra: imported by name so that neither the registry nor mypy
            # needs it installed.
            apprise: Any = importlib.import_module("apprise")
        except ImportError:
            raise SetupError(
                self.name, "apprise is not installed; pip install 'publisher[apprise]'"
            ) from None
        urls = self.urls()
        notifier = apprise.Apprise()
        for n, url in enumerate(urls, start=1):
            if not notifier.add(url):
                # Its text is the URL itself, a secret: say which one by position.
                raise DeliveryError(
                    self.name,
                    400,
                    f"Apprise URL {n} of {len(urls)} is not one Apprise understands "
                    "(permanent: fix the URL in the environment variable)",
                    outcome="refused",
                )
        body = self.payload(announcement)
        result = notifier.notify(
            body=body["body"], title=body["title"], body_format=body["body_format"]
        )
        if result:
            return Receipt(target=self.name, post_id=announcement.post.id, status=200)
        succeeded = getattr(result, "success_count", None)
        detail = f"{succeeded} of {len(urls)} services took it" if succeeded is not None else ""
        raise DeliveryError(
            self.name,
            None,
            f"Apprise reported a failure{': ' + detail if detail else ''}; "
            "it cannot tell whether the failed services got the message",
            outcome="unknown",
        )
