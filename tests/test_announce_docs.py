"""docs/announce.md documents every target kind, every option and every decision reason."""

from __future__ import annotations

import typing

from conftest import REPO
from publisher.announce import announcer_class, kinds
from publisher.announce.options import COMMON, LOADER_KEYS
from publisher.announce.plan import Reason

DOC = (REPO / "docs" / "announce.md").read_text(encoding="utf-8")


def test_every_kind_and_its_options_are_documented() -> None:
    for kind in kinds():
        assert f"### `{kind}`" in DOC, kind
        for key in announcer_class(kind).options:
            assert f"| `{key}` |" in DOC, f"{kind}.{key}"


def test_every_common_option_is_documented() -> None:
    for key in [*COMMON, *LOADER_KEYS]:
        assert f"| `{key}` |" in DOC, key


def test_every_reason_is_documented() -> None:
    for reason in typing.get_args(Reason):
        assert f"| `{reason}` |" in DOC, reason


def test_every_kind_has_a_template() -> None:
    for kind in kinds():
        assert (REPO / "templates" / "announce" / f"{kind}.j2").is_file(), kind
