"""Adapters are registered by entry points alone: the built-ins are pyproject.toml's, read
from the source tree when there is one (so stale installed metadata cannot hide a new
adapter), and a plugin adds kinds without replacing a built-in one."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from conftest import REPO
from publisher.announce import registry
from publisher.announce.contract import Announcer

DECLARED = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "entry-points"
][registry.GROUP]


@pytest.fixture
def fresh() -> Iterator[None]:
    registry.references.cache_clear()
    registry.announcer_class.cache_clear()
    yield
    registry.references.cache_clear()
    registry.announcer_class.cache_clear()


def _entry_points(*pairs: tuple[str, str]) -> object:
    points = [EntryPoint(name=n, value=v, group=registry.GROUP) for n, v in pairs]
    return lambda group: points if group == registry.GROUP else []


def test_the_builtins_are_the_entry_points_pyproject_declares() -> None:
    assert registry.builtin_kinds() == tuple(sorted(DECLARED))
    for kind in DECLARED:
        cls = registry.announcer_class(kind)
        assert issubclass(cls, Announcer) and cls.kind == kind


def test_every_adapter_module_is_registered() -> None:
    folder = REPO / "publisher" / "announce" / "adapters"
    registered = {ref.split(":")[0].rsplit(".", 1)[1] for ref in DECLARED.values()}
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    helpers = {"oauth1", "bluesky_session"}  # shared by adapters, not adapters themselves
    assert modules - helpers == registered


def test_a_source_tree_needs_no_installed_metadata(
    fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "entry_points", _entry_points())
    assert registry.builtin_kinds() == tuple(sorted(DECLARED))


def test_an_installed_package_reads_its_metadata(
    fresh: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(registry, "PYPROJECT", tmp_path / "absent.toml")
    monkeypatch.setattr(registry, "entry_points", _entry_points(("slack", DECLARED["slack"])))
    assert registry.kinds() == ("slack",)


def test_a_plugin_adds_a_kind_but_cannot_replace_a_builtin(
    fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = ("slack", "elsewhere.module:Impostor"), ("pigeon", "pigeon_post:PigeonAnnouncer")
    monkeypatch.setattr(registry, "entry_points", _entry_points(*plugin))
    assert registry.references()["slack"] == DECLARED["slack"]
    assert registry.references()["pigeon"] == "pigeon_post:PigeonAnnouncer"
    assert "pigeon" in registry.kinds() and "pigeon" not in registry.builtin_kinds()
