"""Read a generator's own config file (YAML, TOML, JSON, or JS read as text) safely.

These files are untrusted input like posts: a site's repository may come from anyone. Each
is read up to a size cap, parsed without executing anything (no YAML tags, no JS), and a
file that cannot be read becomes one problem line naming the file and the fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from publisher.posts.files import inside as inside  # it lived here; base.py needs no yaml
from publisher.posts.files import read_regular

#: A generator config file larger than this is not a config file.
CONFIG_BYTES = 1024 * 1024


class SiteConfigError(ValueError):
    """A generator config file that cannot be read; the message is one problem line."""


class _TolerantLoader(yaml.SafeLoader):
    """SafeLoader that reads ``!!python/name:...`` and other tags as plain values.

    mkdocs.yml commonly holds such tags (emoji functions); they are never executed here.
    """


def _ignore_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    return None


_TolerantLoader.add_multi_constructor("", _ignore_tag)
_TolerantLoader.add_multi_constructor("!", _ignore_tag)
_TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", _ignore_tag)


def read_text(path: Path, shown: str, site: Path) -> str:
    """The file's text, capped; raise SiteConfigError with one clear line.

    ``site`` is the site folder: a config file that resolves outside it (a link, or a
    path with '..' written in another config file) is refused, since the site's
    repository may come from anyone and its files must not pull in the runner's.
    """
    if not inside(site, path):
        raise SiteConfigError(
            f"{shown}: leads outside the site folder (a symbolic link or '..'); not read; "
            "keep the generator's files inside the site"
        )
    try:
        raw = read_regular(path, CONFIG_BYTES)
    except OSError as exc:
        raise SiteConfigError(
            f"{shown}: cannot be read ({exc.strerror}); check its permissions"
        ) from None
    if raw is None:
        raise SiteConfigError(
            f"{shown}: is not a regular file (a named pipe, device or socket); not read; "
            "replace it with the config file"
        )
    if len(raw) > CONFIG_BYTES:
        raise SiteConfigError(
            f"{shown}: is over {CONFIG_BYTES // 1024} KB, too big for a config file; "
            "set posts.generator: generic and posts.url in config.yaml instead"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SiteConfigError(f"{shown}: is not UTF-8 text; save it as UTF-8") from None


def load(path: Path, shown: str, site: Path) -> dict[str, Any]:
    """A YAML, TOML or JSON config file as a mapping (by its extension)."""
    import tomllib  # here: a generic site (most builds) reads no generator's config

    text = read_text(path, shown, site)
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            loader = _TolerantLoader(text)
            try:
                node = loader.get_single_node()
                if node is not None and _node_count(node) > 100_000:
                    raise SiteConfigError(
                        f"{shown}: holds more than 100,000 values once YAML aliases are "
                        "expanded; remove the aliases"
                    )
                data = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
    except SiteConfigError:
        raise
    except tomllib.TOMLDecodeError as exc:
        raise SiteConfigError(f"{shown}: is not valid TOML ({exc}); fix the syntax") from None
    except json.JSONDecodeError as exc:
        raise SiteConfigError(
            f"{shown}: is not valid JSON ({exc.msg}, line {exc.lineno}); fix the syntax"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" on line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or "syntax error"
        raise SiteConfigError(
            f"{shown}: is not valid YAML ({reason}{where}); fix the syntax"
        ) from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise SiteConfigError(
            f"{shown}: cannot be read ({type(exc).__name__}); fix the syntax"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SiteConfigError(f"{shown}: must be a mapping of settings, not {type(data).__name__}")
    return data


def _node_count(root: yaml.Node) -> int:
    count = 0
    stack = [root]
    while stack and count <= 100_000:
        node = stack.pop()
        count += 1
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
    return count


def js_string(text: str, key: str) -> str | None:
    """The string literal assigned to ``key`` in a JS/TS config (``key: 'value'``), if any.

    Only a literal counts: ``key: process.env.X`` or a variable is not readable without
    running the file, and the caller says so instead of guessing.
    """
    match = re.search(
        r"(?m)(?<![\w.$])['\"]?"
        + re.escape(key)
        + r"['\"]?[ \t]*[:=][ \t]*(['\"`])([^'\"`\n]*)\1(?=[ \t]*(?:[,;}]|$))",
        text,
    )
    return match.group(2) if match else None


def js_mentions(text: str, key: str) -> bool:
    """``key`` is set in the file (uncommented), whatever its value."""
    return re.search(r"(?m)^[ \t]*['\"]?" + re.escape(key) + r"['\"]?\s*[:=,]", text) is not None


def strip_js_comments(text: str) -> str:
    """Drop ``// ...`` line comments (not inside URLs) so a commented-out key is not read."""
    return re.sub(r"(?m)(^|[ \t])//[^\n]*", r"\1", text)
