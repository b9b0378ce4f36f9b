"""Keep credentials out of every byte publisher prints or writes.

Webhook URLs, bot tokens and app passwords are registered here when a target is built
(and session tokens when a platform hands them out); :func:`redact` then replaces each,
and the parts of it that libraries quote on their own (requests puts a URL's path, not
the whole URL, into its connection errors; Telegram's token sits inside the API path),
with a short tail such as ``…f3a9``. Logs, exception text, dry-run payloads, the JSON
report and the ledger all go through it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlsplit

_lock = threading.Lock()
_secrets: set[str] = set()
#: Shorter values are too likely to occur in ordinary text to be replaced safely.
MIN_SECRET_LENGTH = 6


def mask(value: str) -> str:
    """What a secret looks like in output: at most its last four characters."""
    return "…" + value[-4:] if len(value) >= 16 else "…"


def _variants(value: str) -> set[str]:
    found = {value, quote(value, safe=""), quote(value, safe="/:")}
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        tail = parts.path + (f"?{parts.query}" if parts.query else "")
        if len(tail.strip("/")) >= MIN_SECRET_LENGTH:
            found |= {tail, tail.lstrip("/")}
        if parts.password:
            found.add(parts.password)
    return {v for v in found if len(v) >= MIN_SECRET_LENGTH}


def register_secret(value: str | None) -> None:
    """Remember a credential so that :func:`redact` hides it from now on."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets.update(_variants(value))


def registered() -> frozenset[str]:
    with _lock:
        return frozenset(_secrets)


def forget_secrets() -> None:
    """Tests only: start from an empty registry."""
    with _lock:
        _secrets.clear()


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every registered secret (longest first) replaced by its masked tail."""
    with _lock:
        values = sorted(
            _secrets | {v for v in extra if v and len(v) >= MIN_SECRET_LENGTH},
            key=len,
            reverse=True,
        )
    for value in values:
        if value in text:
            text = text.replace(value, mask(value))
    return text


def redact_data(value: Any) -> Any:
    """Redact every string inside a JSON-like structure (dry-run payloads, reports)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


def github_masks(write: Callable[[str], None]) -> int:
    """In GitHub Actions, ask the runner to mask each secret in the job log.

    The ``::add-mask::`` command has to carry the value itself; the runner hides that line
    too. Outside Actions this writes nothing. Returns how many values were masked.
    """
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return 0
    values = sorted(registered())
    for value in values:
        write(f"::add-mask::{value}")
    return len(values)
