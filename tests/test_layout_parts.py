"""A file's layout is kept in parts counted from its end (``publisher/layouts.py``): a
build rewrites the parts its change touched, never mixes its parts with another build's,
and a layout whose parts do not fit together is not used."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from publisher.layouts import PART, Layout, LayoutStore

STAMP = (0, 1, 2, 3)


def _layout(keys: list[str], *, separated: bool = False) -> Layout:
    """A feed's layout (empty literals between its items) or posts.json's (separators);
    an item's length follows from its key, as its bytes do."""
    lengths = [len(key) + 3 for key in keys]
    between = [b",\n" if separated else b""] * max(len(keys) - 1, 0)
    literals = [b"<head>", *between, b"</tail>"] if keys else [b"<head></tail>"]
    size = sum(lengths) + sum(map(len, literals))
    return Layout(
        stamp=(size, *STAMP[1:]), keys=tuple(keys), lengths=tuple(lengths), literals=tuple(literals)
    )


def _kept(store: LayoutStore, layout: Layout) -> None:
    store.set("feed.xml", layout)
    store.commit()


def _rowids(path: Path) -> dict[int, int]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT part, rowid FROM files WHERE path = 'feed.xml'"))
    finally:
        db.close()


def test_a_change_rewrites_only_the_parts_it_touched(tmp_path: Path) -> None:
    keys = [f"k{i}" for i in range(5 * PART + 7)]
    store = LayoutStore(tmp_path / "layouts.sqlite")
    first = _layout(keys)
    _kept(store, first)
    assert store.get("feed.xml") == first
    before = _rowids(tmp_path / "layouts.sqlite")
    assert sorted(before) == list(range(6))
    # An item in the middle made again: the one part that holds it.
    keys[2 * PART + 100] = "k-new"
    second = _layout(keys)
    _kept(store, second)
    after = _rowids(tmp_path / "layouts.sqlite")
    # Counted from the end: piece 2 * PART + 100 of 5 * PART + 7 is in part 2.
    assert {part for part in after if after[part] != before.get(part)} == {2}
    assert LayoutStore(tmp_path / "layouts.sqlite", readonly=True).get("feed.xml") == second
    # A new post at the top (a feed is newest first): only the first part.
    top = _layout(["k-top", *keys])
    before = after
    _kept(store, top)
    after = _rowids(tmp_path / "layouts.sqlite")
    assert {part for part in after if after[part] != before.get(part)} == {5}
    assert LayoutStore(tmp_path / "layouts.sqlite", readonly=True).get("feed.xml") == top
    store.close()


def test_two_builds_at_once_never_mix_their_parts(tmp_path: Path) -> None:
    keys = [f"k{i}" for i in range(4 * PART)]
    setup = LayoutStore(tmp_path / "layouts.sqlite")
    base = _layout(keys)
    _kept(setup, base)
    setup.close()
    first = LayoutStore(tmp_path / "layouts.sqlite")
    second = LayoutStore(tmp_path / "layouts.sqlite")
    assert first.get("feed.xml") == base and second.get("feed.xml") == base
    mine, theirs = list(keys), list(keys)
    mine[10] = "k-first"
    theirs[4 * PART - 10] = "k-second"
    one, two = _layout(mine), _layout(theirs)
    _kept(first, one)
    _kept(second, two)  # read before the first wrote: all of its parts, not a mix
    reader = LayoutStore(tmp_path / "layouts.sqlite", readonly=True)
    assert reader.get("feed.xml") == two
    first.close()
    second.close()
    reader.close()


@pytest.mark.parametrize(
    "damage",
    [
        "DELETE FROM files WHERE part = 1",
        # Two parts swapped: each whole, in the other's place.
        "UPDATE files SET part = -1 WHERE part = 0; UPDATE files SET part = 0 WHERE part = 1;"
        " UPDATE files SET part = 1 WHERE part = -1",
        "UPDATE stamps SET parts = parts + 1",
        # The literal bytes of one part moved to its neighbour, their total the same.
        "UPDATE files SET literals = CAST(literals || x'2c' AS BLOB) WHERE part = 1;"
        " UPDATE files SET literals = substr(literals, 2) WHERE part = 0",
        "UPDATE files SET keys = keys || char(10) || 'x' WHERE part = 2",
    ],
)
def test_parts_that_do_not_fit_together_are_not_used(tmp_path: Path, damage: str) -> None:
    store = LayoutStore(tmp_path / "layouts.sqlite")
    good = _layout([f"k{i}" for i in range(3 * PART + 1)], separated=True)
    _kept(store, good)
    assert store.get("feed.xml") == good
    assert store._db is not None
    store._db.executescript(damage)
    assert store.get("feed.xml") is None
    store.close()


def test_random_changes_read_back_as_written(tmp_path: Path) -> None:
    """Items added, removed and made again anywhere, over many builds: each build's
    layout reads back whole, whatever parts it rewrote."""
    rng = random.Random(11)
    store = LayoutStore(tmp_path / "layouts.sqlite")
    keys = [f"k{i}" for i in range(rng.randrange(0, 3 * PART))]
    made = 0
    for _ in range(40):
        for _ in range(rng.randrange(1, 4)):
            made += 1
            change = rng.choice(["add top", "add", "remove", "again"])
            if change == "add top":
                keys.insert(0, f"n{made}")
            elif change == "add":
                keys.insert(rng.randrange(len(keys) + 1), f"n{made}")
            elif keys and change == "remove":
                del keys[rng.randrange(len(keys))]
            elif keys:
                keys[rng.randrange(len(keys))] = f"n{made}"
        layout = _layout(keys, separated=rng.random() < 0.5)
        store.get("feed.xml")  # as a build reads it before writing
        _kept(store, layout)
        assert LayoutStore(tmp_path / "layouts.sqlite", readonly=True).get("feed.xml") == layout
    store.close()
