"""The loaded config kept with the last build's record, so that a build whose config the
fast path has proven unchanged does not load config.yaml again.

Loading a config costs a one-post build about a tenth of its time: the YAML parser, the
schema and its checks, each stage's option validator, their imports. The last build's
record (inputs.py, ``inputs.json``) keeps the :class:`Config` that load gave, as JSON
(:func:`encode`); the fast path (fastpath.py) hands it to the build it does not answer
when everything the loader depends on is as it was then (:data:`publisher.fastpath.stored`):

- the config file's text and every environment variable it names (one digest), each path
  the loader resolved, publisher's folder, version and Python, and the package folders:
  the checks of the no-op fast path itself (loadtrail.py);
- every input of the stat pass outside the posts folder has the stat it had when that
  build started (snapshot.Snapshot.digest_outside): the config file, the card fonts,
  logo and layouts it names, publisher's own code and data, the libraries;
- the kept JSON is what was written (a digest of it is kept beside it): a record damaged
  in place, still JSON, is not taken for a config.

Anything else loads the config as before. A config is kept only when it comes back from
JSON equal to itself, repr included (the stat pass's plan is made from that repr), and
never when its text names an environment variable: what ``${VAR}`` gives (a token, a
password) stays out of the state folder. Only the config's own classes are made from the
file (:func:`_classes`), never a class a damaged or planted file names.
"""

from __future__ import annotations

import math
import os
from pathlib import Path, PosixPath

from publisher.config.model import (
    AnnounceConfig,
    CardsConfig,
    Config,
    FeedsConfig,
    PostsConfig,
    SiteAuthor,
    SiteConfig,
    TargetConfig,
)
from publisher.dataclass import fields, replace
from publisher.loadtrail import Trail

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


class Unsupported(Exception):
    """A value :func:`encode` does not keep (the config is then loaded every time)."""


def _classes() -> dict[str, Callable[..., Any]]:
    # The stage options are imported on use: their modules import this package's model.
    from publisher.cards.options import CardOptions
    from publisher.feeds.options import FeedOptions

    found: dict[str, Callable[..., Any]] = {
        cls.__name__: cls
        for cls in (
            AnnounceConfig,
            CardsConfig,
            Config,
            FeedsConfig,
            PostsConfig,
            SiteAuthor,
            SiteConfig,
            TargetConfig,
            CardOptions,
            FeedOptions,
        )
    }
    return found


def encode(config: Config) -> dict[str, Any] | None:
    """``config`` as JSON data, or None when it cannot be kept: it was not loaded from a
    file, its file names an environment variable, a value is of a type not kept here (a
    generator's rules, an announcer's secret), or it would not come back the same."""
    if config.trail is None or config.trail.named:
        return None
    classes = _classes()
    try:
        data = _encode(config, classes)
        back = decode(data, config.trail)
    except (Unsupported, ValueError, KeyError, TypeError):
        return None
    if back != config or repr(back) != repr(config):
        return None
    return {"config": data, "check": _check(data)}


def _check(data: Any) -> str:
    """A digest of the kept config's JSON: a record damaged in place (a flipped byte, a
    hand edit of the file) no longer matches it, and the config is loaded instead."""
    import json

    from publisher.digests import blake2b

    text = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def _encode(value: Any, classes: Mapping[str, Any]) -> Any:
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        if not math.isfinite(value):
            raise Unsupported("a float JSON cannot hold")
        return value
    if kind is PosixPath:
        return {"path": str(value)}
    if kind is tuple:
        return {"tuple": [_encode(item, classes) for item in value]}
    if kind is list:
        return [_encode(item, classes) for item in value]
    if kind is dict and all(type(key) is str for key in value):
        return {"dict": {key: _encode(item, classes) for key, item in value.items()}}
    if classes.get(kind.__name__) is kind:
        return {
            "class": kind.__name__,
            "fields": {
                f.name: _encode(getattr(value, f.name), classes)
                for f in fields(value)
                if f.name != "trail"
            },
        }
    raise Unsupported(kind.__name__)


def decode(data: Mapping[str, Any], trail: Trail) -> Config:
    """The config :func:`encode` kept, with ``trail`` as what loading it read; a damaged
    record raises ValueError, KeyError or TypeError."""
    classes = _classes()
    config = _decode(data, classes)
    if type(config) is not Config:
        raise ValueError("not a config")
    return replace(config, trail=trail)


def _decode(value: Any, classes: Mapping[str, Callable[..., Any]]) -> Any:
    if isinstance(value, list):
        return [_decode(item, classes) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "path":
            return Path(inner)
        if tag == "tuple":
            return tuple(_decode(item, classes) for item in inner)
        if tag == "dict":
            return {key: _decode(item, classes) for key, item in inner.items()}
    if set(value) == {"class", "fields"}:
        return classes[value["class"]](
            **{key: _decode(item, classes) for key, item in value["fields"].items()}
        )
    raise ValueError(f"not a kept value: {sorted(value)}")


def handed(path: str | os.PathLike[str]) -> Config | None:
    """The config the fast path handed over for the config file at ``path``, or None (the
    loader must load it): none was handed, the record is damaged, or it was kept for
    another file."""
    from publisher import fastpath

    given, fastpath.stored = fastpath.stored, None
    if given is None:
        return None
    data, trail = given
    try:
        if data["check"] != _check(data["config"]):
            return None  # damaged since it was kept
        config = decode(data["config"], trail)
        if str(config.source) != os.path.realpath(path):
            return None
        if not config.posts.folder.is_dir():
            return None  # the loader says what is wrong with it
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
    return config
