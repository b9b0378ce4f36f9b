"""What adding a built-in platform takes, held to what docs/announce.md says it takes.

Tried for issue 15 by adding a ``carrier`` adapter (POST JSON to a URL) in a scratch copy
of the tree: its module, its entry point in pyproject.toml and its template were enough
for ``publish check``, ``--dry-run``, a real announce to a fake on 127.0.0.1, a second run
that sent nothing, and the preview page. The test suite then asked for six more places,
each listed in the docs' table of files to touch; this module checks that the table lists
every one of them, and that a new kind cannot skip the fake-platform table the docs say
every adapter passes (nothing else would notice it missing).
"""

from __future__ import annotations

import importlib.util

from fakes.harness import PLATFORMS
from fakes.platforms_more import MORE_PLATFORMS

from conftest import REPO
from publisher.announce.registry import builtin_kinds

DOC = (REPO / "docs" / "announce.md").read_text(encoding="utf-8")
#: Kinds that speak to no server, so no fake platform: the outbox appends to a file.
OFFLINE = {"outbox"}


def _files_to_touch() -> set[str]:
    section = DOC.split("## Adding a platform", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {row.split("`")[1] for row in rows}


def test_every_builtin_kind_has_a_row_in_the_fake_platform_table() -> None:
    covered = {platform.kind for platform in [*PLATFORMS, *MORE_PLATFORMS]}
    missing = set(builtin_kinds()) - covered - OFFLINE
    if importlib.util.find_spec("apprise") is None:
        missing.discard("apprise")  # an optional extra: its row runs where it is installed
    assert not missing, f"no fake platform row (tests/fakes/platforms_more.py) for {missing}"


def test_the_docs_list_every_file_a_new_builtin_kind_is_checked_in() -> None:
    # Each of these has a test that fails for a kind it does not name (found by adding one).
    assert _files_to_touch() >= {
        "publisher/announce/adapters/<kind>.py",
        "pyproject.toml",
        "templates/announce/<kind>.j2",
        "docs/announce.md",
        "README.md",
        "tests/fakes/platforms/<kind>.py",
        "tests/fakes/platforms_more.py",
        "tests/test_announce_readback.py",
    }
