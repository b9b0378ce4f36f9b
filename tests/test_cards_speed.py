"""Cards at the Pillow floor (issue 12): work that is done once, or not at all.

Speed itself is measured by bench/bench_cards.py, never here; these tests count work
(decodes, pools, font splits) and check the faster paths give the same answer.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_cards import LATIN_ONLY, build, encoded, make_post, photo, save_image
from test_cards_design import logo_image

from publisher.cards import build as card_build
from publisher.cards import fonts, render
from publisher.cards.images import Source
from publisher.cards.text import graphemes


def cluster_walk(text: str, chain: tuple[str, ...]) -> list[tuple[int, str]]:
    """The font runs as the renderer defined them before the fast path: one pick per
    grapheme cluster, spaces kept in the run before them unless it ends in an emoji."""
    out: list[tuple[int, str]] = []
    for cluster in graphemes(text):
        index = fonts.pick(cluster, chain)
        if index is None:
            continue
        if cluster.isspace() and out and not fonts._pictographic(out[-1][1][-1]):
            index = out[-1][0]
        if out and out[-1][0] == index:
            out[-1] = (index, out[-1][1] + cluster)
        else:
            out.append((index, cluster))
    return out


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Plain ASCII title, with punctuation & more",
        "Caf\u00e9 na\u00efve \u2014 \u2019quotes\u2019",
        "Emoji \U0001f680 launch \U0001f469\u200d\U0001f4bb day",
        "Flags \U0001f1fa\U0001f1f8\U0001f1eb\U0001f1f7 and marks e\u0301",
        "\u0645\u0631\u062d\u0628\u0627 Arabic mixed",
        "\u65e5\u672c\u8a9e\u306e\u30bf\u30a4\u30c8\u30eb",
        "Missing \U000e0001 tag char",
        "   ",
    ],
)
def test_font_runs_match_the_cluster_walk(text: str) -> None:
    chain = fonts.chain_for("", (), "bold")
    chain = fonts.existing(chain) or chain
    assert fonts.runs(text, chain) == cluster_walk(text, tuple(chain))


def test_the_logo_is_decoded_once_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(encoded(logo_image(480, 112), "PNG"))
    options = replace(LATIN_ONLY, logo=logo, layout="text")
    decoded: list[tuple[int, int]] = []
    real = render.open_source

    def counting(data: bytes, **kwargs: Any) -> Source:
        source = real(data, **kwargs)
        decoded.append(source.original_size)
        return source

    monkeypatch.setattr("publisher.cards.render.open_source", counting)
    render._logo.cache_clear()
    posts = [make_post(tmp_path, f"2024-01-0{i}-p{i}", title=f"Post {i}") for i in range(1, 5)]
    first, _ = build(tmp_path / "a", posts, options, cache_dir=tmp_path / "s1")
    assert decoded.count((480, 112)) == 1 and len(first.cards) == 4

    # An edited logo (another size on disk) is decoded again, and the cards change.
    logo.write_bytes(encoded(logo_image(240, 56).rotate(180), "PNG"))
    os.utime(logo, ns=(1, 1))
    second, _ = build(tmp_path / "b", posts, options, cache_dir=tmp_path / "s2")
    assert decoded.count((240, 56)) == 1
    assert [c.path for c in first.cards] != [c.path for c in second.cards]


def test_a_broken_logo_warns_on_every_card(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"not an image at all")
    render._logo.cache_clear()
    options = replace(LATIN_ONLY, logo=logo, layout="text")
    posts = [make_post(tmp_path, f"2024-01-0{i}-p{i}", title=f"Post {i}") for i in range(1, 4)]
    result, _ = build(tmp_path, posts, options)
    logo_notes = [p for p in result.problems if p.field == "cards.logo"]
    assert len(result.cards) == 3 and len(logo_notes) == 3


def test_no_worker_pool_without_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_image(tmp_path, "hero.jpg", encoded(photo(1600, 900), "JPEG"))
    posts = [make_post(tmp_path, image=path), make_post(tmp_path, "2024-01-01-b", title="B")]
    build(tmp_path, posts, jobs=2)

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker pool was started")

    monkeypatch.setattr(card_build, "ProcessPoolExecutor", no_pool)
    warm, _ = build(tmp_path, posts, jobs=2)
    assert (warm.rendered, warm.reused) == (0, 2)
    # One changed card is rendered in this process: a pool for one job costs more than it saves.
    edited = [posts[0], replace(posts[1], title="B, edited")]
    one, _ = build(tmp_path, edited, jobs=2)
    assert (one.rendered, one.reused) == (1, 1)
