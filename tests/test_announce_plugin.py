"""Adding an announcement platform is one adapter module plus one entry point (and, if the
default message does not suit it, one template): config validation, runs, dry runs and
the preview page's mock-up all come from the adapter's declarations."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from fakes.harness import announce
from fakes.posts import make_post, target

from publisher.announce import registry
from publisher.announce.options import parse_target_options
from publisher.preview import platforms
from publisher.preview.unfurl import Picture, read_meta, unfurl

PLUGIN = """
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from publisher.announce.contract import REQUIRED, Announcer, Receipt, TextLimit
from publisher.announce.linkpreview import Cut, LinkPreview
from publisher.schema import Field, choice


class PigeonAnnouncer(Announcer):
    kind = "pigeon"
    limit = TextLimit(140, "graphemes")
    idempotent = True
    needs_live_page = False
    options: ClassVar[dict[str, Any]] = {
        "loft": REQUIRED,
        "ring": Field(choice("blue", "red"), default="blue"),
    }
    link_preview = LinkPreview(key="pigeon", name="Pigeon post", title_cut=Cut(max=20))

    def payload(self, announcement):
        return {"ring": self.config["ring"], "note": announcement.text, "key": announcement.key}

    def announce(self, announcement, session):
        loft = Path(self.config["loft"])
        with loft.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(self.payload(announcement)) + "\\n")
        return Receipt(target=self.name, post_id=announcement.post.id, remote_id="coo")
"""


@pytest.fixture
def pigeon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The plugin as a third party ships it: its module, and its entry point."""
    (tmp_path / "pigeon_post.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    point = EntryPoint(name="pigeon", value="pigeon_post:PigeonAnnouncer", group=registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [point])
    registry.references.cache_clear()
    registry.announcer_class.cache_clear()
    yield
    registry.references.cache_clear()
    registry.announcer_class.cache_clear()
    sys.modules.pop("pigeon_post", None)


@pytest.mark.usefixtures("pigeon")
def test_its_options_are_validated_from_its_declaration() -> None:
    assert "pigeon" in registry.kinds() and "pigeon" not in registry.builtin_kinds()
    options, problems = parse_target_options("pigeon", {"loft": "l.jsonl", "rnig": "red"})
    assert options["ring"] == "blue"
    assert problems == ["announce.targets[0].rnig: unknown key; did you mean 'ring'?"]
    assert parse_target_options("pigeon", {})[1] == ["announce.targets[0].loft: required"]
    wrong = parse_target_options("pigeon", {"loft": "l.jsonl", "ring": "green"})
    assert wrong[1] == ["announce.targets[0].ring: must be one of blue, red, not 'green'"]


@pytest.mark.usefixtures("pigeon")
def test_it_announces_each_post_once(tmp_path: Path) -> None:
    loft = tmp_path / "loft.jsonl"
    config = target("coop", "pigeon", {"loft": str(loft), "max_per_run": 10})
    state = tmp_path / "state"
    announce([config], [], state)  # the baseline
    dry = announce([config], [make_post(1)], state, dry_run=True)
    assert [d.result for d in dry.decisions] == ["would_send"]
    assert dry.decisions[0].payload is not None and not loft.exists()
    for _ in range(2):
        report = announce([config], [make_post(1), make_post(2)], state)
    assert report.sent == 0  # the second run: both already sent
    sent = [json.loads(line) for line in loft.read_text(encoding="utf-8").splitlines()]
    assert len(sent) == 2 and all(s["ring"] == "blue" for s in sent)
    assert all("Post number" in s["note"] for s in sent)  # the default template


@pytest.mark.usefixtures("pigeon")
def test_the_preview_draws_its_link_preview() -> None:
    drawn = {p.key: p for p in platforms.registered_platforms()}
    assert drawn["pigeon"].name == "Pigeon post" and "facebook" in drawn
    meta = read_meta(
        '<meta property="og:title" content="A title that is far too long for a pigeon">'
        '<meta property="og:url" content="https://blog.example.org/a/">'
    )
    picture = Picture(src="a.webp", width=1200, height=630, bytes=9_000, mime="image/jpeg", alt="A")
    mockup = unfurl(meta, picture, drawn["pigeon"])
    assert mockup.title == "A title that is far…" and mockup.title_cut
