"""Fetch a post's remote ``ogImageUrl`` once and keep it on disk.

The HTTP session is passed in (a ``requests.Session`` in production, anything with the
same ``get`` in tests). Only http and https are fetched, with a timeout and a byte cap
checked both against Content-Length and while streaming. A fetched image is kept in the
cache folder under a hash of its URL and reused without asking the server again: to
refresh, delete ``<cache>/remote``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from publisher import __version__
from publisher.cards.images import SourceImageError

USER_AGENT = f"publisher/{__version__} (Open Graph card renderer)"


class Response(Protocol):
    status_code: int
    headers: Mapping[str, str]
    url: str

    def iter_content(self, chunk_size: int) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class Session(Protocol):
    def get(self, url: str, **kwargs: Any) -> Response: ...


def cached_path(url: str, cache_dir: Path) -> Path:
    return cache_dir / "remote" / hashlib.sha256(url.encode("utf-8")).hexdigest()


def fetch_image(
    url: str,
    *,
    session: Session,
    cache_dir: Path,
    timeout: float,
    max_bytes: int,
) -> Path:
    """The path of the downloaded image; SourceImageError saying what went wrong."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise SourceImageError(
            f"uses the {scheme or 'missing'} scheme; only http and https images are fetched",
            "link an https:// image or put the file in the post's folder",
        )
    target = cached_path(url, cache_dir)
    if target.is_file():
        return target
    try:
        response = session.get(
            url, timeout=timeout, stream=True, headers={"User-Agent": USER_AGENT}
        )
    except Exception as exc:  # any transport failure: DNS, refused, timeout, TLS
        raise SourceImageError(
            f"could not be fetched ({type(exc).__name__}: {exc})",
            "check the URL or put the image in the post's folder",
        ) from None
    try:
        if urlsplit(response.url or url).scheme.lower() not in ("http", "https"):
            raise SourceImageError(
                "redirected to a non-http address", "link the image's final https:// URL"
            )
        if response.status_code != 200:
            raise SourceImageError(
                f"answered HTTP {response.status_code}",
                "check the URL or put the image in the post's folder",
            )
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise SourceImageError(
                f"is {int(declared):,} bytes, over the {max_bytes:,}-byte limit",
                "link a smaller image or raise cards.remote.max_bytes",
            )
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > max_bytes:
                    raise SourceImageError(
                        f"is over the {max_bytes:,}-byte limit",
                        "link a smaller image or raise cards.remote.max_bytes",
                    )
                chunks.append(chunk)
        except SourceImageError:
            raise
        except Exception as exc:  # read timeout or dropped connection mid-body
            raise SourceImageError(
                f"download failed ({type(exc).__name__}: {exc})", "try again later"
            ) from None
    finally:
        response.close()
    _store(target, b"".join(chunks))
    return target


def _store(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".fetch.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
