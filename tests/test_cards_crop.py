"""Subject-aware cover crops (issue 14): faces and text in the picture stay whole and out
from under the title, and the post's focal point still wins.

Every source image is generated here with Pillow (a photo, a busy pattern, a panel of
glyph-like marks); the real-photo face test skips without the corpus or OpenCV.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw
from test_cards import LATIN_ONLY, encoded, noise, photo

from conftest import CORPUS, REPO
from publisher.cards import faces
from publisher.cards.crop import busiest_focus, crop_box
from publisher.cards.layout import load_layouts
from publisher.cards.render import CardJob, Rendered, render_card
from publisher.cards.subjects import subject_crop, text_blocks

# --- subject-aware crop ------------------------------------------------------------------


def test_without_a_face_the_busiest_strip_is_kept() -> None:
    assert faces.face_focus(photo(1600, 1000)) is None  # with or without OpenCV


def test_a_face_is_kept_inside_the_cover_crop() -> None:
    if faces.detector() == "none":
        pytest.skip("the faces extra (opencv-python-headless<5) is not installed")
    path = CORPUS / "2023-10-24-meet-aditi" / "Aditi.jpg"
    if not path.is_file():
        pytest.skip("../shared/corpus is absent: the real-photo test needs it beside the checkout")
    image = Image.open(path)
    image.draft("RGB", (1200, 900))
    image = image.convert("RGB")
    (face,) = faces.find_faces(image)
    placed = []
    for below in (False, True):
        focus = faces.face_focus(image, (1200, 630), text_below=below)
        assert focus is not None
        left, top, right, bottom = crop_box(image.size, (1200, 630), focus)
        assert left <= face[0] * image.width and right >= face[2] * image.width
        assert top <= face[1] * image.height and bottom >= face[3] * image.height
        placed.append((face[1] * image.height - top) / (bottom - top))
    # With the title at the bottom the face moves up, out of the title's way.
    assert placed[1] < placed[0] - 0.05, placed


# --- text and logos in the picture stay whole and out from under the title -------------

PATCH = (255, 0, 255)  # a colour neither the photo nor the pattern has


def text_block_picture(
    size: tuple[int, int], block: tuple[int, int, int, int], fill: tuple[int, int, int] = PATCH
) -> Image.Image:
    """A photo with a magenta panel of synthetic text (rows of small glyph-like marks) in
    ``block``, and a busy pattern on the far side, where the old "busiest strip" rule crops."""
    width, height = size
    image = photo(width, height, seed=3)
    left, top, right, bottom = block
    far = (0, height // 2, width, height) if top < height / 2 else (0, 0, width, height // 2)
    if width > 2 * height:
        far = (0, 0, width // 2, height) if left > width / 2 else (width // 2, 0, width, height)
    draw = ImageDraw.Draw(image)
    for y in range(far[1], far[3], 48):  # a coarse checkerboard: busy at any scale
        for x in range(far[0] + (y // 48 % 2) * 48, far[2], 96):
            draw.rectangle((x, y, x + 47, y + 47), fill=(240, 240, 240))
    draw.rectangle(block, fill=fill)
    for y in range(top + 12, bottom - 24, 30):
        for x in range(left + 12, right - 16, 13):
            if (x // 13 + y) % 7:  # word gaps
                draw.rectangle((x, y, x + 8, y + 16), outline=(20, 20, 30), width=2)
    return image


def render_hero(
    tmp_path: Path, source: Image.Image, focus: tuple[float, float] | None = None
) -> tuple[Rendered, Image.Image]:
    path = tmp_path / "picture.png"
    path.write_bytes(encoded(source, "PNG"))
    layouts, problems = load_layouts(("hero",), (REPO / "templates" / "cards",))
    assert problems == []
    job = CardJob(
        post_id="p", layout="hero", layouts=layouts, title="A title of two or three words",
        summary="A short summary under the title.", fields=(("site", "Blog"),),
        image_path=str(path), image_label="picture.png", image_field="ogImage", focus=focus,
        options=replace(LATIN_ONLY, format="png", max_bytes=5_000_000),
    )  # fmt: skip
    result = render_card(job)
    assert (result.layout, result.rule) == ("hero", "default")
    return result, Image.open(io.BytesIO(result.data)).convert("RGB")


def patch_box(card: Image.Image) -> tuple[int, int, int, int] | None:
    """Where the magenta text panel ended up on the card (decoded, so JPEG-proof)."""
    # Magenta however dark the scrim made it: red and blue equal and strong, no green.
    red, green, blue = card.split()
    equal = Image.eval(ImageChops.difference(red, blue), lambda v: 255 if v < 12 else 0)
    strong = Image.eval(ImageChops.subtract(red, green), lambda v: 255 if v > 50 else 0)
    return ImageChops.multiply(equal, strong).getbbox()


@pytest.mark.parametrize(
    ("size", "block"),
    [((1600, 1400), (300, 24, 1300, 280)), ((3000, 700), (2480, 40, 2960, 300))],
    ids=["text-near-the-top", "text-near-the-right-edge"],
)
def test_text_in_the_picture_is_kept_whole_and_out_from_under_the_title(
    tmp_path: Path, size: tuple[int, int], block: tuple[int, int, int, int]
) -> None:
    source = text_block_picture(size, block)
    (found,) = text_blocks(source)
    assert found[0] * size[0] <= block[0] + 40 and found[2] * size[0] >= block[2] - 40
    assert found[1] * size[1] <= block[1] + 40 and found[3] * size[1] >= block[3] - 40
    # The old rule (the busiest strip) crops where the noise is and cuts the text.
    old = crop_box(size, (1200, 630), busiest_focus(source, (1200, 630)))
    assert old[1] > block[1] or old[2] < block[2]

    result, card = render_hero(tmp_path, source)
    scale = max(1200 / size[0], 630 / size[1])
    got = patch_box(card)
    assert got is not None
    # Whole: the panel keeps its full size on the card (a cut one would be smaller).
    assert abs((got[2] - got[0]) - (block[2] - block[0]) * scale) <= 4, got
    assert abs((got[3] - got[1]) - (block[3] - block[1]) * scale) <= 4, got
    # Not under the title: the panel ends above the text the card draws.
    assert result.text_box is not None and got[3] < result.text_box[1], (got, result.text_box)


def test_the_post_focus_still_wins_over_text_in_the_picture(tmp_path: Path) -> None:
    source = text_block_picture((1600, 1400), (300, 24, 1300, 280))
    _, card = render_hero(tmp_path, source, focus=(0.5, 1.0))
    assert patch_box(card) is None  # cropped to the bottom, as the post asked


@pytest.mark.parametrize(
    "source",
    [photo(1600, 1000), noise(1600, 1000), photo(1000, 1600)],
    ids=["photo", "noise", "tall"],
)
def test_pictures_without_text_crop_as_before(source: Image.Image) -> None:
    assert text_blocks(source) == []
    expected = crop_box(source.size, (1200, 630), busiest_focus(source, (1200, 630)))
    assert subject_crop(source, (1200, 630), avoid=None, text_below=True) == expected
