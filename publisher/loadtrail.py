"""What a config depends on besides its own text: the trail that loading it leaves.

The no-op fast path (fastpath.py) decides without loading config.yaml, so the last build
records what the loaded config was made of: the file's text and the environment
variables it names (one digest), and every path the loader resolved, with what it
resolved to (a symbolic link pointed elsewhere gives another config). The loader
(config/loader.py) records while it runs; :func:`resolve` is how the loader and the
stage option parsers turn a written path into a real one.

A leaf module (the standard library only): config/ and cards/options.py import it, and so
does the fast path, which must not import the config loader.
"""

from __future__ import annotations

import re

try:
    from _blake2 import blake2b  # hashlib's, without OpenSSL (see snapshot.py)
except ImportError:  # an interpreter without CPython's module
    from hashlib import blake2b

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (the fast path)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path
    from types import TracebackType

#: ``${NAME}`` in config.yaml (the same pattern as publisher.secret.ENV_REF; a test holds
#: the two equal).
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

#: The resolutions of the loads running now (innermost last).
_recording: list[list[tuple[str, str]]] = []


class Trail:
    """What one load of a config file read (a plain class: see snapshot.Snapshot)."""

    __slots__ = ("digest", "named", "resolved", "started_ns")

    def __init__(
        self,
        *,
        started_ns: int,
        digest: str,
        resolved: tuple[tuple[str, str], ...],
        named: bool = False,
    ):
        #: time.time_ns() before the file was read: a file changed after it may hold
        #: something the loaded config does not.
        self.started_ns = started_ns
        #: :func:`config_digest` of the text the loader read.
        self.digest = digest
        #: (path as written, joined to its folder; what it resolved to), in load order.
        self.resolved = resolved
        #: The config names an environment variable (``${NAME}``): what it holds may be
        #: a secret, so the loaded config is not kept on disk (config/stored.py).
        self.named = named


def variables_named(text: str, names: Iterable[str] = ()) -> list[str]:
    """Every environment variable a config file's ``text`` names, and each of ``names``."""
    return sorted(set(ENV_REF.findall(text)).union(names))


def config_digest(text: str, environ: Mapping[str, str], names: Iterable[str] = ()) -> str:
    """The text of a config file and the value of each variable it names (set or not).

    Every ``${NAME}`` in the text counts, comments included, and each of ``names``
    (those in the values the loader read): a value may spell its name with YAML escapes
    (``"\\u0024{NAME}"``) that the text search does not see. The fast path, which has only
    the text, then computes another digest and leaves such a config to the CLI. One digest
    for all of them, as the record keeps no value.
    """
    digest = blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20)
    for name in variables_named(text, names):
        value = environ.get(name)
        line = f"\0{name}\0-" if value is None else f"\0{name}\0={value}"
        digest.update(line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def resolve(path: Path) -> Path:
    """``path.resolve()``, recorded in the trail of the load running now."""
    resolved = path.resolve()
    if _recording:
        _recording[-1].append((str(path), str(resolved)))
    return resolved


class recording:  # a context manager named for its use: ``with recording() as found``
    """Collect the paths :func:`resolve` resolves until the block ends."""

    def __enter__(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        _recording.append(found)
        return found

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _recording.pop()
