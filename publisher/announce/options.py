"""Validate one ``announce.targets[i]`` mapping of config.yaml for its kind.

``parse_target_options`` never raises: it returns the options it could read (defaults
where a value was wrong) and every problem as ``announce.targets[i].key: what; fix``, so
the config loader reports them with the rest of the file. Keys come from the adapter's
declared ``options`` plus the keys every target shares (:data:`COMMON`). Credentials
(``url``, ``token``, ``app_password``, ``secret``) are accepted only as ``${ENV}``
references and come back as :class:`~publisher.secret.Secret`.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from publisher.announce.contract import REQUIRED, SECRET
from publisher.announce.redact import register_secret
from publisher.announce.registry import announcer_class, kinds
from publisher.secret import ENV_REF, Secret

#: Options every target accepts, with their defaults (None: not set).
COMMON: dict[str, Any] = {
    "template": None,
    "max_per_run": 5,
    "backfill": 0,
    "max_age": "30d",
    "categories": [],
    "tags": [],
    "exclude_categories": [],
    "exclude_tags": [],
    "link_posts": True,
    "require_live": None,
    "timeout": 15.0,
    "retry_time": 60.0,
    "deadline": None,
}
#: Read by the config loader itself.
LOADER_KEYS = ("kind", "name")
#: Option names that hold credentials, whatever the kind.
SECRET_NAMES = frozenset({"url", "token", "app_password", "secret"})
#: Options that are absolute http(s) URLs but not secrets.
URL_OPTIONS = frozenset({"instance", "homeserver", "service", "api"})
CHOICES: dict[str, tuple[str, ...]] = {
    "visibility": ("public", "unlisted", "private", "direct"),
    "msgtype": ("m.notice", "m.text"),
    "security": ("starttls", "smtps", "none"),
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s|w)?\s*$")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: Any) -> timedelta | None:
    """``30d``, ``12h``, ``90m``, ``2w`` or a number of days; None if not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return timedelta(days=float(value)) if value > 0 else None
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not match:
        return None
    amount = float(match.group(1))
    seconds = amount * _UNITS[match.group(2) or "d"]
    return timedelta(seconds=seconds) if seconds > 0 else None


def parse_target_options(
    kind: str, raw: Mapping[str, Any], *, where: str = "announce.targets[0]"
) -> tuple[dict[str, Any], list[str]]:
    """Validate the options of one target of ``kind``; return them and every problem."""
    problems: list[str] = []

    def error(key: str, message: str) -> None:
        problems.append(f"{where}.{key}: {message}")

    if kind not in kinds():
        hint = difflib.get_close_matches(kind, kinds(), n=1)
        fix = f"did you mean '{hint[0]}'?" if hint else f"use one of {', '.join(kinds())}"
        return {}, [f"{where}.kind: unknown kind '{kind}'; {fix}"]
    if not isinstance(raw, Mapping):
        return {}, [f"{where}: must be a mapping of options, not {type(raw).__name__}"]
    cls = announcer_class(kind)
    declared: dict[str, Any] = {**COMMON, **cls.options}
    options: dict[str, Any] = {}

    for key, default in declared.items():
        value = raw.get(key)
        if value is None:
            if default is REQUIRED or default is SECRET:
                error(key, "required" + (" (write it as ${ENV_VAR})" if default is SECRET else ""))
                continue
            options[key] = default
            continue
        if default is SECRET or (key in SECRET_NAMES and default is REQUIRED):
            options[key] = _secret(key, value, error)
        else:
            options[key] = _check(key, value, default, error)

    if options.get("require_live") is None:
        options["require_live"] = cls.needs_live_page
    age = options.get("max_age")
    if age is not None:
        duration = parse_duration(age)
        if duration is None:
            error("max_age", f"{age!r} is not a duration; write it like 30d, 12h or 90m")
            duration = parse_duration(COMMON["max_age"])
        options["max_age"] = duration

    known = sorted([*declared, *LOADER_KEYS])
    for key in raw:
        if key not in known:
            hint = difflib.get_close_matches(str(key), known, n=1)
            fix = f"did you mean '{hint[0]}'?" if hint else f"known keys: {', '.join(known)}"
            error(str(key), f"unknown key; {fix}")
    return options, problems


def _secret(key: str, value: Any, error: Any) -> Secret | None:
    match = ENV_REF.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        error(
            key,
            "secrets are not written in config.yaml; write it as ${ENV_VAR} "
            "and set that variable in the environment",
        )
        return None
    secret = Secret(match.group(1), os.environ.get(match.group(1)))
    register_secret(secret.value)
    return secret


def _check(key: str, value: Any, default: Any, error: Any) -> Any:
    if isinstance(value, str) and ENV_REF.search(value):
        value = ENV_REF.sub(lambda m: os.environ.get(m.group(1), ""), value)
    if key in URL_OPTIONS:
        parts = urlsplit(str(value).strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            error(
                key,
                f"{value!r} is not an absolute http(s) URL; write it like https://example.social",
            )
            return default if default is not REQUIRED else None
        return str(value).strip().rstrip("/")
    if key in CHOICES:
        if value not in CHOICES[key]:
            error(key, f"must be one of {', '.join(CHOICES[key])}, not {value!r}")
            return default
        return value
    if key == "max_age":
        return value
    if key == "deadline":
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            error(key, f"must be a number of seconds above 0, not {value!r}; e.g. deadline: 300")
            return None
        return float(value)
    if isinstance(default, bool) or key in ("link_posts", "require_live"):
        if not isinstance(value, bool):
            error(key, f"must be true or false, not {value!r}")
            return default
        return value
    if key == "backfill":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            error(key, f"must be a whole number (0 for none), not {value!r}")
            return default
        return value
    if key == "max_per_run":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            error(key, f"must be a whole number of at least 1, not {value!r}")
            return default
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            error(key, f"must be a number of seconds above 0, not {value!r}")
            return default
        return float(value)
    if isinstance(default, list):
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            error(key, "must be a list of text values")
            return default
        return [v.strip() for v in items if v.strip()]
    if key == "chat_id":
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
            error(key, "must be a chat id like -1001234567890 or a channel name like @mychannel")
            return None
        return str(value).strip()
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            error(key, f"must be a whole number of at least 1, not {value!r}")
            return default
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        error(key, f"must be text, not {type(value).__name__}")
        return default if default is not REQUIRED else None
    return str(value).strip()
