"""Fetch a post's remote ``ogImageUrl`` once, safely, and keep it on disk.

The URL is untrusted. Only http and https are fetched. The host name is resolved here and
every address checked (:mod:`publisher.cards.addresses`) before connecting to exactly
that address (:mod:`publisher.cards.transport`); redirects are followed by hand, at most
:data:`MAX_REDIRECTS`, each new location checked the same way. One wall-clock deadline
covers the whole fetch (lookups, connects, redirects, the body), and a byte cap is checked
against Content-Length and again while reading.

A fetched image is kept in the cache folder under a hash of its URL and reused without
asking the server again: to refresh, delete ``<cache>/remote``.
"""

from __future__ import annotations

import hashlib
import http.client
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, quote, urljoin, urlsplit

from publisher import __version__
from publisher.atomic import write_atomic
from publisher.cards.addresses import (
    Address,
    AddressPolicy,
    AddressRefused,
    LookupFailed,
    resolve,
)
from publisher.cards.images import SourceImageError
from publisher.cards.transport import DeadlineExceeded, open_get

USER_AGENT = f"publisher/{__version__} (Open Graph card renderer)"
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 65536
_URL_SAFE = "/%:@!$&'()*+,;=-._~"
_ALLOW_HINT = "or, for an image server on your own network, see cards.remote.allow_private_networks"


@dataclass(frozen=True, kw_only=True)
class FetchLimits:
    """How long a fetch may take in all (seconds), how big the image may be, where from."""

    timeout: float
    max_bytes: int
    policy: AddressPolicy = field(default_factory=AddressPolicy)


def cached_path(url: str, cache_dir: Path) -> Path:
    return cache_dir / "remote" / hashlib.sha256(url.encode("utf-8")).hexdigest()


def fetch_image(url: str, *, cache_dir: Path, limits: FetchLimits) -> Path:
    """The path of the downloaded image; SourceImageError saying what went wrong."""
    target = cached_path(url, cache_dir)
    if target.is_file():
        _check_scheme(url)
        return target
    write_atomic(target, download(url, limits))
    return target


def download(url: str, limits: FetchLimits) -> bytes:
    """The bytes at ``url`` under the address policy, one deadline and the byte cap;
    SourceImageError saying what went wrong. Also used by announcements that upload an
    image they only know by URL, so a post cannot make them fetch from inside the network."""
    _check_scheme(url)
    deadline = time.monotonic() + limits.timeout
    try:
        return _download(url, limits, deadline)
    except SourceImageError:
        raise
    except DeadlineExceeded:
        raise SourceImageError(
            f"took longer than {limits.timeout:g} s to download",
            "link an image on a faster server, put it in the post's folder, or raise cards.remote.timeout",
        ) from None
    except AddressRefused as exc:
        raise SourceImageError(
            f"is not fetched: {exc}",
            f"link an image on a public server or put it in the post's folder, {_ALLOW_HINT}",
        ) from None
    except LookupFailed as exc:
        raise SourceImageError(
            f"could not be fetched: {exc}", "check the URL or put the image in the post's folder"
        ) from None
    except ssl.SSLError as exc:
        raise SourceImageError(
            f"could not be fetched (TLS: {exc.reason or exc})",
            "check the server's certificate or link an https:// image that has a valid one",
        ) from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise SourceImageError(
            f"could not be fetched ({type(exc).__name__}: {exc})",
            "check the URL or put the image in the post's folder",
        ) from None


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise SourceImageError(
            f"uses the {scheme or 'missing'} scheme; only http and https images are fetched",
            "link an https:// image or put the file in the post's folder",
        )


def _download(url: str, limits: FetchLimits, deadline: float) -> bytes:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(current)
        host = parts.hostname
        if not host:
            raise SourceImageError(
                f"has no host name in {current}", "link a full https:// URL to the image"
            )
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        addresses = resolve(host, port, limits.policy, deadline=deadline)
        connection, response = _connect(
            parts.scheme.lower(), host, port, addresses, parts, deadline
        )
        try:
            location = response.getheader("Location")
            if response.status in _REDIRECTS and location:
                following = urljoin(current, location.strip())
                if urlsplit(following).scheme.lower() not in ("http", "https"):
                    raise SourceImageError(
                        "redirected to a non-http address", "link the image's final https:// URL"
                    )
                current = following
                continue
            if response.status != 200:
                raise SourceImageError(
                    f"answered HTTP {response.status}",
                    "check the URL or put the image in the post's folder",
                )
            return _body(response, limits.max_bytes)
        finally:
            response.close()
            connection.close()
    raise SourceImageError(
        f"redirected more than {MAX_REDIRECTS} times", "link the image's final https:// URL"
    )


def _connect(
    scheme: str,
    host: str,
    port: int,
    addresses: tuple[Address, ...],
    parts: SplitResult,
    deadline: float,
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    # Percent-encode what the author left raw (spaces, non-ASCII), as browsers do;
    # characters that already mean something in a URL, and existing escapes, are kept.
    target = quote(parts.path or "/", safe=_URL_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_URL_SAFE + "?")
    failure: OSError | None = None
    for address in addresses:
        try:
            return open_get(
                scheme=scheme,
                host=host,
                port=port,
                target=target,
                address=address,
                deadline=deadline,
                headers={"User-Agent": USER_AGENT, "Accept": "image/*"},
            )
        except DeadlineExceeded:
            raise
        except ConnectionError as exc:  # refused or reset: try the host's next address
            failure = exc
    assert failure is not None
    raise failure


def _body(response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    declared = response.getheader("Content-Length")
    if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
        raise SourceImageError(
            f"is {int(declared):,} bytes, over the {max_bytes:,}-byte limit",
            "link a smaller image or raise cards.remote.max_bytes",
        )
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read(min(_CHUNK, max_bytes + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise SourceImageError(
                f"is over the {max_bytes:,}-byte limit",
                "link a smaller image or raise cards.remote.max_bytes",
            )
        chunks.append(chunk)
    return b"".join(chunks)
