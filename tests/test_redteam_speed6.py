"""Red team for issue 12's sixth round (the startup, edit, percpu, tail and imports work):
damaged state files, and the state of a build that a change cuts short.

Each test builds a site, gets in the way (a byte of a cache file changed as a bad disk
block changes it, ...), then asks: exit 0 or one clear line, never a traceback, and the
next build's output folder is a cold build's, byte for byte.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from cli_run import publish

from conftest import FEEDS_CONFIG, numbered_site, tree_bytes

NOW = "--now=2025-06-01T00:00:00Z"


def _cold(root: Path, where: Path) -> dict[str, bytes]:
    """A cold build's output folder for the posts and config of ``root``."""
    shutil.copytree(root, where, ignore=shutil.ignore_patterns("public", "state"))
    ran = publish("build", NOW, cwd=where)
    assert ran.returncode == 0, ran.stderr
    return tree_bytes(where / "public")


def _undecodable(path: Path) -> bool:
    """Change one byte of the first table's SQL text in the SQLite file ``path`` so that
    SQLite's message about it is not UTF-8; False when no byte does that."""
    data = path.read_bytes()
    start = data.find(b"CREATE TABLE")
    if start < 0:
        return False
    end = data.find(b")", start)
    for at in range(start + len(b"CREATE TABLE "), end):
        damaged = bytearray(data)
        damaged[at] = 0xF4
        path.write_bytes(bytes(damaged))
        db = sqlite3.connect(path)
        try:
            db.execute("PRAGMA user_version").fetchone()
            db.execute("CREATE TABLE IF NOT EXISTS probe (a)")
        except UnicodeDecodeError:
            return True
        except sqlite3.Error:
            pass
        finally:
            db.close()
    path.write_bytes(data)
    return False


def test_a_cache_whose_schema_is_damaged_so_sqlite_says_so_in_bytes_is_rebuilt(
    tmp_path: Path,
) -> None:
    # A changed byte in a table's SQL text: SQLite reports "malformed database schema"
    # with the text, Python cannot decode that message and raises UnicodeDecodeError, not
    # sqlite3.Error. statecache.open_cache let it through: a traceback, and every build
    # after it failed the same way until the state folder was deleted by hand.
    root = numbered_site(tmp_path / "site", FEEDS_CONFIG, 30)
    assert publish("build", NOW, cwd=root).returncode == 0
    damaged = [
        path.name for path in sorted((root / "state").glob("*.sqlite")) if _undecodable(path)
    ]
    with (root / "posts" / "post-007" / "index.md").open("a", encoding="utf-8") as post:
        post.write("Edited.\n")  # so the build opens its caches (a no-op opens none)
    expected = _cold(root, tmp_path / "cold")
    assert damaged  # the files the test damages: the post, feed, layout and site caches
    ran = publish("build", NOW, cwd=root)
    assert ran.returncode == 0 and "Traceback" not in ran.stderr, (damaged, ran.stderr)
    assert tree_bytes(root / "public") == expected
    again = publish("build", NOW, cwd=root)
    assert again.returncode == 0, again.stderr
    assert tree_bytes(root / "public") == expected
