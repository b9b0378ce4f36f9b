"""A cache file with one page zeroed, as a bad block or a power loss in the quarter second
its commits go unsynced leaves it, chosen by what SQLite can no longer read through it
("database disk image is malformed"): for ``tests/test_damaged_*.py``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

#: Whether a connection to a damaged copy is damaged the way a test wants.
Broken = Callable[[sqlite3.Connection], bool]


def fails(db: sqlite3.Connection, query: str, *args: object) -> bool:
    """Whether SQLite cannot run ``query`` to its end on ``db``."""
    try:
        db.execute(query, args).fetchall()
    except sqlite3.DatabaseError:
        return True
    return False


def damage(path: Path, broken: Broken) -> bytes:
    """Zero the first page of ``path`` (a SQLite file) that leaves it ``broken``; its
    bytes before. AssertionError when no page does."""
    data = path.read_bytes()
    size = int.from_bytes(data[16:18], "big")
    probe = path.with_name("probe.sqlite")
    for start in range(size, len(data), size):
        probe.write_bytes(data[:start] + bytes(size) + data[start + size :])
        db = sqlite3.connect(probe)
        try:
            found = broken(db)
        except sqlite3.DatabaseError:
            found = False
        finally:
            db.close()
        if found:
            probe.replace(path)
            return data
    probe.unlink()
    raise AssertionError(f"no page of {path.name} breaks it so")


def sound(path: Path) -> bool:
    """Whether ``path`` is absent or passes SQLite's ``quick_check``."""
    if not path.exists():
        return True
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    except sqlite3.DatabaseError:
        return False
    finally:
        db.close()


def posts_keys(db: sqlite3.Connection) -> list[str]:
    """The keys of a post cache's rows."""
    return [key for (key,) in db.execute("SELECT key FROM posts")]


def a_body(db: sqlite3.Connection) -> bool:
    """A post cache whose entries and stamps can be read, and one to four bodies cannot."""
    if fails(db, "SELECT key, entry, crc, digest FROM posts") or fails(db, "SELECT * FROM files"):
        return False
    keys = posts_keys(db)
    lost = sum(fails(db, "SELECT markdown, html FROM posts WHERE key = ?", k) for k in keys)
    return 1 <= lost <= 4


def entries(db: sqlite3.Connection) -> bool:
    """A post cache whose stamps can be read, and the query that reads entries cannot."""
    if fails(db, "SELECT file, stamp, key FROM files"):
        return False
    keys = posts_keys(db)
    marks = ",".join("?" * len(keys))
    return fails(db, f"SELECT key, entry, crc, digest FROM posts WHERE key IN ({marks})", *keys)


def stamps(db: sqlite3.Connection) -> bool:
    """A post cache whose stamps cannot be read."""
    return fails(db, "SELECT file, stamp, key FROM files")


def items(db: sqlite3.Connection) -> bool:
    """A feed cache whose heads and index of (id, key) can be read, and some item cannot."""
    if fails(db, "SELECT id, key FROM items") or fails(db, "SELECT * FROM heads"):
        return False
    ids = [post_id for (post_id,) in db.execute("SELECT id FROM items")]
    return any(fails(db, "SELECT * FROM items WHERE id = ?", i) for i in ids)


def heads(db: sqlite3.Connection) -> bool:
    """A feed cache whose index of (id, key) can be read, and its heads cannot."""
    return not fails(db, "SELECT id, key FROM items") and fails(db, "SELECT * FROM heads")
