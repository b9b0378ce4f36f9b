"""Where to cut: cover crops around a focal point, contained placement for small images.

Without a focal point from the post, the crop keeps the busiest strip of the image (the
most edges, measured on a 96 px thumbnail) instead of the centre, with a mild pull
towards the centre so a plain image still crops in the middle.
"""

from __future__ import annotations

from PIL import Image, ImageChops, ImageFilter

from publisher.cards import thumbnail

Focus = tuple[float, float]

_PROBE = 96
_CENTRE_PULL = 0.15


def cover_scale(size: tuple[int, int], box: tuple[int, int]) -> float:
    return max(box[0] / size[0], box[1] / size[1])


def contain_scale(size: tuple[int, int], box: tuple[int, int]) -> float:
    return min(box[0] / size[0], box[1] / size[1])


def crop_box(
    size: tuple[int, int], box: tuple[int, int], focus: Focus
) -> tuple[float, float, float, float]:
    """The source rectangle with the aspect of ``box``, as large as possible, centred on
    ``focus`` (fractions of width and height) and clamped inside the image."""
    width, height = size
    scale = cover_scale(size, box)
    crop_w, crop_h = min(width, box[0] / scale), min(height, box[1] / scale)
    left = min(max(focus[0] * width - crop_w / 2, 0.0), width - crop_w)
    top = min(max(focus[1] * height - crop_h / 2, 0.0), height - crop_h)
    return left, top, left + crop_w, top + crop_h


def busiest_focus(image: Image.Image, box: tuple[int, int]) -> Focus:
    """A focal point that keeps the region with the most detail in a cover crop.

    A cover crop can only slide along one axis, so edge energy is summed along the other
    axis and the window of the crop's length with the highest score wins.
    """
    width, height = image.size
    scale = cover_scale((width, height), box)
    crop_w, crop_h = box[0] / scale, box[1] / scale
    horizontal = crop_w < width - 1
    if not horizontal and crop_h >= height - 1:
        return (0.5, 0.5)
    probe = thumbnail.shrink(thumbnail.grey(image), (_PROBE, _PROBE), Image.Resampling.BILINEAR)
    edges = probe.filter(ImageFilter.FIND_EDGES)
    # Edge pixels on the border of the thumbnail are artefacts of the filter.
    edges = edges.crop((1, 1, edges.width - 1, edges.height - 1))
    count = edges.width if horizontal else edges.height
    profile_image = edges.resize((count, 1) if horizontal else (1, count), Image.Resampling.BOX)
    profile = [float(v) for v in profile_image.tobytes()]
    window = max(1, round(count * (crop_w / width if horizontal else crop_h / height)))
    if window >= count:
        return (0.5, 0.5)
    total = sum(profile) or 1.0
    best_start, best_score = 0, float("-inf")
    running = sum(profile[:window])
    centre = (count - window) / 2
    for start in range(count - window + 1):
        if start:
            running += profile[start + window - 1] - profile[start - 1]
        distance = abs(start - centre) / max(1.0, centre)
        score = running / total - _CENTRE_PULL * distance
        if score > best_score + 1e-9:
            best_start, best_score = start, score
    middle = (best_start + window / 2) / count
    return (middle, 0.5) if horizontal else (0.5, middle)


def parse_focus(value: object) -> Focus | None:
    """``[x, y]`` fractions from 0 to 1 (or percentages to 100), else None."""
    if isinstance(value, str):
        parts: list[object] = [p for p in value.replace(",", " ").split() if p]
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        return None
    if len(parts) != 2:
        return None
    numbers: list[float] = []
    for part in parts:
        try:
            number = float(str(part).rstrip("%"))
        except ValueError:
            return None
        if str(part).endswith("%") or number > 1:
            number /= 100
        if not 0 <= number <= 1:
            return None
        numbers.append(number)
    return numbers[0], numbers[1]


def looks_like_diagram(image: Image.Image) -> bool:
    """Mostly white or transparent: a diagram, screenshot or logo, which a cover crop
    would cut and a scrim would grey out, so layouts may send it to a split layout."""
    probe = thumbnail.shrink(thumbnail.colour(image), (64, 64), Image.Resampling.BILINEAR)
    total = probe.width * probe.height
    if probe.mode == "RGBA":
        transparent = sum(probe.getchannel("A").histogram()[:32])
        if transparent > total * 0.3:
            return True
        probe = probe.convert("RGB")
    hsv = probe.convert("HSV")
    light = Image.eval(hsv.getchannel("V"), lambda v: 255 if v > 225 else 0)
    grey = Image.eval(hsv.getchannel("S"), lambda v: 255 if v < 40 else 0)
    flat = ImageChops.multiply(light, grey).histogram()[255]
    return flat > total * 0.4


#: Row edge density (0-255 = share of a strip's width) under which a row is a gap between
#: lines of text, and over which a run of rows holds glyphs.
QUIET = 8
DENSE = 40


def text_line_runs(profile: list[int], height: int) -> list[tuple[int, int]]:
    """Busy runs of a row profile of edge density that are as tall as a line of text.

    A run is the rows between two quiet rows (the gap between lines); it is a line when it is
    dense somewhere and no taller than a line of text. Foliage and textures are never quiet,
    so their runs are too tall to count. Shared by the text-heavy test (choose.py) and the
    text blocks the crop keeps whole (subjects.py).
    """
    if max(profile, default=0) <= DENSE:
        return []  # no run is dense anywhere (a quiet strip): no row needs a look
    tallest = max(4, height // 10)  # a taller run is an object, not a line of text
    found: list[tuple[int, int]] = []
    start: int | None = None
    peak = 0
    for y, value in enumerate([*profile, 0]):
        if value > QUIET:
            if start is None:
                start, peak = y, 0
            peak = max(peak, value)
        elif start is not None:
            if 2 <= y - start <= tallest and peak > DENSE:
                found.append((start, y))
            start = None
    return found
