"""Keep credentials out of every byte publisher prints or writes.

Webhook URLs, bot tokens and app passwords are registered here when a target is built
(and session tokens when a platform hands them out); :func:`redact` then replaces each,
and the parts of it that libraries quote on their own (requests puts a URL's path, not
the whole URL, into its connection errors; Telegram's token sits inside the API path),
with a short tail such as ``…f3a9``. Logs, exception text, dry-run payloads, the JSON
report and the ledger all go through it.

A server may echo back only a *part* of a secret, so each part that is secret on its own
is registered too: a webhook URL's path and its token-like segments and query values
(Discord's ``/webhooks/<id>/<token>``, Teams' ``sig=``), the halves of a ``id:token``
credential (a Telegram bot token without its ``123456:`` prefix), a typed token without its
type prefix and its ``_`` pieces (Matrix's ``syt_...``), and the percent-encoded
and base64 (standard, URL-safe, with and without padding) spellings of each.
"""

from __future__ import annotations

import base64
import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

_lock = threading.Lock()
_secrets: set[str] = set()
#: Shorter values are too likely to occur in ordinary text to be replaced safely.
MIN_SECRET_LENGTH = 6


def mask(value: str) -> str:
    """What a secret looks like in output: at most its last four characters."""
    return "…" + value[-4:] if len(value) >= 16 else "…"


#: A token's type prefix: ``syt_`` (Matrix), ``xoxb-`` (Slack), ``ghp_``, ``glpat-``.
_TYPE_PREFIX = re.compile(r"[A-Za-z]{2,6}[_-]")

#: Query parameters that carry a credential whatever it looks like (Teams' ``sig``).
CREDENTIAL_PARAMS = frozenset(
    {"sig", "signature", "token", "access_token", "key", "api_key", "apikey", "code", "secret"}
)


def _token_like(part: str) -> bool:
    """Could this piece be a credential on its own? Long, or letters mixed with digits;
    path words such as ``services`` or ``webhooks`` are not, and stay readable."""
    if len(part) < MIN_SECRET_LENGTH:
        return False
    if len(part) >= 16:
        return True
    return len(part) >= 8 and any(c.isdigit() for c in part) and any(c.isalpha() for c in part)


def _spellings(value: str) -> set[str]:
    """``value`` as a server might print it: raw, percent-encoded, base64 four ways."""
    raw = value.encode("utf-8")
    found = {value, quote(value, safe=""), quote(value, safe="/:")}
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        found |= {text, text.rstrip("=")}
    return found


def _variants(value: str) -> set[str]:
    parts: set[str] = {value}
    split = urlsplit(value)
    if split.scheme in ("http", "https") and split.netloc:
        tail = split.path + (f"?{split.query}" if split.query else "")
        if len(tail.strip("/")) >= MIN_SECRET_LENGTH:
            parts |= {tail, tail.lstrip("/"), split.path}
        if split.password:
            parts.add(split.password)
        parts |= {unquote(seg) for seg in split.path.split("/") if _token_like(unquote(seg))}
        parts |= {
            v
            for k, v in parse_qsl(split.query)
            if _token_like(v) or (k.lower() in CREDENTIAL_PARAMS and len(v) >= MIN_SECRET_LENGTH)
        }
    else:
        # ``123456:ABC-DEF...`` (Telegram), ``user:password``: each side may be echoed alone.
        parts |= {piece for piece in value.split(":") if _token_like(piece)}
        # A typed token (Synapse's ``syt_<user>_<random>_<crc>``, Slack's ``xoxb-...``):
        # its body without the type prefix, and each ``_`` piece, may be echoed alone.
        prefix = _TYPE_PREFIX.match(value)
        if prefix and _token_like(value[prefix.end() :]):
            parts.add(value[prefix.end() :])
        parts |= {piece for piece in value.split("_") if _token_like(piece)}
    found: set[str] = set()
    for part in parts:
        found |= _spellings(part)
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
