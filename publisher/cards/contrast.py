"""WCAG contrast: how dark a scrim must be for the text over it to reach 4.5:1.

The pixels under the text are measured (a reduced copy, the worst 0.2% ignored so a
stray highlight does not black out the whole photo) and the lightest scrim that lifts
the contrast to the target is found by bisection. Alpha compositing is done as Pillow
does it, in sRGB values, so what is measured is what gets drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageFilter

RGB = tuple[int, int, int]

#: How much lighter a later candidate's scrim must be to beat an earlier one.
PREFERENCE = 0.15


def hex_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _linear(channel: float) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


_LINEAR = [_linear(v) for v in range(256)]


def luminance(rgb: RGB) -> float:
    """WCAG relative luminance of an sRGB colour."""
    r, g, b = rgb
    return 0.2126 * _LINEAR[r] + 0.7152 * _LINEAR[g] + 0.0722 * _LINEAR[b]


def ratio(a: RGB, b: RGB) -> float:
    return _ratio_of(luminance(a), luminance(b))


@dataclass(frozen=True)
class Choice:
    """Text colour, scrim colour and opacity, and the contrast they reach."""

    text: RGB
    scrim: RGB
    opacity: float
    contrast: float


@dataclass(frozen=True)
class _Pixels:
    """Sampled pixels, darkest first, and how many were sampled in all."""

    darkest_first: list[RGB]
    count: int


def _sample(region: Image.Image) -> _Pixels:
    region = region.convert("RGB")
    if region.width * region.height > 6000:
        # Nearest-neighbour sampling keeps thin bright or dark lines at their true colour;
        # averaging would blend them into the background and hide them.
        factor = (region.width * region.height / 6000) ** 0.5
        size = (max(1, int(region.width / factor)), max(1, int(region.height / factor)))
        region = region.resize(size, Image.Resampling.NEAREST)
    raw = region.tobytes()
    pixels: list[RGB] = list(zip(raw[0::3], raw[1::3], raw[2::3], strict=True))
    brightness = list(region.convert("L").tobytes())
    order = sorted(range(len(pixels)), key=brightness.__getitem__)
    return _Pixels([pixels[i] for i in order], len(pixels))


def _worst(pixels: _Pixels, text: RGB, scrim: RGB, opacity: float) -> float:
    """Contrast of ``text`` against the 0.2nd-percentile worst pixel under the scrim.

    A uniform scrim keeps the brightness order of pixels, so only the few pixels closest
    in brightness to the text (the brightest for light text) can be the worst ones.
    """
    skip = pixels.count // 500
    window = max(skip + 1, pixels.count * 3 // 100)
    light_text = luminance(text) > 0.18
    candidates = pixels.darkest_first[-window:] if light_text else pixels.darkest_first[:window]
    keep = 1 - opacity
    red, green, blue = (channel * opacity for channel in scrim)
    lit = _LINEAR
    # luminance() and ratio() of each blended pixel written out: the same floats from the
    # same operations, without three calls per pixel.
    text_luminance = luminance(text)
    ratios = sorted(
        _ratio_of(
            text_luminance,
            0.2126 * lit[round(p[0] * keep + red)]
            + 0.7152 * lit[round(p[1] * keep + green)]
            + 0.0722 * lit[round(p[2] * keep + blue)],
        )
        for p in candidates
    )
    return ratios[min(len(ratios) - 1, skip)]


def _ratio_of(la: float, lb: float) -> float:
    """:func:`ratio` from two luminances."""
    high, low = max(la, lb), min(la, lb)
    return (high + 0.05) / (low + 0.05)


def choose(
    region: Image.Image,
    candidates: list[tuple[RGB, RGB]],
    *,
    target: float,
    max_opacity: float,
    min_opacity: float = 0.0,
) -> Choice:
    """Of the (text colour, scrim colour) pairs, the one that reaches ``target`` with the
    lightest scrim; if none can, the one with the best contrast at ``max_opacity``."""
    pixels = _sample(region)
    best: Choice | None = None
    for text, scrim in candidates:
        choice = _lightest(pixels, text, scrim, target, (min_opacity, max_opacity))
        if best is None or _better(choice, best, target):
            best = choice
    assert best is not None
    return best


def _lightest(
    pixels: _Pixels, text: RGB, scrim: RGB, target: float, opacities: tuple[float, float]
) -> Choice:
    """The lightest scrim between the two ``opacities`` that reaches ``target`` (by
    bisection), or the darkest when none does. Each opacity is measured once."""
    low, high = opacities
    at_low = _worst(pixels, text, scrim, low)
    if at_low >= target:
        return Choice(text, scrim, low, at_low)
    at_high = _worst(pixels, text, scrim, high)
    if at_high < target:
        return Choice(text, scrim, high, at_high)
    for _ in range(8):
        middle = (low + high) / 2
        at_middle = _worst(pixels, text, scrim, middle)
        if at_middle >= target:
            high, at_high = middle, at_middle
        else:
            low = middle
    return Choice(text, scrim, high, at_high)


def _better(a: Choice, b: Choice, target: float) -> bool:
    a_ok, b_ok = a.contrast >= target, b.contrast >= target
    if a_ok != b_ok:
        return a_ok
    if a_ok:
        # Earlier candidates (light text on a dark scrim) win unless the other needs a
        # clearly lighter scrim: photos keep their colour better under a dark scrim.
        return a.opacity < b.opacity - PREFERENCE
    return a.contrast > b.contrast + 1e-6


def busyness(region: Image.Image) -> float:
    """Share of the region covered by edges (0 to 1): lines and letters in a diagram or
    screenshot make text over them hard to read even at a passing contrast ratio."""
    probe = region.convert("L")
    probe.thumbnail((160, 160), Image.Resampling.BILINEAR)
    edges = probe.filter(ImageFilter.FIND_EDGES).point(lambda v: 255 if v > 40 else 0)
    histogram = edges.histogram()
    return histogram[255] / max(1, probe.width * probe.height)
