#!/usr/bin/env python3
"""Generate the images used by the example blog in examples/blog/posts/.

The output is deterministic: only simple gradients and shapes are drawn (no
fonts, no randomness), and no EXIF/timestamps are written, so running the
script twice produces byte-identical files.

Usage:  python examples/make_images.py
Requires Pillow (with WebP support).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

POSTS = Path(__file__).resolve().parent / "blog" / "posts"

# Palette of the fictional "Lantern" project.
NIGHT = (18, 24, 48)
DUSK = (52, 40, 96)
AMBER = (255, 176, 59)
GLOW = (255, 214, 140)
TEAL = (46, 196, 182)
ROSE = (231, 84, 128)
PAPER = (244, 241, 232)
INK = (40, 44, 60)


def gradient(size: tuple[int, int], top: tuple, bottom: tuple, horizontal: bool = False) -> Image.Image:
    """Linear two-colour gradient built from a 1-pixel strip and resized."""
    w, h = size
    n = w if horizontal else h
    strip = Image.new("RGB", (n, 1) if horizontal else (1, n))
    px = []
    for i in range(n):
        t = i / max(n - 1, 1)
        px.append(tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    strip.putdata(px)
    return strip.resize(size, Image.Resampling.NEAREST)


def lantern(draw: ImageDraw.ImageDraw, cx: int, cy: int, r: int) -> None:
    """A stylised lantern: concentric glow rings with a solid core."""
    for i, col in enumerate([DUSK, (120, 80, 90), (200, 130, 70), AMBER, GLOW]):
        rr = r * (5 - i) // 5 + r // 2
        draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=col)
    draw.rectangle((cx - r // 6, cy - r * 2, cx + r // 6, cy - r - r // 2), fill=INK)


def network(draw: ImageDraw.ImageDraw, w: int, h: int, n: int, seed: int, colour=TEAL) -> None:
    """Deterministic 'flow graph': nodes on a circle-ish layout joined by edges."""
    pts = []
    for i in range(n):
        a = 2 * math.pi * i / n + seed * 0.37
        rx = w * (0.28 + 0.08 * ((i * 7 + seed) % 3))
        ry = h * (0.25 + 0.07 * ((i * 5 + seed) % 3))
        pts.append((round(w / 2 + rx * math.cos(a)), round(h / 2 + ry * math.sin(a))))
    for i, p in enumerate(pts):
        for j in (i + 1, i + 3):
            q = pts[j % n]
            draw.line((p, q), fill=colour, width=max(2, w // 300))
    rad = max(4, w // 80)
    for x, y in pts:
        draw.ellipse((x - rad, y - rad, x + rad, y + rad), fill=GLOW, outline=AMBER, width=2)


def og_card(size, top, bottom, seed, lantern_pos=(0.78, 0.5)) -> Image.Image:
    img = gradient(size, top, bottom)
    d = ImageDraw.Draw(img)
    w, h = size
    network(d, w, h, 7 + seed % 3, seed)
    lantern(d, round(w * lantern_pos[0]), round(h * lantern_pos[1]), h // 8)
    # A plain bar at the bottom, as a "title strip" placeholder.
    d.rectangle((0, h - h // 10, w, h), fill=INK)
    d.rectangle((w // 20, h - h // 16, w // 20 + w // 3, h - h // 16 + h // 60), fill=AMBER)
    return img


def tiny_thumb() -> Image.Image:
    img = gradient((150, 94), DUSK, ROSE, horizontal=True)
    d = ImageDraw.Draw(img)
    lantern(d, 75, 52, 12)
    return img


def diagram() -> Image.Image:
    """Three-layer architecture diagram with flat colours (compresses well)."""
    w, h = 800, 420
    img = Image.new("RGB", (w, h), PAPER)
    d = ImageDraw.Draw(img)
    layers = [(TEAL, 300), (AMBER, 190), (ROSE, 80)]  # probes, agent, relay
    for i, (col, y) in enumerate(layers):
        for k in range(3 - i if i < 2 else 1):
            bw = 180 if i < 2 else 300
            x0 = (w - (bw * (3 - i if i < 2 else 1) + 40 * (2 - i if i < 2 else 0))) // 2 + k * (bw + 40)
            d.rounded_rectangle((x0, y, x0 + bw, y + 60), radius=12, fill=col, outline=INK, width=3)
    # arrows between layers
    for x in (250, 400, 550):
        d.line((x, 300, x, 250), fill=INK, width=3)
        d.polygon([(x - 7, 258), (x + 7, 258), (x, 250)], fill=INK)
    for x in (310, 490):
        d.line((x, 190, 400, 140), fill=INK, width=3)
    return img.quantize(colors=8, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def schedule() -> Image.Image:
    """A calendar-like grid with a few highlighted slots."""
    w, h = 800, 420
    img = Image.new("RGB", (w, h), PAPER)
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, w, 60), fill=NIGHT)
    cols, rows = 7, 4
    cw, rh = (w - 40) // cols, (h - 100) // rows
    for r in range(rows):
        for c in range(cols):
            x0, y0 = 20 + c * cw, 80 + r * rh
            fill = AMBER if c == 3 else (TEAL if (r + c) % 5 == 0 else PAPER)
            d.rectangle((x0, y0, x0 + cw - 6, y0 + rh - 6), fill=fill, outline=INK, width=2)
    return img.quantize(colors=8, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def transparent_card() -> Image.Image:
    """1200x630 RGBA card with a transparent background and flat shapes."""
    w, h = 1200, 630
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((60, 60, w - 60, h - 60), radius=40, fill=NIGHT + (255,))
    d.ellipse((120, 140, 470, 490), fill=TEAL + (160,))
    d.ellipse((330, 140, 680, 490), fill=ROSE + (160,))
    for i in range(5):
        x = 760 + i * 70
        d.rounded_rectangle((x, 420 - i * 50, x + 50, 500), radius=8, fill=AMBER + (255,))
    d.polygon([(w - 60, 60), (w - 200, 60), (w - 60, 200)], fill=(0, 0, 0, 0))
    return img


def save(img: Image.Image, rel: str) -> None:
    path = POSTS / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        img.convert("RGB").save(path, "JPEG", quality=40, optimize=True, progressive=False)
    elif suffix == ".webp":
        img.convert("RGB").save(path, "WEBP", quality=45, method=6)
    elif suffix == ".png":
        img.save(path, "PNG", optimize=True)
    else:
        raise ValueError(f"unsupported image type: {rel}")


IMAGES = {
    "2025-09-16-lantern-on-the-wire-podcast/thumb.jpg": tiny_thumb,
    "2025-10-28-community-cafe-night/ogimage.jpg": lambda: og_card((1200, 630), DUSK, ROSE, 1),
    "2025-12-09-office-hours-season-2/ogimage.jpg": lambda: og_card((1200, 630), NIGHT, TEAL, 2, (0.2, 0.45)),
    "2025-12-09-office-hours-season-2/schedule.png": schedule,
    "2026-01-15-tokyo-meetup/ogimage.jpg": lambda: og_card((800, 420), NIGHT, ROSE, 3),
    "2026-02-10-arabic-community-sprint/ogimage.webp": lambda: og_card((800, 420), TEAL, NIGHT, 4, (0.25, 0.5)),
    "2026-03-04-lantern-1-0/lantern_stage.webp": lambda: og_card((1200, 630), NIGHT, DUSK, 5),
    "2026-03-04-lantern-1-0/hero.jpg": lambda: og_card((800, 420), DUSK, AMBER, 6, (0.5, 0.45)),
    "2026-03-04-lantern-1-0/diagram.png": diagram,
    "2026-04-14-roadmap-draft/ogimage.jpg": lambda: og_card((800, 420), INK, DUSK, 7),
    "2026-05-05-sidecar-free-mesh-tracing/card.png": transparent_card,
    "2027-06-01-lantern-2-0-preview/ogimage.jpg": lambda: og_card((1200, 630), NIGHT, AMBER, 8, (0.7, 0.4)),
}


def main() -> None:
    for rel, make in IMAGES.items():
        save(make(), rel)
        print(f"{rel}: {(POSTS / rel).stat().st_size} bytes")


if __name__ == "__main__":
    main()
