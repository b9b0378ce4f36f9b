"""publisher/digests.py: the same digests as hashlib, by CPython's own modules for a
process that hashes little and through hashlib (OpenSSL) once it hashes much.

Each case runs in a fresh interpreter: whether ``hashlib`` is loaded, and how much the
process has hashed, are per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap

from publisher import digests

_PROBE = textwrap.dedent(
    """
    import json, sys
    from publisher import digests
    sizes = json.loads(sys.argv[1])
    out = []
    for size in sizes:
        part = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        out.append({
            "sha256": digests.sha256(part, b"\\0", part[:7]).hexdigest(),
            "sha1": digests.sha1(part).hexdigest(),
            "blake2b": digests.blake2b(part, digest_size=16).hexdigest(),
            "hashlib": "hashlib" in sys.modules,
        })
    print(json.dumps(out))
    """
)


def _run(sizes: list[int]) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(sizes)],
        # Unmeasured: coverage, when it runs, imports hashlib before the probe does.
        env={**os.environ, "COVERAGE_PROCESS_CONFIG": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: list[dict[str, object]] = json.loads(done.stdout)
    return result


def _expected(size: int) -> dict[str, str]:
    part = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    return {
        "sha256": hashlib.sha256(part + b"\0" + part[:7]).hexdigest(),
        "sha1": hashlib.sha1(part).hexdigest(),
        "blake2b": hashlib.blake2b(part, digest_size=16).hexdigest(),
    }


def test_small_inputs_are_hashed_without_loading_hashlib_and_give_its_digests() -> None:
    sizes = [0, 1, 255, 4096, 70_000]
    results = _run(sizes)
    for size, got in zip(sizes, results, strict=True):
        assert {k: got[k] for k in ("sha256", "sha1", "blake2b")} == _expected(size), size
        assert got["hashlib"] is False, size


def test_past_the_threshold_hashlib_is_loaded_and_the_digests_do_not_change() -> None:
    # The first input (hashed by SHA-256 and SHA-1: half of SMALL; BLAKE2b is never
    # OpenSSL's, so not counted) stays under; the second takes the total past SMALL: it
    # and every later one go through hashlib.
    sizes = [digests.SMALL // 4, digests.SMALL, 3, 100_000]
    results = _run(sizes)
    assert [r["hashlib"] for r in results] == [False, True, True, True]
    for size, got in zip(sizes, results, strict=True):
        assert {k: got[k] for k in ("sha256", "sha1", "blake2b")} == _expected(size), size


def test_hashlib_already_loaded_is_used_at_once() -> None:
    # In this process (pytest has imported hashlib) every call goes through hashlib,
    # and the count of bytes hashed does not grow.
    assert "hashlib" in sys.modules
    before = digests._hashed[0]
    assert digests.sha256(b"abc").hexdigest() == hashlib.sha256(b"abc").hexdigest()
    assert type(digests.sha256(b"abc")) is type(hashlib.sha256())
    assert digests._hashed[0] == before
