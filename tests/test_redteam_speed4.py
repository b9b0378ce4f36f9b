"""Red team for issue 12's fourth session: the shortcuts four branches added (a cheaper
frontmatter reader and sanitizer skip, feed files written by the read workers, spliced
files written by a thread, a stored resolved config) must give what the general path
gives, byte for byte, and a build after anything must equal a build from nothing.

Each test is a hole found by an attack on one of them, written first against the code
before the shortcut (where it passes) and kept as the check that the shortcut is right.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_run import publish
from lxml import etree

from conftest import FEEDS_CONFIG, Site, tree_bytes

NOW = "--now=2025-06-01T00:00:00Z"


def _build(root: Path, *args: str) -> str:
    ran = publish("build", NOW, *args, cwd=root)
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.returncode == 0, ran.stderr
    return ran.stderr


def _cold(root: Path, where: Path, *args: str) -> dict[str, bytes]:
    """The output folder a build from nothing makes of ``root``'s config and posts."""
    shutil.copytree(root, where, ignore=shutil.ignore_patterns("public", "state"))
    _build(where, "--jobs", "1", *args)
    return tree_bytes(where / "public")


def test_an_empty_list_item_is_closed_in_the_feed_as_the_sanitizer_closes_it(site: Site) -> None:
    # libxml2 writes an empty <li> without its end tag when the body's links are made
    # absolute; nh3 closes it. A feed item that skips nh3 for "prose" must not keep it open.
    site.config(FEEDS_CONFIG)
    site.post(
        "p",
        "title: Lists\ndate: 2024-01-02",
        "- first\n-\n- [third](https://example.org/x)\n\n1.\n2. [two](other/)\n",
    )
    _build(site.root)
    rss = etree.fromstring((site.root / "public" / "rss.xml").read_bytes())
    json_feed = json.loads((site.root / "public" / "feed.json").read_bytes())
    for html in (rss.findtext("channel/item/description"), json_feed["items"][0]["content_html"]):
        assert html.count("<li>") == html.count("</li>") == 5, html


def _record_damaged(state: Path, damage: Callable[[dict[str, Any]], None]) -> None:
    """inputs.json still JSON, with ``damage`` done to the config a build may keep in it
    (as a flipped byte or a hand edit leaves it); nothing when none is kept."""
    record = state / "inputs.json"
    data = json.loads(record.read_text(encoding="utf-8"))
    kept = (data.get("fast") or {}).get("stored")
    if kept is not None:
        damage(kept["config"]["fields"])
        record.write_text(json.dumps(data), encoding="utf-8")


def _title(fields: dict[str, Any]) -> None:
    fields["site"]["fields"]["title"] = "Blxg"


def _folder(fields: dict[str, Any]) -> None:
    fields["posts"]["fields"]["folder"] = 5


def _url(fields: dict[str, Any]) -> None:
    fields["site"]["fields"]["url"] = None


@pytest.mark.parametrize("damage", [_title, _folder, _url])
def test_a_damaged_kept_config_is_no_config(
    site: Site, tmp_path: Path, judged_by_stat: None, damage: Callable[[dict[str, Any]], None]
) -> None:
    # A plain `publish build` (no --now: the fast path runs) after a post is edited may
    # take the config the last build kept in its record instead of loading config.yaml.
    site.config(FEEDS_CONFIG)
    for n in range(3):
        site.post(f"p{n}", f"title: Post {n}\ndate: 2024-01-0{n + 1}", f"Body {n}.\n")
    assert publish("build", cwd=site.root, terminal=True).returncode == 0
    _record_damaged(site.root / "state", damage)
    site.post("p1", "title: Post 1\ndate: 2024-01-02", "Body 1, edited.\n")
    ran = publish("build", cwd=site.root, terminal=True)
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.returncode == 0, ran.stderr
    built = tree_bytes(site.root / "public")
    assert b"Blxg" not in built["rss.xml"]
    assert built == _cold(site.root, tmp_path / "cold")


@pytest.mark.parametrize("name", ["inputs.json", "outputs.json"])
def test_a_state_file_damaged_into_deep_nesting_is_no_record(
    site: Site, tmp_path: Path, name: str
) -> None:
    # Still "JSON" to the first byte the parser reads, too deep for its recursion: as
    # unreadable as any other damage (a full build, a warning), not a traceback.
    site.config(FEEDS_CONFIG)
    site.post("p", "title: Post\ndate: 2024-01-02", "Body.\n")
    assert publish("build", cwd=site.root, terminal=True).returncode == 0
    (site.root / "state" / name).write_text("[" * 100_000, encoding="utf-8")
    site.post("q", "title: Another\ndate: 2024-01-03", "Body.\n")
    ran = publish("build", cwd=site.root, terminal=True)
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.returncode == 0, ran.stderr
    assert tree_bytes(site.root / "public") == _cold(site.root, tmp_path / "cold")
