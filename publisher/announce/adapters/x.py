"""X (Twitter): ``POST /2/tweets`` with an OAuth 2.0 user access token as bearer, or
OAuth 1.0a user-context credentials (``token`` holding ``consumer_key:consumer_secret:
access_token:access_token_secret``; each request signed, see :mod:`oauth1`).

Body ``{"text": ...}``; the answer is ``201 {"data": {"id", "text"}}``. X builds the link
card itself from the page's Open Graph tags. Errors come as ``{"title", "detail",
"type", "status"}`` (or ``{"errors": [...]}``); 429 carries ``x-rate-limit-reset`` (Unix
seconds, the 15-minute window) and, when the daily cap of posts per user is spent,
``x-user-limit-24hour-remaining: 0`` with ``x-user-limit-24hour-reset``: the later reset
is the wait. (The generic reader knows ``X-RateLimit-Reset``, a different name.)

The limit is 280 *weighted* characters as twitter-text (config v3) counts them: code
points in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F and U+2032-U+2037 weigh 1, every
other code point 2, an emoji sequence 2 whatever its length, and every URL 23 (t.co).
Counting here never comes out below X's: text that looks like a bare domain
(``example.org``) counts as a URL of at least 23, as X may link it, and text is counted
as sent (X normalizes to NFC first, which only makes it shorter).

A word joiner follows every ``@`` in the post's text, so a title naming ``@someone``
mentions nobody. No idempotency key: **at-most-once** (in doubt after an ambiguous failure). X refuses a
post whose text repeats a recent one of the account (403 "duplicate content"): when that
is the answer to a resend it means the first attempt did get through, and it is
reported as sent (duplicate). Read-back, where the token has ``tweet.read`` and
``users.read``: ``GET /2/users/me``, then the account's posts since the first attempt
(``GET /2/users/:id/tweets``), matched by the post's URL in ``entities.urls``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests

from publisher.announce.adapters.oauth1 import Credentials, authorization
from publisher.announce.contract import (
    SECRET,
    Announcement,
    Announcer,
    DeliveryError,
    MeasuredLimit,
    ReadBackUnavailable,
    Receipt,
)
from publisher.announce.http import CLOCK_SKEW, body_of, call, json_object, text_field
from publisher.announce.linkpreview import Cut, LinkPreview, Theme
from publisher.announce.text import URL_RE, graphemes

MAX_WEIGHTED = 280
URL_WEIGHT = 23
_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
#: What X may link without a scheme: name.name...tld (letters only in the TLD).
_DOMAIN = re.compile(r"(?<![\w@.-])(?:[\w-]+\.)+[^\W\d_]{2,}(?:/[^\s]*)?", re.UNICODE)
_EMOJI_PARTS = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2300, 0x23FF),
    (0x2B00, 0x2BFF),
    (0xE0020, 0xE007F),  # tag characters (subdivision flags)
    (0xFE0E, 0xFE0F),  # variation selectors
    (0x200D, 0x200D),  # zero width joiner
    (0x20E3, 0x20E3),  # keycap
)
#: Pages of 100 posts read back before saying "cannot tell".
READ_PAGES = 5


def _weight(cp: int) -> int:
    return 1 if any(lo <= cp <= hi for lo, hi in _LIGHT) else 2


def _is_emoji(cluster: str) -> bool:
    points = [ord(c) for c in cluster]
    if not any(0x1F000 <= p <= 0x1FAFF or 0x2300 <= p <= 0x2BFF for p in points):
        return False
    return all(any(lo <= p <= hi for lo, hi in _EMOJI_PARTS) for p in points)


def _plain_weight(text: str) -> int:
    total = 0
    for cluster in graphemes(text):
        total += 2 if _is_emoji(cluster) else sum(_weight(ord(c)) for c in cluster)
    return total


def weighted_length(text: str) -> int:
    """The length X gives ``text``, never less: URLs 23 each, emoji 2, CJK 2."""
    total, rest = 0, []
    last = 0
    for match in URL_RE.finditer(text):
        rest.append(text[last : match.start()])
        total += URL_WEIGHT
        last = match.end()
    rest.append(text[last:])
    for piece in rest:
        end = 0
        for match in _DOMAIN.finditer(piece):
            total += _plain_weight(piece[end : match.start()])
            total += max(URL_WEIGHT, _plain_weight(match.group(0)))
            end = match.end()
        total += _plain_weight(piece[end:])
    return total


@dataclass(frozen=True)
class WeightedLimit(MeasuredLimit):
    """280 weighted characters (twitter-text v3), for rendering and clipping."""

    def measure(self, text: str) -> int:
        return weighted_length(text)

    def describe(self) -> str:
        return f"{self.max} weighted characters (URLs {URL_WEIGHT}, CJK and emoji 2)"


TEXT = WeightedLimit(MAX_WEIGHTED, "chars", url_length=URL_WEIGHT)


def rate_limit_wait(response: requests.Response, now: float | None = None) -> float | None:
    """Seconds until X lets this user post again: the later of the exhausted windows."""
    now = time.time() if now is None else now
    headers = response.headers
    resets: list[float] = []
    for prefix in ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"):
        remaining, reset = headers.get(f"{prefix}-remaining"), headers.get(f"{prefix}-reset")
        try:
            if reset is not None and (remaining is None or float(remaining) <= 0):
                resets.append(float(reset) - now)
        except ValueError:
            continue
    if not resets:
        value = headers.get("Retry-After")
        try:
            return max(0.0, float(value)) if value else None
        except ValueError:
            return None
    return max(0.0, max(resets))


def _detail(body: Any) -> str:
    detail = text_field(body, "detail") or text_field(body, "title")
    if detail is None and isinstance(body, dict) and isinstance(body.get("errors"), list):
        first = body["errors"][0] if body["errors"] else None
        detail = text_field(first, "message") or text_field(first, "detail")
    return detail or "no detail"


class XAnnouncer(Announcer):
    kind = "x"
    limit = TEXT
    idempotent = False
    # How the platform shows a shared link (the preview page draws it from this).
    # X: ``twitter:title`` up to 70 characters and ``twitter:description`` up to 200 (X's card
    # markup reference); the summary_large_image picture is cropped to 2:1 (X's card docs). Images
    # up to 5 MB. The current apps show only the title over the picture.
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="x",
        name="X",
        title_cut=Cut(max=70),
        description_cut=Cut(max=200),
        shows_description=False,
        title_lines=1,
        ratio=2.0,
        ratio_label="2:1",
        max_bytes=5_000_000,
        note="the apps show only the title over the picture today",
        shape="overlay",
        parts=("domain", "title"),
        theme=Theme(border="#cfd9de", radius=16),
    )
    options: ClassVar[Mapping[str, Any]] = {
        "token": SECRET,
        "api": "https://api.x.com",
        "username": None,
    }

    @property
    def api(self) -> str:
        return str(self.config.get("api") or "https://api.x.com").rstrip("/")

    def headers(
        self, method: str = "POST", url: str = "", query: dict[str, str] | None = None
    ) -> dict[str, str]:
        """Bearer for an OAuth 2.0 user token; an OAuth 1.0a signature when the token is
        ``consumer_key:consumer_secret:access_token:access_token_secret``."""
        token = self.secret("token")
        credentials = Credentials.parse(token)
        if credentials is None:
            return {"Authorization": f"Bearer {token}"}
        return {"Authorization": authorization(credentials, method, url, query or {})}

    def escape(self, text: str) -> str:
        """A word joiner after every ``@``: a title naming ``@someone`` notifies nobody."""
        return text.replace("@", "@\u2060")

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        return {"text": TEXT.clip(announcement.text)}

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        response = call(
            session,
            self.name,
            "POST",
            f"{self.api}/2/tweets",
            what="X post",
            json=self.payload(announcement),
            headers=self.headers("POST", f"{self.api}/2/tweets"),
            timeout=self.timeout,
            ok=(200, 201, 202, 204, 403, 429),
        )
        body = body_of(response)
        if response.status_code == 429:
            raise DeliveryError(
                self.name,
                429,
                f"X post: {_detail(body)}",
                outcome="retry",
                retry_after=rate_limit_wait(response),
            )
        if response.status_code == 403:
            detail = _detail(body)
            if "duplicate" in detail.lower() and announcement.attempt > 1:
                # This text went out already: the earlier attempt got through.
                return Receipt(
                    target=self.name, post_id=announcement.post.id, status=403, duplicate=True
                )
            raise DeliveryError(
                self.name,
                403,
                f"X post: {detail} (permanent: fix the target or the post)",
                outcome="refused",
            )
        return self._receipt(announcement, json_object(response).get("data"), response.status_code)

    def _receipt(
        self, announcement: Announcement, data: Any, code: int, duplicate: bool = False
    ) -> Receipt:
        post_id = text_field(data, "id")
        user = self.config.get("username") or "i"
        url = f"https://x.com/{user}/status/{post_id}" if post_id else None
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=post_id,
            remote_url=url,
            status=code,
            duplicate=duplicate,
        )

    def read_back(
        self, announcement: Announcement, session: requests.Session, *, since: datetime
    ) -> Receipt | None:
        """This post's X post among the account's posts since ``since``."""
        me = self._get(session, "/2/users/me", {})
        user_id = text_field(me, "data", "id")
        if user_id is None:
            raise ReadBackUnavailable(self.name, 200, "/2/users/me gave no user id")
        floor = since.astimezone(UTC) - CLOCK_SKEW
        params = {
            "start_time": floor.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": "100",
            "tweet.fields": "created_at,entities",
        }
        for _ in range(READ_PAGES):
            page = self._get(session, f"/2/users/{user_id}/tweets", params)
            posts = page.get("data") or []
            if not isinstance(posts, list):
                raise ReadBackUnavailable(self.name, 200, "the posts answer is not a list")
            for post in posts:
                if _links(post, announcement.url):
                    return self._receipt(announcement, post, 200, duplicate=True)
            token = text_field(page, "meta", "next_token")
            if token is None:
                return None
            params = {**params, "pagination_token": token}
        raise ReadBackUnavailable(
            self.name, None, f"more than {READ_PAGES * 100} posts since {since.isoformat()}"
        )

    def _get(self, session: requests.Session, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = call(
                session,
                self.name,
                "GET",
                f"{self.api}{path}",
                what="X read-back",
                headers=self.headers("GET", f"{self.api}{path}", params),
                params=params,
                timeout=self.timeout,
                ok=(200,),
            )
        except DeliveryError as exc:
            # 401/403: the token lacks tweet.read/users.read or the plan cannot read.
            raise ReadBackUnavailable(self.name, exc.status, exc.reason) from None
        return json_object(response)


def _links(post: Any, url: str) -> bool:
    entities = post.get("entities") if isinstance(post, dict) else None
    urls = entities.get("urls") if isinstance(entities, dict) else None
    if not isinstance(urls, list):
        return False
    return any(
        isinstance(u, dict) and url in (u.get("expanded_url"), u.get("unwound_url")) for u in urls
    )
