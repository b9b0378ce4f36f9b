"""statecache.installed_version gives what importlib.metadata.version gives (the cache keys
name library versions; importing importlib.metadata cost every build ~35 ms)."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest

from publisher.statecache import code_version, installed_version

#: Every library a cache key names (posts/cache.py, feeds/cache.py), and a few others.
LIBRARIES = ("cmarkgfm", "lxml", "PyYAML", "ftfy", "feedgen", "nh3", "Pillow", "click")


def _metadata(name: str, path: list[str] | None = None) -> str | None:
    try:
        if path is None:
            return importlib.metadata.version(name)
        found = list(importlib.metadata.distributions(name=name, path=path))
        return found[0].version if found else None
    except importlib.metadata.PackageNotFoundError:
        return None


@pytest.mark.parametrize("name", [*LIBRARIES, "pyyaml", "PILLOW", "typing-extensions"])
def test_the_installed_libraries_have_importlib_metadatas_version(name: str) -> None:
    assert installed_version(name) == _metadata(name)
    assert installed_version(name) is not None or name not in LIBRARIES


def test_a_package_that_is_not_installed_has_none() -> None:
    assert installed_version("no-such-package-here") is None
    assert _metadata("no-such-package-here") is None


def _dist(folder: Path, name: str, metadata: str, text: str) -> None:
    folder.joinpath(name).mkdir(parents=True)
    folder.joinpath(name, metadata).write_text(text, encoding="utf-8")


def test_dist_info_and_egg_info_folders_along_a_path(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(first, "Fancy_Lib-2.0.dist-info", "METADATA", "Name: Fancy-Lib\nVersion: 2.0\n\nBody\n")
    _dist(second, "fancy.lib-1.0.dist-info", "METADATA", "Name: fancy.lib\nVersion: 1.0\n")
    _dist(second, "old_thing-0.3-py3.11.egg-info", "PKG-INFO", "Version: 0.3\n")
    # "Version:" after the headers is body text, not the version.
    _dist(second, "odd-9.dist-info", "METADATA", "Name: odd\n\nVersion: 9\n")
    path = [str(tmp_path / "missing"), str(first), str(second)]
    for name in ("fancy-lib", "Fancy_Lib", "FANCY.LIB", "old-thing", "odd", "absent"):
        assert installed_version(name, path) == _metadata(name, path), name
    assert installed_version("fancy.lib", path) == "2.0"  # the first folder wins
    assert installed_version("fancy.lib", path[2:]) == "1.0"
    assert installed_version("old_thing", path) == "0.3"


def test_code_version_changes_with_a_library_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    _dist(site, "libx-1.0.dist-info", "METADATA", "Version: 1.0\n")
    monkeypatch.setattr(sys, "path", [str(site)])
    before = code_version([], ("libx",))
    (site / "libx-1.0.dist-info" / "METADATA").write_text("Version: 1.1\n", encoding="utf-8")
    assert code_version([], ("libx",)) != before
    assert code_version([], ("libx",)) != code_version([], ())
