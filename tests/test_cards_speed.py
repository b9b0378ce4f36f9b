"""Cards at the Pillow floor (issue 12): work that is done once, or not at all.

Speed itself is measured by bench/bench_cards.py, never here; these tests count work
(decodes, pools, font splits, face searches, the order of renders and writes) and check
the faster paths give the same answer.
"""

from __future__ import annotations

import os
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from test_cards import LATIN_ONLY, SITE, build, encoded, make_post, noise, photo, save_image
from test_cards_design import logo_image

from publisher.cards import build as card_build
from publisher.cards import build_cards, faces, fonts, render
from publisher.cards.crop import crop_box
from publisher.cards.images import Source
from publisher.cards.options import CardOptions
from publisher.cards.text import graphemes
from publisher.errors import OutputError
from publisher.output import OutputWriter, Write


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


class RecordingWriter(OutputWriter):
    """An output writer that notes each card image it writes in a shared event log."""

    def __init__(self, root: Path, events: list[str], fail_at: int | None = None) -> None:
        super().__init__(root)
        self.events = events
        self.fail_at = fail_at

    def write_bytes(self, relative: str, data: bytes) -> Write:
        if relative.endswith(".jpg"):
            if (
                self.fail_at is not None
                and sum(e.startswith("w") for e in self.events) == self.fail_at
            ):
                raise OutputError(f"refusing to write '{relative}': the disk is full (test)")
            self.events.append("w " + relative.split("/")[-1].split(".")[0])
        return super().write_bytes(relative, data)


def test_each_card_is_written_before_the_next_is_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real = card_build._render_safely

    def rendering(job: render.CardJob) -> render.Rendered | str:
        events.append(f"r {job.post_id}")
        return real(job)

    monkeypatch.setattr(card_build, "_render_safely", rendering)
    posts = [make_post(tmp_path, f"2024-01-0{i}-p{i}", title=f"Post {i}") for i in range(1, 4)]
    output = RecordingWriter(tmp_path / "public", events)
    build_cards(SITE, posts, LATIN_ONLY, output=output, cache_dir=tmp_path / "s", jobs=1)
    # Written while the next card is drawn, not all after the last one; in post order.
    assert events == [f"{kind} 2024-01-0{i}-p{i}" for i in range(1, 4) for kind in "rw"]


def test_a_failed_write_stops_the_workers_and_is_raised(tmp_path: Path) -> None:
    posts = [make_post(tmp_path, f"2024-01-0{i}-p{i}", title=f"Post {i}") for i in range(1, 7)]
    events: list[str] = []
    output = RecordingWriter(tmp_path / "public", events, fail_at=1)
    with pytest.raises(OutputError, match="disk is full"):
        build_cards(SITE, posts, LATIN_ONLY, output=output, cache_dir=tmp_path / "s", jobs=2)
    assert events == ["w 2024-01-01-p1"]


def test_inputs_every_card_shares_are_hashed_once_per_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = fonts.font_stamp

    def stamp(path: str) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(fonts, "font_stamp", stamp)
    options = replace(LATIN_ONLY, fallback_fonts=(str(LATIN_ONLY.regular_font),))
    build(tmp_path / "one", [make_post(tmp_path)], options)
    once = len(calls)
    calls.clear()
    posts = [make_post(tmp_path, f"2024-01-0{i}-p{i}", title=f"Post {i}") for i in range(1, 6)]
    result, _ = build(tmp_path / "five", posts, options)
    assert once > 0 and len(calls) == once and len(result.cards) == 5


def test_faces_are_looked_for_on_a_thumbnail_sized_for_the_smallest_face() -> None:
    # The search costs the square of the thumbnail's shorter side: just enough for a face
    # of MIN_FACE to fill the cascade's 24 px window, whatever the image's size.
    # A strip too wide for the shared grey thumbnail to keep 240 px of height is shrunk
    # from the picture itself (4000x600, 3000x200), and a short picture is not shrunk.
    for size in ((4000, 2000), (1600, 900), (900, 1600), (4000, 600), (600, 4000)):
        small = faces.probe(photo(*size))
        assert min(small.size) == round(24 / faces.MIN_FACE) and small.mode == "L"
        assert abs(small.width / small.height - size[0] / size[1]) < 0.01
    assert faces.probe(photo(300, 200)).size == (300, 200)  # never enlarged
    assert faces.probe(photo(3000, 200)).size == (3000, 200)
    if faces.detector() != "none":
        assert f"faces from {faces.MIN_FACE:g}" in faces.detector()  # in the cache key


def test_no_face_search_when_the_crop_keeps_the_whole_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    searched: list[tuple[int, int]] = []
    real = faces.find_faces

    def counting(image: Image.Image) -> list[tuple[float, float, float, float]]:
        searched.append(image.size)
        return real(image)

    monkeypatch.setattr(faces, "find_faces", counting)
    # The image has the box's shape: the cover crop is all of it wherever the faces are.
    assert faces.face_focus(photo(1200, 630), (1200, 630)) is None
    assert faces.face_focus(photo(2400, 1260), (1200, 630), text_below=True) is None
    assert searched == []
    faces.face_focus(photo(1600, 1000), (1200, 630))
    assert searched == [(1600, 1000)]
    # And the card is the same as with the search: no focal point moves a whole-image crop.
    assert crop_box((1200, 630), (1200, 630), (0.1, 0.9)) == (0.0, 0.0, 1200.0, 630.0)


def test_a_picture_is_searched_for_faces_once(monkeypatch: pytest.MonkeyPatch) -> None:
    if faces.detector() == "none":
        pytest.skip("the faces extra (opencv-python-headless<5) is not installed")
    probes: list[tuple[int, int]] = []
    real = faces.probe

    def counting(image: Image.Image) -> Image.Image:
        probes.append(image.size)
        return real(image)

    monkeypatch.setattr(faces, "probe", counting)
    picture, other = photo(1600, 1000), photo(1600, 1000, seed=2)
    # The cover crop asks for its focal point, then for the faces among its subjects.
    first = faces.face_focus(picture, (1200, 630))
    assert faces.face_box(picture) == faces.face_box(picture) and len(probes) == 1
    assert faces.face_focus(picture, (1200, 630)) == first and len(probes) == 1
    faces.find_faces(other)
    faces.find_faces(picture)  # another picture came between: searched again
    assert len(probes) == 3


def scrim_through_a_full_mask(
    image: Image.Image,
    side: str,
    extent: str,
    fade: int,
    box: tuple[int, int, int, int],
    color: tuple[int, int, int],
    opacity: float,
) -> None:
    """The scrim as it was drawn before the look-up table: one card-sized mask, the solid
    part and the fade pasted into it, the colour pasted through it over the whole card."""
    width, height = image.size
    left, top, right, bottom = box
    if extent == "band":
        if side in ("top", "bottom"):
            left, right = 0, width
            top, bottom = (top, height) if side == "top" else (0, bottom)
        else:
            top, bottom = 0, height
            left, right = (left, width) if side == "left" else (0, right)
    alpha = min(255, int(opacity * 255 + 0.999))
    mask = Image.new("L", (width, height), 0)
    mask.paste(alpha, (left, top, right, bottom))
    ramp = Image.linear_gradient("L").point(lambda v: v * alpha // 255)
    if fade == 0:
        pass
    elif side == "top" and top > 0:
        start = max(0, top - fade)
        mask.paste(ramp.resize((right - left, top - start)), (left, start))
    elif side == "bottom" and bottom < height:
        end = min(height, bottom + fade)
        flipped = ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        mask.paste(flipped.resize((right - left, end - bottom)), (left, bottom))
    elif side == "left" and left > 0:
        start = max(0, left - fade)
        turned = ramp.transpose(Image.Transpose.ROTATE_90).transpose(
            Image.Transpose.FLIP_LEFT_RIGHT
        )
        mask.paste(turned.resize((left - start, bottom - top)), (start, top))
    elif side == "right" and right < width:
        end = min(width, right + fade)
        turned = ramp.transpose(Image.Transpose.ROTATE_90)
        mask.paste(turned.resize((end - right, bottom - top)), (right, top))
    image.paste(color, (0, 0, width, height), mask)


@pytest.mark.parametrize("side", ["top", "bottom", "left", "right"])
@pytest.mark.parametrize("extent", ["band", "box"])
def test_scrim_table_gives_the_bytes_of_a_paste_through_a_mask(side: str, extent: str) -> None:
    from publisher.cards.scrim import _draw_scrim

    picture = photo(1200, 630, seed=3)
    cases = [
        ((80, 300, 1100, 560), (0, 0, 0), 0.62, 120),
        ((40, 40, 700, 400), (255, 255, 255), 0.18, 90),
        ((0, 200, 1200, 630), (12, 34, 56), 1.0, 0),
        ((300, 100, 900, 500), (200, 10, 90), 0.004, 600),
    ]
    for box, color, opacity, fade in cases:
        fast, slow = picture.copy(), picture.copy()
        _draw_scrim(fast, side, extent, fade, box, color, opacity)
        scrim_through_a_full_mask(slow, side, extent, fade, box, color, opacity)
        assert fast.tobytes() == slow.tobytes(), (box, color, opacity, fade)
        assert fast.tobytes() != picture.tobytes()  # the scrim was drawn at all


def worst_by_sorting(
    region: Image.Image, text: tuple[int, int, int], scrim: tuple[int, int, int], opacity: float
) -> float:
    """The contrast search's measure as it was written first: every sampled pixel sorted
    by brightness, the window at the end nearest the text, ratio() of each blended pixel."""
    from publisher.cards import contrast

    region = region.convert("RGB")
    if region.width * region.height > 6000:
        factor = (region.width * region.height / 6000) ** 0.5
        size = (max(1, int(region.width / factor)), max(1, int(region.height / factor)))
        region = region.resize(size, Image.Resampling.NEAREST)
    raw = region.tobytes()
    pixels = list(zip(raw[0::3], raw[1::3], raw[2::3], strict=True))
    brightness = list(region.convert("L").tobytes())
    darkest_first = [pixels[i] for i in sorted(range(len(pixels)), key=brightness.__getitem__)]
    skip = len(pixels) // 500
    window = max(skip + 1, len(pixels) * 3 // 100)
    light = contrast.luminance(text) > 0.18
    near = darkest_first[-window:] if light else darkest_first[:window]
    keep = 1 - opacity
    blended = [
        (
            round(p[0] * keep + scrim[0] * opacity),
            round(p[1] * keep + scrim[1] * opacity),
            round(p[2] * keep + scrim[2] * opacity),
        )
        for p in near
    ]
    return sorted(contrast.ratio(text, b) for b in blended)[min(window - 1, skip)]


def test_contrast_search_matches_sorting_every_pixel() -> None:
    from publisher.cards import contrast

    flat = Image.new("RGB", (900, 300), (200, 30, 30))
    flat.paste((240, 240, 240), (100, 100, 200, 120))  # one bright bar: ties everywhere
    regions = [photo(900, 300, seed=5), noise(400, 120), flat, photo(40, 30, seed=2)]
    regions.append(Image.linear_gradient("L").resize((700, 200)).convert("RGB"))
    # Colours of one brightness but not one luminance: which of the tied pixels are
    # taken decides the answer when the window is a single pixel (a tiny region).
    rng = random.Random(9)
    tied = [
        colour
        for colour in (
            (rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(20000)
        )
        if Image.new("RGB", (1, 1), colour).convert("L").getpixel((0, 0)) == 128
    ]
    same = Image.new("RGB", (6, 5))
    same.putdata(tied[:30])
    regions.append(same)
    for region in regions:
        pixels = contrast._sample(region)
        for text, scrim in (((255, 255, 255), (0, 0, 0)), ((17, 17, 17), (255, 255, 255))):
            for opacity in (0.0, 0.3, 0.55, 0.9):
                expected = worst_by_sorting(region, text, scrim, opacity)
                assert contrast._worst(pixels, text, scrim, opacity) == expected


@pytest.mark.parametrize("spread", [0, 4, 5, 6, 40])
def test_flat_test_on_rgb_agrees_with_rgba(spread: int) -> None:
    from PIL import ImageStat

    from publisher.cards.choose import _FLAT, is_flat

    rng = random.Random(spread)
    picture = Image.new("RGB", (640, 320), (90, 120, 150))
    for x in range(0, 640, 10):
        shade = 90 + rng.randint(-spread, spread)
        picture.paste((shade, 120, 150), (x, 0, x + 10, 320))
    reference = picture.convert("RGBA").resize((64, 32), Image.Resampling.BOX)
    assert is_flat(picture) == (max(ImageStat.Stat(reference).stddev) < _FLAT)
    if spread in (0, 40):  # both answers are among the cases
        assert is_flat(picture) == (spread == 0)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_shrink_gives_the_pixels_of_a_thumbnail(mode: str) -> None:
    from publisher.cards import thumbnail

    rng = random.Random(mode)
    sizes = [(64, 64), (65, 64), (63, 200), (1, 500), (4000, 3), (96, 95)]
    sizes += [(rng.randint(1, 3000), rng.randint(1, 3000)) for _ in range(12)]
    for size in sizes:
        picture = photo(*size, seed=size[0]).convert(mode)
        for box in ((64, 64), (96, 96), (320, 320), (64, 32)):
            expected = picture.copy()
            expected.thumbnail(box, Image.Resampling.BILINEAR)
            shrunk = thumbnail.shrink(picture, box, Image.Resampling.BILINEAR)
            assert (shrunk.size, shrunk.tobytes()) == (expected.size, expected.tobytes())
            assert picture.size == size  # never shrunk in place


def test_a_card_makes_one_grey_thumbnail_for_all_its_analyses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from publisher.cards import thumbnail
    from publisher.cards.choose import carries_headline, text_coverage
    from publisher.cards.crop import busiest_focus, looks_like_diagram
    from publisher.cards.subjects import subject_crop

    made: list[tuple[int, int]] = []
    real = thumbnail._made

    def counting(image: Image.Image) -> thumbnail._Copies:
        made.append(image.size)
        return real(image)

    monkeypatch.setattr(thumbnail, "_made", counting)
    picture = photo(2400, 1500, seed=4)
    text_coverage(picture)
    looks_like_diagram(picture)
    carries_headline(picture, picture.size)
    busiest_focus(picture, (1200, 630))
    faces.probe(picture)
    subject_crop(picture, (1200, 630), avoid=[(0.1, 0.6, 0.9, 0.9)], text_below=True)
    assert made == [(2400, 1500)]
    assert thumbnail.grey(picture).size == (640, 400)
    other = photo(2400, 1500, seed=5)
    text_coverage(other)
    text_coverage(picture)  # another picture came between: made again
    assert made == [(2400, 1500)] * 3
    # The faces are looked for on as many pixels as before: 240 px on the shorter side.
    assert faces.probe(picture).size == (384, 240)


def random_titles(count: int, seed: int) -> list[str]:
    """Latin text as posts have it: words, numbers, punctuation, hyphenated compounds,
    slashes and now and then a word too long for any line."""
    rng = random.Random(seed)
    words = ["Cilium", "eBPF", "kube-proxy", "AVATAR", "Tetragon", "WAY", "to", "a", "of"]
    words += ["1.15:", "(beta)", "“quoted”", "naïve", "L7/L4", "—", "Ta-Te-Yo"]
    titles = []
    for index in range(count):
        picked = [rng.choice(words) for _ in range(rng.randrange(1, 30))]
        if index % 10 == 0:
            picked.insert(rng.randrange(len(picked)), "x" * 60)
        titles.append(" ".join(picked))
    return titles


def test_estimated_wrap_gives_the_measured_lines_with_fewer_measurements() -> None:
    from publisher.cards import text as card_text

    chain = (str(LATIN_ONLY.bold_font),)
    measured = calls = 0
    for title in random_titles(120, seed=12):
        for size, width in ((64, 1080), (40, 700), (28, 333)):
            seen: list[str] = []

            def measure(s: str, size: int = size, seen: list[str] = seen) -> float:
                seen.append(s)
                return fonts.measure(s, size, chain)

            expected = card_text.wrap(title, width, measure)
            measured += len(seen)
            seen.clear()
            estimate = fonts.estimator(size, chain, title)
            assert estimate is not None
            assert card_text.wrap(title, width, measure, estimate) == expected, title
            calls += len(seen)
            # However wrong the estimate, the lines are the measured ones.
            for off in (0.6, 0.97, 1.03, 1.5):
                wrong = lambda s, off=off, estimate=estimate: estimate(s) * off  # noqa: E731
                assert card_text.wrap(title, width, measure, wrong) == expected, (title, off)
    assert calls < measured * 0.6


def test_no_estimate_for_text_the_primary_font_cannot_draw() -> None:
    chain = fonts.chain_for(str(LATIN_ONLY.bold_font), CardOptions().fallback_fonts, "bold")
    assert fonts.estimator(64, chain, "Plain Latin title") is not None
    assert fonts.estimator(64, chain, "") is None
    if len(chain) > 1 and 0x65E5 not in fonts.coverage(chain[0]):
        assert fonts.estimator(64, chain, "Cilium 日本語") is None


def missing_by_cluster_walk(text: str, chain: tuple[str, ...]) -> tuple[str, list[str]]:
    """drop_missing as it was written before the fast path: one pick per cluster."""
    kept: list[str] = []
    missing: list[str] = []
    for cluster in graphemes(text):
        if fonts.pick(cluster, chain) is None:
            if cluster not in missing:
                missing.append(cluster)
            continue
        kept.append(cluster)
    return " ".join("".join(kept).split()), missing


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  Plain  ASCII title,\twith   spaces ",
        "Caf\u00e9 na\u00efve \u2014 e\u0301 \u200d joined",
        "\u65e5\u672c\u8a9e and Latin",
        "Missing \U000e0001 tag char \U0010fffd",
    ],
)
def test_dropping_missing_characters_matches_the_cluster_walk(text: str) -> None:
    for chain in (
        (str(LATIN_ONLY.bold_font),),
        fonts.chain_for(str(LATIN_ONLY.bold_font), CardOptions().fallback_fonts, "bold"),
    ):
        assert fonts.drop_missing(text, chain) == missing_by_cluster_walk(text, chain)


def test_clean_text_without_markup_only_collapses_spaces() -> None:
    from publisher.cards import clean

    rng = random.Random(3)
    alphabet = (
        "ab c\t\n\r\x0b\x0c\x1c\x85\xa0<>#[]()!`*_~&;amp\x00\x7f\x9f\u00ad\u200b\ufeff\u2028é日"
    )
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 14)))
        assert clean.clean_text(text) == clean._cleaned(text), repr(text)
    assert clean.clean_text("  Plain\ttitle \u2028 here ") == "Plain title here"
    # Each kind of markup, alone, still goes through the passes that remove it.
    marked = ["a &amp; b", "<b>bold</b> x", "# Heading", "[link](url) x", "![alt](i.png)"]
    marked += ["`code` x", "**strong** x", "~~gone~~ x", "_em_ x", "*em* x", "a\x0bb", "a\x85b"]
    marked += ["soft\u00adhyphen", "zero\u200bwidth", "\ufeffbom", "bell\x07 x"]
    for text in marked:
        assert clean.clean_text(text) == clean._cleaned(text) != " ".join(text.split()), text
