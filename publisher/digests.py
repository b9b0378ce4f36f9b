"""SHA-256, SHA-1 and BLAKE2b for a build, without loading OpenSSL for one that hashes little.

``hashlib``'s first import loads OpenSSL's ``libcrypto`` for SHA-256 and SHA-1: about
4 ms of CPU, 2 to 3% of a build that reads one edited post out of 1,000 (issue 12),
which hashes a few KB. CPython's own modules (``_sha2``, ``_sha256`` before 3.12,
``_sha1``) make the same digests without it, but about six times slower on large inputs
(OpenSSL uses the processor's SHA instructions: 70 MB in 0.09 s against 0.57 s). So a
process hashes its first :data:`SMALL` bytes with CPython's modules and the rest through
``hashlib``, imported then; once something else has imported ``hashlib``, it is used at
once. The digests are the same bytes either way (``tests/test_digests.py``).

BLAKE2b is CPython's own in both (``hashlib`` never takes OpenSSL's), so it is taken from
``_blake2`` directly.

Only the parts given are counted: a hash object made here and fed more data later (a file
hashed in batches) is made through ``hashlib`` by its caller.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

if TYPE_CHECKING:
    from collections.abc import Callable
    from hashlib import _Hash

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter without CPython's module
    from hashlib import blake2b

try:
    from _sha2 import sha256 as _own_sha256  # type: ignore[import-not-found]  # 3.12+
except ImportError:
    try:
        from _sha256 import sha256 as _own_sha256  # type: ignore[import-not-found]  # 3.11
    except ImportError:  # pragma: no cover - an interpreter without CPython's modules
        _own_sha256 = None
try:
    from _sha1 import sha1 as _own_sha1  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    _own_sha1 = None

#: Bytes a process hashes with CPython's own modules before it takes ``hashlib``'s.
SMALL = 1 << 20

_hashed = [0]

__all__ = ["SMALL", "blake2b", "sha1", "sha256"]


def sha256(*parts: bytes) -> _Hash:
    """``hashlib.sha256`` fed ``parts`` in order (the digest of their concatenation)."""
    return _fed(_maker("sha256", _own_sha256, parts), parts)


def sha1(*parts: bytes) -> _Hash:
    """``hashlib.sha1`` fed ``parts`` in order."""
    return _fed(_maker("sha1", _own_sha1, parts), parts)


def _fed(make: Callable[[], _Hash], parts: tuple[bytes, ...]) -> _Hash:
    digest = make()
    for part in parts:
        digest.update(part)
    return digest


def _maker(
    name: str, own: Callable[[], _Hash] | None, parts: tuple[bytes, ...]
) -> Callable[[], _Hash]:
    """CPython's own maker ``own`` while this process has hashed little and ``hashlib`` is
    not loaded (``parts`` counted then); else ``hashlib``'s ``name``."""
    if own is not None and "hashlib" not in sys.modules:
        _hashed[0] += sum(map(len, parts))
        if _hashed[0] <= SMALL:
            return own
    import hashlib

    found: Callable[[], _Hash] = getattr(hashlib, name)
    return found
