"""Every field of every payload within its platform's documented limit, counted the
platform's way, for any title, summary and tags (property tests over hostile Unicode).

The limits below are written out from the platforms' documentation, not imported from
the adapters, so an adapter that declares the wrong limit fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes.harness import PLATFORMS, announce, baseline, running
from fakes.platforms_more import MORE_CHECKS, MORE_OPTIONS
from fakes.posts import make_post
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.announce.contract import Announcement, Card
from publisher.announce.registry import BUILTINS, announcer_class
from publisher.announce.render import render_message
from publisher.announce.text import count, shorten
from publisher.errors import AnnounceError

# -- hostile text ----------------------------------------------------------------------

PIECES = [
    "a",
    "Z",
    " ",
    "漢",
    "字",
    "한",
    "ー",
    "e\u0301\u0302\u0303",  # combining marks stacked on one letter
    "\u0301",  # a mark with no base
    "👨\u200d👩\u200d👧\u200d👦",  # ZWJ family: 7 code points, 11 UTF-16 units, 1 grapheme
    "👍🏽",
    "🇩🇪",
    "𝔘",  # astral: 2 UTF-16 units
    "&",
    "<!channel>",
    "<@U024BE7LH>",
    ">",
    "-",
    "\u200b",
]

hostile = st.lists(st.sampled_from(PIECES), max_size=400).map("".join)
#: Long enough to pass every field's limit, with no space anywhere near a cut.
long_runs = st.tuples(st.sampled_from(PIECES), st.integers(1, 5000)).map(lambda p: p[0] * p[1])
texts = st.one_of(hostile, long_runs, st.text(max_size=300))
tags = st.lists(st.sampled_from(["ebpf", "漢字", "service mesh", "👍🏽", "e\u0301"]), max_size=4)

EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- documented limits (unit per field) ------------------------------------------------


def cp(text: str) -> int:
    return len(text)


def utf16(text: str) -> int:
    return count(text, "utf16")


def graphemes(text: str) -> int:
    return count(text, "graphemes")


def nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


Check = Callable[[dict[str, Any]], list[str]]


def over(name: str, value: str, measure: Callable[[str], int], limit: int) -> list[str]:
    n = measure(value)
    return [f"{name}: {n} > {limit} ({measure.__name__})"] if n > limit else []


def no_mention(name: str, value: str) -> list[str]:
    return [f"{name} carries a raw mention"] if re.search(r"<[!@#]", value) else []


def check_discord(p: dict[str, Any]) -> list[str]:
    problems = over("content", p["content"], cp, 2000)
    total = 0
    for embed in p["embeds"]:
        problems += over("embed title", embed.get("title", ""), cp, 256)
        problems += over("embed description", embed.get("description", ""), cp, 4096)
        total += cp(embed.get("title", "")) + cp(embed.get("description", ""))
    if "username" in p:
        problems += over("username", p["username"], cp, 80)
    return problems + (["embeds total over 6000"] if total > 6000 else [])


def check_slack(p: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for block in p["blocks"]:
        if block["type"] == "section":
            for measure in (cp, utf16):  # Slack's "characters" under either reading
                problems += over("section text", block["text"]["text"], measure, 3000)
            problems += no_mention("section text", block["text"]["text"])
        if block["type"] == "image":
            problems += over("alt_text", block["alt_text"], utf16, 2000)
            problems += over("image_url", block["image_url"], utf16, 3000)
    problems += over("fallback text", p["text"], utf16, 3000)
    return problems + no_mention("fallback text", p["text"])


def check_teams(p: dict[str, Any]) -> list[str]:
    size = nbytes(json.dumps(p, ensure_ascii=False))
    problems = [f"message {size} bytes > 28000"] if size > 28_000 else []
    for block in p["attachments"][0]["content"]["body"]:
        if block["type"] == "TextBlock":
            problems += over("TextBlock", block["text"], utf16, 2000)
        if block["type"] == "Image":
            problems += over("altText", block["altText"], utf16, 1000)
    return problems


def check_telegram(p: dict[str, Any]) -> list[str]:
    if "caption" in p:
        return over("caption", p["caption"], utf16, 1024)
    return over("text", p["text"], utf16, 4096) + ([] if p["text"] else ["empty text"])


def check_mastodon(p: dict[str, Any]) -> list[str]:
    n = count(p["status"], "graphemes", url_length=23)
    return [f"status {n} > 500"] if n > 500 else []


def check_bluesky(p: dict[str, Any]) -> list[str]:
    record = p["record"]
    external = record["embed"]["external"]
    return (
        over("text", record["text"], graphemes, 300)
        + over("text", record["text"], nbytes, 3000)
        + over("card title", external["title"], graphemes, 300)
        + over("card title", external["title"], nbytes, 3000)
        + over("card description", external["description"], graphemes, 1000)
        + over("card description", external["description"], nbytes, 3000)
    )


def check_matrix(p: dict[str, Any]) -> list[str]:
    content = json.dumps(p, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # 65536 for the whole event; leave room for the envelope and signatures.
    return over("body", p["body"], nbytes, 16000) + over("content", content, nbytes, 60000)


def check_webhook(p: dict[str, Any]) -> list[str]:
    return over("data.text", p["data"]["text"], cp, 10000)


def check_outbox(p: dict[str, Any]) -> list[str]:
    return over("text", p["text"], graphemes, 5000)


CHECKS: dict[str, Check] = {
    "discord": check_discord,
    "slack": check_slack,
    "teams": check_teams,
    "telegram": check_telegram,
    "mastodon": check_mastodon,
    "bluesky": check_bluesky,
    "matrix": check_matrix,
    "webhook": check_webhook,
    "outbox": check_outbox,
    **MORE_CHECKS,
}

OPTIONS: dict[str, dict[str, Any]] = {
    "discord": {"username": "漢" * 100},
    "mastodon": {"instance": "https://example.social"},
    "bluesky": {"handle": "blog.example.org"},
    "telegram": {"chat_id": "1"},
    "matrix": {"homeserver": "https://m.example.org", "room_id": "!r:example.org"},
    "outbox": {"path": "out.jsonl"},
    **MORE_OPTIONS,
}


def test_every_kind_is_checked() -> None:
    assert set(CHECKS) == set(BUILTINS)


def build(kind: str, title: str, summary: str, tag_list: list[str], alt: str) -> dict[str, Any]:
    """The payload a real run would send: the message rendered to the adapter's budget."""
    announcer = announcer_class(kind)(kind, OPTIONS.get(kind, {}))
    post = make_post(1, title=title or "x", summary=summary, tags=tuple(tag_list))
    rendered = render_message(announcer, post, announcer.text_limit(None))
    announcement = Announcement(
        post=post,
        target=kind,
        text=rendered.text,
        # The whole title and summary: harsher than run.py, which passes the rendered cuts.
        title=post.title,
        summary=post.summary or "",
        url=post.url,
        card=Card(url="https://blog.example.org/card.jpg", alt=alt),
        key="k",
        created_at=post.date,
    )
    return announcer.payload(announcement)


@pytest.mark.parametrize("kind", sorted(CHECKS))
@EXAMPLES
@given(title=texts, summary=texts, tag_list=tags, alt=texts)
def test_no_field_exceeds_its_documented_limit(
    kind: str, title: str, summary: str, tag_list: list[str], alt: str
) -> None:
    try:
        payload = build(kind, title, summary, tag_list, alt)
    except AnnounceError as exc:
        # Only allowed when the link itself cannot fit: said in one clear line.
        assert "cannot fit" in str(exc)
        return
    assert CHECKS[kind](payload) == []


@pytest.mark.parametrize(
    ("kind", "title", "summary"),
    [
        ("discord", "漢" * 257, "s"),
        ("discord", "e\u0301" * 1793, "s"),  # 1,793 graphemes, 3,586 code points
        ("discord", "x", "字" * 4097),
        ("slack", "<!channel> " * 400, "<@U1> " * 700),
        ("telegram", "𝔘" * 600, "👨\u200d👩\u200d👧" * 300),
        ("teams", "한" * 9000, "漢" * 9000),
        ("bluesky", "👍🏽" * 400, "e\u0301" * 2000),
        ("matrix", "&" * 9000, "<" * 9000),
    ],
    ids=[
        "discord-257",
        "discord-1793",
        "discord-4097",
        "slack",
        "telegram",
        "teams",
        "bluesky",
        "matrix",
    ],
)
def test_the_measured_overflows_now_fit(kind: str, title: str, summary: str) -> None:
    """The sizes the issue's author saw refused on every run."""
    assert CHECKS[kind](build(kind, title, summary, [], "alt")) == []


# -- shorten ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    text=texts,
    budget=st.integers(0, 400),
    unit=st.sampled_from(["graphemes", "chars", "utf16", "bytes"]),
)
def test_shorten_never_exceeds_the_budget_in_its_unit(text: str, budget: int, unit: Any) -> None:
    cut = shorten(text, budget, unit=unit)
    assert count(cut, unit) <= budget
    if count(text, unit) <= budget:
        assert cut == text
    else:
        # A prefix of the text, cut between graphemes, plus the ellipsis.
        assert text.startswith(cut.removesuffix("…"))


def test_shorten_without_a_space_near_the_cut_stays_within_the_budget() -> None:
    assert shorten("漢" * 300, 256, unit="chars") == "漢" * 255 + "…"
    assert len(shorten("e\u0301" * 300, 256, unit="chars")) <= 256
    assert shorten("👨\u200d👩\u200d👧" * 10, 12, unit="utf16") == "👨\u200d👩\u200d👧…"
    assert shorten("abc", 0) == "" and shorten("abcdef", 2, unit="bytes") == "ab"


@pytest.mark.parametrize(
    ("kind", "title", "summary"),
    [
        ("discord", "漢" * 257, "s"),
        ("discord", "e\u0301" * 1793, "字" * 4097),
        ("slack", "<!channel> " * 400, "<@U1> " * 700),
        ("telegram", "𝔘" * 600, "👨\u200d👩\u200d👧" * 300),
        ("teams", "한" * 9000, "漢" * 9000),
        ("bluesky", "👍🏽" * 400, "e\u0301" * 2000),
        ("matrix", "&" * 9000, "<" * 9000),
    ],
    ids=["discord-257", "discord-1793-4097", "slack", "telegram", "teams", "bluesky", "matrix"],
)
def test_the_measured_overflows_are_accepted_by_the_fakes(
    kind: str, title: str, summary: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent for real to fakes that refuse what the platforms refuse: sent on the first try."""
    platform = next(p for p in PLATFORMS if p.kind == kind)
    state = tmp_path / "state"
    post = make_post(1, title=title, summary=summary)
    with running(platform, monkeypatch) as (fake, config):
        baseline([config], state)
        report = announce(
            [config], [post], state, cards={post.id: Card(url="https://blog.example.org/c.jpg")}
        )
    assert fake.problems == []
    assert [d.result for d in report.decisions] == ["sent"] and len(fake.writes()) == 1
