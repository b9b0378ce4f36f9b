"""The post cache's content key and body checksum, made without copying the text (issue
12), are the values of their formulas: the key is SHA-256 over the context, a NUL and the
file's bytes (40 hex digits); the body's CRC-32 runs over the row's key, a NUL, the
markdown, a NUL and the HTML, in UTF-8 (lone surrogates kept)."""

from __future__ import annotations

import hashlib
import random
import zlib

from publisher.posts.cache import _body_crc, content_key


def test_the_key_and_the_checksum_are_the_formulas_values() -> None:
    rng = random.Random(12)
    for _ in range(2000):
        raw = bytes(rng.choices(range(256), k=rng.randint(0, 64)))
        context = "".join(rng.choices("ab/\u00e9", k=rng.randint(0, 8)))
        digest = hashlib.sha256(context.encode() + b"\0" + raw)
        assert content_key(raw, context) == digest.hexdigest()[:40]
        markdown = "".join(rng.choices("ab\u00e9\u65e5\ud800\n\0", k=rng.randint(0, 40)))
        html = "".join(rng.choices("<p>\u00e9x\udfff\0", k=rng.randint(0, 40)))
        key = content_key(raw, context)
        text = f"{key}\0{markdown}\0{html}".encode("utf-8", "surrogatepass")
        assert _body_crc(key, markdown, html) == zlib.crc32(text)
