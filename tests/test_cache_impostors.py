"""A cache row served under another row's key (issue 12's state files, damaged on disk).

A damaged index or rowid can make SQLite answer a lookup of one key with another post's
row, whose bytes and CRCs are intact: a flipped bit in a table cell's rowid can give two
cells one rowid (rowids count up as rows are stored: 386 and 394 differ by one bit). CI
met it once in ``test_redteam_speed9`` (eight random bit flips in ``cache.sqlite``): post
394 got the record of post 386, and every build after stopped on "path URL ... is also
the URL of" (exit 3, "nothing changed"), the damage never cleared. The CRCs now begin with the row's key (and
an item's with its post id): such a row is a miss, parsed or rendered again.

Here the damage is made exactly, with SQL: one key's row is given another row's columns,
CRCs included, as the damaged file serves it. Each build must give a cold build's bytes,
or stop with one line and the next build does (``build_process.settles``).
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from build_process import aged_bench_site, publish_build, settles

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the bench site's build")

POSTS = 8


def _site(tmp_path: Path) -> Path:
    root = aged_bench_site(tmp_path / "site", POSTS)
    ran = publish_build(root)
    assert ran.returncode == 0, ran.stderr
    return root


def _impostor(database: Path, table: str, key: str, columns: tuple[str, ...]) -> None:
    """The row of the second key (in rowid order: post 6 of 0 to 7) takes ``columns``
    from the fifth's (post 3)."""
    with sqlite3.connect(database) as db:
        keys = [k for (k,) in db.execute(f"SELECT {key} FROM {table} ORDER BY rowid")]
        taken, given = keys[1], keys[4]
        values = db.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE {key} = ?", (given,)
        ).fetchone()
        assert values is not None and None not in values
        assignments = ", ".join(f"{column} = ?" for column in columns)
        db.execute(f"UPDATE {table} SET {assignments} WHERE {key} = ?", (*values, taken))
    db.close()


def _add_json_feed(root: Path) -> None:
    """A new format: every post is read from the post cache and its body rendered."""
    config = root / "config.yaml"
    config.write_text(
        config.read_text().replace("formats: [rss, atom]", "formats: [rss, atom, json]")
    )


def _no_op(root: Path) -> None:
    again = publish_build(root)
    assert again.returncode == 0, again.stderr
    assert "nothing changed since the last build" in again.stderr


@pytest.mark.parametrize(
    "columns",
    [
        ("entry", "crc", "digest", "markdown", "html", "body_crc"),  # the whole row
        ("markdown", "html", "body_crc"),  # the body alone, under the right entry
    ],
    ids=["row", "body"],
)
def test_a_post_cache_row_under_another_key_is_never_used(
    tmp_path: Path, columns: tuple[str, ...]
) -> None:
    root = _site(tmp_path)
    _impostor(root / ".publisher" / "cache.sqlite", "posts", "key", columns)
    _add_json_feed(root)
    settles(root, publish_build(root), f"post cache {columns[0]}")
    _no_op(root)


def test_a_feed_item_under_another_post_id_is_never_used(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _impostor(
        root / ".publisher" / "feeds.sqlite",
        "items",
        "id",
        ("rss", "rss_crc", "atom", "atom_crc"),
    )
    # No layout to splice from: each feed is written whole, from the cached items of the
    # posts that did not change.
    (root / ".publisher" / "layouts.sqlite").unlink()
    with (root / "posts" / "post-00000" / "index.md").open("a", encoding="utf-8") as handle:
        handle.write("\nEdited after the damage.\n")
    settles(root, publish_build(root), "feed item")
    _no_op(root)
