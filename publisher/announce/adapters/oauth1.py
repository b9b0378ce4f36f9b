"""OAuth 1.0a request signing (RFC 5849, HMAC-SHA1), for X's user-context credentials.

The signature covers the method, the URL without its query, and every query and
``oauth_*`` parameter (a JSON body is not part of it). Keys are the consumer secret and
the token secret, each percent-encoded, joined by ``&``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit


def encode(value: str) -> str:
    """RFC 3986 percent-encoding, as OAuth 1.0a wants it (only unreserved kept)."""
    return quote(value, safe="-._~")


@dataclass(frozen=True)
class Credentials:
    consumer_key: str
    consumer_secret: str
    token: str
    token_secret: str

    @classmethod
    def parse(cls, value: str) -> Credentials | None:
        """``consumer_key:consumer_secret:access_token:access_token_secret``, else None."""
        parts = value.split(":")
        if len(parts) != 4 or not all(parts):
            return None
        return cls(*parts)


def signature(
    method: str, url: str, params: dict[str, str], consumer_secret: str, token_secret: str
) -> str:
    pairs = sorted((encode(k), encode(v)) for k, v in params.items())
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    split = urlsplit(url)
    base_url = urlunsplit((split.scheme.lower(), split.netloc.lower(), split.path, "", ""))
    base = "&".join([method.upper(), encode(base_url), encode(normalized)])
    key = f"{encode(consumer_secret)}&{encode(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()


def authorization(
    credentials: Credentials,
    method: str,
    url: str,
    query: dict[str, str],
    *,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> str:
    """The ``Authorization: OAuth ...`` header value for this request."""
    oauth = {
        "oauth_consumer_key": credentials.consumer_key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_token": credentials.token,
        "oauth_version": "1.0",
    }
    oauth["oauth_signature"] = signature(
        method,
        url,
        {**query, **oauth},
        credentials.consumer_secret,
        credentials.token_secret,
    )
    return "OAuth " + ", ".join(f'{encode(k)}="{encode(v)}"' for k, v in sorted(oauth.items()))
