"""A site in UTC takes ``datetime.UTC`` for its zone, without importing zoneinfo
(``publisher/zones.py``, issue 12): its outputs are those of the same zone as zoneinfo
gives it. (That a one-post build of it loads no zoneinfo: tests/test_build_imports.py.)"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

from build_process import publish_build

from conftest import FEEDS_CONFIG, tree_bytes
from publisher.zones import zone

#: Dates as posts write them: a day (in the site's zone), a time without an offset (the
#: site's zone too, through dateutil), with an offset, in UTC, and one with a zone's name.
DATES = (
    "2024-03-31",
    "2024-03-31 01:30:00",
    "2024-10-27T02:30:00+02:00",
    "2024-06-01T12:00:00Z",
    "Sat, 02 Nov 2024 09:15:00 GMT",
)


def _site(root: Path, timezone: str) -> Path:
    root.mkdir(parents=True)
    config = FEEDS_CONFIG.replace("timezone: UTC", f"timezone: {timezone}")
    assert config != FEEDS_CONFIG or timezone == "UTC"
    (root / "config.yaml").write_text(config, encoding="utf-8")
    for i, date in enumerate(DATES):
        folder = root / "posts" / f"post-{i}"
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(
            f"---\ntitle: Post {i}\ndate: '{date}'\nupdated: '{DATES[-1 - i]}'\n---\nBody {i}.\n",
            encoding="utf-8",
        )
    return root


def _published(root: Path) -> dict[str, bytes]:
    done = publish_build(root, "--now", "2025-01-01T00:00:00Z")
    assert done.returncode == 0, done.stderr
    return tree_bytes(root / "public")


def test_the_zone_of_utc_is_datetimes_own() -> None:
    assert zone("UTC") is UTC
    assert zone("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert zone("Etc/UTC") == ZoneInfo("Etc/UTC")  # only the config's default spelling


def test_a_utc_site_publishes_what_zoneinfos_utc_gives(tmp_path: Path) -> None:
    # Etc/UTC is zoneinfo's: the same offsets and names as UTC, so the same bytes.
    ours = _published(_site(tmp_path / "utc", "UTC"))
    zoneinfos = _published(_site(tmp_path / "etc", "Etc/UTC"))
    assert "rss.xml" in ours and "feed.json" in ours
    assert ours == zoneinfos
    berlin = _published(_site(tmp_path / "berlin", "Europe/Berlin"))
    assert berlin != ours  # the dates without an offset moved: the zone was applied
