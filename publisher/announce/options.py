"""Validate one ``announce.targets[i]`` mapping of config.yaml for its kind.

``parse_target_options`` never raises: it returns the options it could read (defaults
where a value was wrong) and every problem as ``announce.targets[i].key: what; fix``, so
the config loader reports them with the rest of the file. Keys come from the adapter's
declared ``options`` plus the keys every target shares (:data:`COMMON`). Credentials
(``url``, ``token``, ``app_password``, ``secret``) are accepted only as ``${ENV}``
references and come back as :class:`~publisher.secret.Secret`.

Each option becomes a :class:`publisher.schema.Field`, chosen by :func:`_field` from its
name (``max_age``, ``deadline``, URLs, choices, ...) or else from its default's type, so
an adapter declares plain defaults and gets the same checks and wording as config.yaml.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from publisher.announce.contract import REQUIRED, SECRET
from publisher.announce.redact import register_secret
from publisher.announce.registry import announcer_class, kinds
from publisher.schema import (
    Convert,
    Field,
    Invalid,
    Schema,
    Where,
    choice,
    did_you_mean,
    flag,
    integer,
    number,
    secret,
    strings,
    text,
    then,
    url,
)
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
    if kind not in kinds():
        fix = did_you_mean(kind, kinds(), f"use one of {', '.join(kinds())}")
        return {}, [f"{where}.kind: unknown kind '{kind}'; {fix}"]
    if not isinstance(raw, Mapping):
        return {}, [f"{where}: must be a mapping of options, not {type(raw).__name__}"]
    cls = announcer_class(kind)
    declared: dict[str, Any] = {**COMMON, **cls.options}
    schema = Schema({key: _field(key, default) for key, default in declared.items()}, LOADER_KEYS)
    at = Where(where)
    options = schema.read(raw, at)
    if options.get("require_live") is None:
        options["require_live"] = cls.needs_live_page
    for value in options.values():
        if isinstance(value, Secret):
            register_secret(value.value)
    return options, at.problems


def _field(key: str, default: Any) -> Field:
    """How option ``key`` is read, from its name and its declared default."""
    if isinstance(default, Field):  # the adapter's own rule (a choice, say), as declared
        return default
    if default is SECRET or (key in SECRET_NAMES and default is REQUIRED):
        return Field(secret(), required=True, missing="required (write it as ${ENV_VAR})")
    required = default is REQUIRED
    fallback = None if required else default
    by_name = _BY_NAME.get(key)
    if by_name is not None:
        convert, fallback = by_name(default)
    elif key in URL_OPTIONS:
        convert = url("https://example.social", env=False)
    elif key in CHOICES:
        convert = choice(*CHOICES[key])
    else:
        convert = _by_default(default)
    return Field(_substituted(convert), default=fallback, required=required)


def _by_default(default: Any) -> Convert:
    """The converter an option gets from the type of its default."""
    if isinstance(default, bool):
        return flag()
    if isinstance(default, float):
        return number(above=0, message=lambda v: f"must be a number of seconds above 0, not {v!r}")
    if isinstance(default, list):
        return then(strings(), list)
    if isinstance(default, int):
        return integer(1)
    return text(env=False)


def _substituted(convert: Convert) -> Convert:
    """``${NAME}`` in a plain option is replaced by the variable, or by nothing when it is
    unset: ``check`` runs where the announcement secrets are not set."""

    def run(value: Any, where: Where) -> Any:
        if isinstance(value, str) and ENV_REF.search(value):
            value = ENV_REF.sub(lambda m: os.environ.get(m.group(1), ""), value)
        return convert(value, where)

    return run


def _duration(value: Any, where: Where) -> timedelta:
    duration = parse_duration(value)
    if duration is None:
        raise Invalid(f"{value!r} is not a duration; write it like 30d, 12h or 90m")
    return duration


def _chat_id(value: Any, where: Where) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
        raise Invalid("must be a chat id like -1001234567890 or a channel name like @mychannel")
    return str(value).strip()


#: Options whose reading depends on their name: (converter, value when wrong).
_BY_NAME: dict[str, Callable[[Any], tuple[Convert, Any]]] = {
    "max_age": lambda default: (_duration, parse_duration(default)),
    "deadline": lambda default: (
        number(
            above=0,
            message=lambda v: f"must be a number of seconds above 0, not {v!r}; e.g. deadline: 300",
        ),
        None,
    ),
    "link_posts": lambda default: (flag(), default),
    "require_live": lambda default: (flag(), default),
    "backfill": lambda default: (
        integer(0, message=lambda v: f"must be a whole number (0 for none), not {v!r}"),
        default,
    ),
    "max_per_run": lambda default: (integer(1), default),
    "chat_id": lambda default: (_chat_id, None),
}
