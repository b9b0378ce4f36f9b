"""One place that turns HTTP answers and transport failures into DeliveryError outcomes.

Adapters call :func:`call`; it never lets a requests exception (whose text holds the URL,
and so the webhook secret) escape, and it reads the rate-limit headers platforms send:
``Retry-After`` (seconds or an HTTP date), Discord's ``X-RateLimit-Reset-After``,
``X-RateLimit-Reset`` (epoch seconds, or Mastodon's ISO 8601 time) with
``X-RateLimit-Remaining``, and JSON bodies that carry ``retry_after`` (Discord, Telegram)
or ``retry_after_ms`` (Matrix).
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import urllib3.exceptions

from publisher.announce.contract import DeliveryError, Outcome
from publisher.announce.redact import redact

#: Answers that mean "this will not work until someone changes something".
PERMANENT = frozenset({400, 401, 403, 404, 405, 410, 411, 413, 414, 415, 422})
#: Answers that mean "not processed; ask again later".
RETRYABLE = frozenset({408, 409, 425, 429, 503})

DEFAULT_TIMEOUT = (5.0, 15.0)
#: Read-back looks this much further back than the first attempt: the server's clock is
#: not ours.
CLOCK_SKEW = timedelta(minutes=10)

_last = threading.local()


def take_rate_wait() -> float | None:
    """Seconds this thread should pause before its next request, from the last answer's
    ``X-RateLimit-*`` headers (an empty bucket), then forgotten."""
    wait: float | None = getattr(_last, "wait", None)
    _last.wait = None
    return wait


def retry_after(
    response: requests.Response, body: Any = None, *, now: float | None = None
) -> float | None:
    """Seconds to wait before the next request, from headers or body; None if not said."""
    now = time.time() if now is None else now
    headers = response.headers
    value = headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        # An HTTP date; anything else (a proxy's garbage) says nothing, and the 429 or 503
        # it came with is still a refusal to retry after the usual backoff, not a doubt.
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (ValueError, TypeError, IndexError, OverflowError):
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return max(0.0, parsed.timestamp() - now)
    if isinstance(body, Mapping):
        params = body.get("parameters")
        for source, key, scale in (
            (body, "retry_after", 1.0),
            (params if isinstance(params, Mapping) else {}, "retry_after", 1.0),
            (body, "retry_after_ms", 0.001),
        ):
            raw = source.get(key)
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                return max(0.0, float(raw) * scale)
    return rate_limit_wait(response, now=now, exhausted_only=False)


def rate_limit_wait(
    response: requests.Response, *, now: float | None = None, exhausted_only: bool = True
) -> float | None:
    """From ``X-RateLimit-*``: how long until the bucket refills, if it is empty."""
    now = time.time() if now is None else now
    headers = response.headers
    remaining = headers.get("X-RateLimit-Remaining")
    if exhausted_only:
        try:
            if remaining is None or float(remaining) > 0:
                return None
        except ValueError:
            return None
    reset_after = headers.get("X-RateLimit-Reset-After")
    if reset_after:
        try:
            return max(0.0, float(reset_after))
        except ValueError:
            pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            try:
                return max(
                    0.0, datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp() - now
                )
            except ValueError:
                return None
    return None


def body_of(response: requests.Response) -> Any:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return None


def json_object(response: requests.Response) -> dict[str, Any]:
    """The answer's JSON object, or ``{}`` when it is not JSON or not an object: a 2xx whose
    body has the wrong shape must not crash the run (see each adapter for what it means)."""
    body = body_of(response)
    return body if isinstance(body, dict) else {}


def text_field(body: Any, *keys: str) -> str | None:
    """``body[k1][k2]...`` when every step is an object and the end a non-empty string or
    integer (ids come as either), else None."""
    for key in keys:
        if not isinstance(body, Mapping):
            return None
        body = body.get(key)
    if isinstance(body, bool) or not isinstance(body, str | int) or body == "":
        return None
    return str(body)


def answer_time(value: Any) -> datetime | None:
    """An ISO 8601 time from an answer (``...Z`` included) as an aware datetime, else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _short(response: requests.Response, body: Any) -> str:
    if isinstance(body, Mapping):
        for key in ("error_description", "description", "message", "error", "errcode"):
            if isinstance(body.get(key), str):
                return redact(body[key])[:200]
    return redact(response.text.strip().replace("\n", " "))[:200] or response.reason or ""


def _was_sent(exc: requests.RequestException) -> bool:
    """Did the request leave this machine before the failure? (Then it may have arrived.)"""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ReadTimeout):
        return True
    reason: Any = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", None)
    for candidate in (reason, inner):
        if isinstance(
            candidate,
            urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError,
        ):
            return False
        if isinstance(candidate, urllib3.exceptions.ConnectTimeoutError):
            return False
    return True


def call(
    session: requests.Session,
    target: str,
    method: str,
    url: str,
    *,
    what: str,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    ok: tuple[int, ...] = (200, 201, 202, 204),
    **kwargs: Any,
) -> requests.Response:
    """Make one request; return the response if its status is in ``ok``, else raise DeliveryError."""
    try:
        response = session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        sent = _was_sent(exc)
        kind = type(exc).__name__
        outcome: Outcome = "unknown" if sent else "retry"
        detail = "no answer after the request was sent" if sent else "could not connect"
        raise DeliveryError(target, None, f"{what}: {detail} ({kind})", outcome=outcome) from None
    if response.status_code in ok:
        _last.wait = rate_limit_wait(response)
        return response
    body = body_of(response)
    reason = f"{what}: {_short(response, body)}"
    status = response.status_code
    if status in RETRYABLE:
        raise DeliveryError(
            target, status, reason, outcome="retry", retry_after=retry_after(response, body)
        )
    if status in PERMANENT or 300 <= status < 500:
        raise DeliveryError(
            target, status, f"{reason} (permanent: fix the target or the post)", outcome="refused"
        )
    raise DeliveryError(
        target, status, reason, outcome="unknown", retry_after=retry_after(response, body)
    )


def card_bytes(path: Any, url: str, *, limit: int) -> bytes | None:
    """The card image: the local file when the cards stage built one, else fetched from its URL.

    None when it is larger than ``limit`` bytes or cannot be had; the announcement then
    goes out without it rather than not at all.
    """
    if path is not None:
        try:
            data = path.read_bytes()
        except OSError:
            data = None
        if data is not None:
            return data if len(data) <= limit else None
    # The URL may be a post's own ogImageUrl: fetched like the cards stage fetches it
    # (public addresses only, one deadline, a byte cap), never through the platform session.
    from publisher.cards.fetch import FetchLimits, download
    from publisher.cards.images import SourceImageError

    try:
        return download(url, FetchLimits(timeout=DEFAULT_TIMEOUT[1], max_bytes=limit))
    except SourceImageError:
        return None
