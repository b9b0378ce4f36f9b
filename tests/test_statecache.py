"""The state folder's one cache policy (publisher/statecache.py), and the card render cache
that follows it (publisher/cards/cache.py); the post and feed caches have their own tests
(test_posts.py, test_feeds.py). Real SQLite files in a temporary folder."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from publisher import statecache
from publisher.cards.cache import CACHE_FILE, RenderCache
from publisher.cards.render import Note, Rendered

SCHEMA = ("CREATE TABLE IF NOT EXISTS rows (key TEXT PRIMARY KEY, value BLOB)",)


def put(db: sqlite3.Connection, *keys: str) -> None:
    with db:
        db.executemany("INSERT INTO rows VALUES (?, ?)", [(k, b"v") for k in keys])


def keys(db: sqlite3.Connection) -> list[str]:
    return sorted(k for (k,) in db.execute("SELECT key FROM rows"))


def test_a_dry_run_creates_nothing_and_reads_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "state" / "x.sqlite"
    assert statecache.open_cache(path, SCHEMA, 1, readonly=True) is None
    assert not (tmp_path / "state").exists()
    db = statecache.open_cache(path, SCHEMA, 1, readonly=False)
    assert db is not None
    put(db, "a")
    db.close()
    before = sorted(p.name for p in path.parent.iterdir())
    ro = statecache.open_cache(path, SCHEMA, 1, readonly=True)
    assert ro is not None and keys(ro) == ["a"]
    with pytest.raises(sqlite3.OperationalError):
        put(ro, "b")
    ro.close()
    assert sorted(p.name for p in path.parent.iterdir()) == before


@pytest.mark.parametrize("damage", [b"not a database", b"SQLite format 3\x00" + bytes(100)])
def test_a_damaged_file_is_rebuilt_and_left_alone_by_a_dry_run(
    tmp_path: Path, damage: bytes
) -> None:
    path = tmp_path / "x.sqlite"
    path.write_bytes(damage)
    assert statecache.open_cache(path, SCHEMA, 1, readonly=True) is None
    assert path.read_bytes() == damage
    db = statecache.open_cache(path, SCHEMA, 1, readonly=False)
    assert db is not None and keys(db) == []
    db.close()


def test_a_file_of_another_layout_is_emptied(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    old = sqlite3.connect(path)
    with old:
        old.execute("CREATE TABLE rows (key TEXT, other TEXT)")
        old.execute("CREATE TABLE gone (x)")
        old.execute("CREATE INDEX gone_x ON gone (x)")
    old.close()
    assert statecache.open_cache(path, SCHEMA, 2, readonly=True) is None  # not read
    db = statecache.open_cache(path, SCHEMA, 2, readonly=False)
    assert db is not None
    tables = sorted(n for (n,) in db.execute("SELECT name FROM sqlite_master"))
    assert tables == ["rows", "sqlite_autoindex_rows_1"]
    assert db.execute("PRAGMA user_version").fetchone() == (2,)
    put(db, "a")  # the new layout
    db.close()


def test_a_file_another_build_holds_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    db = statecache.open_cache(path, SCHEMA, 1, readonly=False)
    assert db is not None
    put(db, "a")
    db.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert statecache.open_cache(path, SCHEMA, 1, readonly=False, timeout=0.05) is None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    again = statecache.open_cache(path, SCHEMA, 1, readonly=False)
    assert again is not None and keys(again) == ["a"]  # not deleted as damaged
    again.close()


def test_drop_unused_keeps_only_what_the_build_asked_for(tmp_path: Path) -> None:
    db = statecache.open_cache(tmp_path / "x.sqlite", SCHEMA, 1, readonly=False)
    assert db is not None
    put(db, "a", "b", "c")
    with db:
        statecache.drop_unused(db, "rows", "key", ["b", "z"])
    assert keys(db) == ["b"]
    db.close()


def test_the_code_version_changes_with_the_code(tmp_path: Path) -> None:
    source = tmp_path / "stage.py"
    source.write_text("x = 1\n")
    first = statecache.code_version([source], ("lxml",))
    assert statecache.code_version([source], ("lxml",)) == first
    assert statecache.code_version([source], ("lxml", "nh3")) != first
    source.write_text("x = 2\n")
    assert statecache.code_version([source], ("lxml",)) != first


# --- the card render cache ---------------------------------------------------------------------


def card(data: bytes) -> Rendered:
    return Rendered(
        data=data,
        format="jpeg",
        width=1200,
        height=630,
        layout="hero",
        alt="A card",
        text_box=(1, 2, 3, 4),
        notes=(Note(field="ogImage", message="small", fix="use a bigger one"),),
        rule="chosen",
    )


def test_cards_are_kept_and_a_full_build_drops_the_ones_it_did_not_ask_for(
    tmp_path: Path,
) -> None:
    cache = RenderCache(tmp_path)
    cache.put("k1", card(b"one"))
    cache.put("k2", card(b"two"))
    cache.save({"p1": {"tool": "t"}, "p2": {"tool": "t"}})
    cache.close()
    again = RenderCache(tmp_path)
    assert again.get("k1") == card(b"one")
    assert again.previous_inputs == {"p1": {"tool": "t"}, "p2": {"tool": "t"}}
    again.save(None)  # not a full build (one card): nothing dropped
    again.close()
    third = RenderCache(tmp_path)
    assert third.get("k2") == card(b"two")
    third.close()
    fourth = RenderCache(tmp_path)
    assert fourth.get("k2") is not None
    fourth.save({"p2": {"tool": "t"}})  # a full build that asked only for k2
    fourth.close()
    fifth = RenderCache(tmp_path)
    assert (fifth.get("k1"), fifth.get("k2")) == (None, card(b"two"))
    fifth.close()


def test_the_card_cache_in_a_dry_run_reads_only(tmp_path: Path) -> None:
    dry = RenderCache(tmp_path, readonly=True)
    dry.put("k", card(b"x"))
    dry.save({"p": {}})
    assert list(tmp_path.iterdir()) == []
    real = RenderCache(tmp_path)
    real.put("k", card(b"x"))
    real.close()
    before = (tmp_path / CACHE_FILE).read_bytes()
    dry = RenderCache(tmp_path, readonly=True)
    assert dry.get("k") == card(b"x")
    dry.put("k2", card(b"y"))
    dry.close()
    assert (tmp_path / CACHE_FILE).read_bytes() == before


def test_a_bad_card_row_is_a_miss_and_a_damaged_file_is_rebuilt(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path)
    cache.put("k", card(b"x"))
    cache.close()
    db = sqlite3.connect(tmp_path / CACHE_FILE)
    with db:
        db.execute("UPDATE cards SET data = ?", (b"changed",))
    db.close()
    cache = RenderCache(tmp_path)
    assert cache.get("k") is None  # the bytes no longer match their hash
    cache.close()
    (tmp_path / CACHE_FILE).write_bytes(b"garbage")
    cache = RenderCache(tmp_path)
    assert cache.get("k") is None
    cache.put("k", card(b"x"))
    cache.close()
    assert RenderCache(tmp_path).get("k") == card(b"x")


def test_the_digest_of_a_source_is_remembered_by_size_and_mtime(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"png")
    cache = RenderCache(tmp_path / "state")
    first = cache.digest(image)
    cache.save(None)
    cache.close()
    again = RenderCache(tmp_path / "state")
    assert again._digests[str(image)][-1] == first  # read back from the file
    image.write_bytes(b"other")
    assert again.digest(image) != first


def test_the_old_card_folder_is_removed_by_a_real_build_only(tmp_path: Path) -> None:
    legacy = tmp_path / "cards" / "ab"
    legacy.mkdir(parents=True)
    (legacy / "ab12.bin").write_bytes(b"old")
    RenderCache(tmp_path, readonly=True).close()
    assert legacy.exists()
    RenderCache(tmp_path).close()
    assert not (tmp_path / "cards").exists()


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL statement the connections statecache opens from now on run, in order
    (SQLite's own trace of each connection)."""
    run: list[str] = []
    connect = sqlite3.connect

    def traced(*args: object, **kwargs: object) -> sqlite3.Connection:
        db = connect(*args, **kwargs)  # type: ignore[arg-type]
        db.set_trace_callback(run.append)
        return db

    monkeypatch.setattr(statecache.sqlite3, "connect", traced)
    return run


def test_a_file_is_laid_out_in_one_transaction(tmp_path: Path, statements: list[str]) -> None:
    # Python's sqlite3 runs DDL and PRAGMA statements outside any transaction, each then
    # committed and synced on its own: a new cache file cost four synced commits (76 to
    # 44 syncs in a cold build, one before the read workers start: issue 12).
    schema = (*SCHEMA, "CREATE INDEX IF NOT EXISTS rows_value ON rows (value)")
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as db:  # another layout: emptied, laid out again
        db.execute("CREATE TABLE stale (x)")
        db.execute("PRAGMA user_version = 1")
    db.close()
    for path in (tmp_path / "new.sqlite", old):
        statements.clear()
        db = statecache.open_cache(path, schema, 2, readonly=False)
        assert db is not None
        db.close()
        begin = statements.index("BEGIN IMMEDIATE")
        commit = statements.index("COMMIT")
        inside = statements[begin:commit]
        assert "PRAGMA user_version = 2" in inside
        assert all(statement in inside for statement in schema)
        assert statements.count("COMMIT") == 1
        assert not any(
            s.startswith(("CREATE", "DROP", "PRAGMA user_version =")) for s in statements[commit:]
        )
    check = sqlite3.connect(old)
    names = [row[0] for row in check.execute("SELECT name FROM sqlite_master")]
    check.close()
    assert "stale" not in names
    statements.clear()
    db = statecache.open_cache(old, schema, 2, readonly=False)  # laid out: nothing written
    assert db is not None
    db.close()
    assert "COMMIT" not in statements


def test_a_new_file_is_laid_out_unsynced_and_an_existing_one_synced(
    tmp_path: Path, statements: list[str]
) -> None:
    # A file this open creates holds nothing a power loss could take: its layout is not
    # synced (layouts.sqlite and site.sqlite were 2 to 12 ms of a cold build's main
    # process waiting on the disk), and the connection syncs again after it.
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as made:  # another layout: emptied and laid out, synced
        made.execute("CREATE TABLE stale (x)")
    made.close()
    for path, synced in ((tmp_path / "new.sqlite", False), (old, True)):
        statements.clear()
        db = statecache.open_cache(path, SCHEMA, 2, readonly=False)
        assert db is not None
        assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL, as before
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
        put(db, "a")
        db.close()
        begin, commit = statements.index("BEGIN IMMEDIATE"), statements.index("COMMIT")
        if synced:
            assert not any("synchronous = OFF" in s for s in statements)
        else:
            assert "PRAGMA synchronous = OFF" in statements[:begin]
            assert "PRAGMA synchronous = 2" in statements[commit:]
