"""What a build keeps for the next one's stat pass, beside its stat pass (snapshot.py): the
seal of ``inputs.json`` and the tree file.

A leaf module (the standard library only), as snapshot.py is: the fast path reads both.
"""

from __future__ import annotations

import os

try:
    from _blake2 import blake2b  # hashlib's own, without OpenSSL (see snapshot.py)
except ImportError:  # an interpreter without CPython's module
    from hashlib import blake2b

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (the fast path)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from publisher.statwalk import Listing


def seal(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as inputs.json keeps it: without the tree, with its check."""
    record = {key: value for key, value in data.items() if key not in ("tree", "check")}
    record["check"] = _check(record)
    return record


def sealed(data: Mapping[str, Any]) -> bool:
    """Whether a record read from inputs.json is the one written: a byte changed in place
    (a bad block, a hand edit) may leave JSON of the right shape whose dates or digests
    say nothing changed (a scheduled post's ``live_until`` moved later keeps it out);
    such a record is no record, and the build is a full one."""
    return data.get("check") == _check(
        {key: value for key, value in data.items() if key not in ("tree", "check")}
    )


def _check(record: Mapping[str, Any]) -> str:
    import json

    text = json.dumps(record, sort_keys=True).encode("utf-8", "surrogateescape")
    return blake2b(text, digest_size=16, person=b"record").hexdigest()


#: The folders walked, with their stats and entries, for the next stat pass: beside
#: inputs.json, in a file of its own. As JSON inside inputs.json they were 1.2 MB of its
#: 1.25 at 10,000 posts, parsed by every build and no-op (2.6 ms) and encoded again by every
#: build (4.5 ms) although one post edited in place changes none of them.
TREE_FILE = "inputs.tree"
#: The tree file's first bytes: its format, then a CRC-32 of the rest (``marshal``).
_TREE_MAGIC = b"publisher-tree-1\n"


def tree_bytes(tree: Mapping[str, Listing]) -> bytes:
    """The tree file's bytes for ``tree``."""
    import marshal
    import zlib

    body = marshal.dumps(dict(tree))
    return _TREE_MAGIC + zlib.crc32(body).to_bytes(4, "little") + body


def read_tree(state: str) -> dict[str, Listing]:
    """The tree the last build of the state folder ``state`` kept; empty when there is none
    or it is damaged. Any tree is safe to use, even another build's: a folder's listing is
    reused only while the folder's stat is the one kept with it (statwalk.py), so a tree
    costs at worst the listings it no longer spares."""
    import marshal
    import zlib

    try:
        with open(os.path.join(state, TREE_FILE), "rb") as handle:
            data = handle.read()
    except OSError:
        return {}
    start = len(_TREE_MAGIC) + 4
    if data[: len(_TREE_MAGIC)] != _TREE_MAGIC:
        return {}
    body = data[start:]
    if zlib.crc32(body).to_bytes(4, "little") != data[start - 4 : start]:
        return {}
    try:
        tree = marshal.loads(body)
    except (ValueError, EOFError, TypeError):  # another Python's marshal, say
        return {}
    return tree if isinstance(tree, dict) else {}
