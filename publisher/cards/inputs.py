"""What each post's card depends on: its render job and a hash of every input.

The cards stage (:mod:`publisher.cards.build`) turns each post into a :class:`Prepared`:
the picklable :class:`~publisher.cards.render.CardJob` a worker renders, and the hashes of
the inputs that shape the card (tool, layout, options, fonts, text, image, focal point),
whose digest is the card's key in the render cache. The inputs every card of a build
shares are hashed once per build (:func:`shared_inputs`), not once per post: a build with
nothing changed is mostly this module's work.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import PIL

from publisher import __version__, statecache
from publisher.cards import faces, fonts
from publisher.cards.addresses import AddressPolicy
from publisher.cards.cache import RenderCache
from publisher.cards.check import focus_problem, layout_problem
from publisher.cards.crop import parse_focus
from publisher.cards.fetch import FetchLimits, cached_path, fetch_image
from publisher.cards.images import SourceImageError, check_file
from publisher.cards.job import RENDER_VERSION, CardJob
from publisher.cards.layout import Layout, available
from publisher.cards.options import CardOptions
from publisher.config import SiteConfig
from publisher.errors import Problem
from publisher.posts.model import Post
from publisher.unicode import ENGINE

#: ``layout_key`` while ``publish cards --layout`` overrides every post's choice.
NO_POST_LAYOUT = "\0no-post-layout"

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

#: Why a card is rendered again, by the input hash that changed (for dry runs).
REASONS = {
    "tool": "publisher, Pillow or the renderer changed",
    "layout": "the layout changed",
    "options": "card options changed",
    "fonts": "a font changed",
    "logo": "the logo changed",
    "avatar": "the author's avatar changed",
    "text": "the title, summary or meta line changed",
    "image": "the image changed",
    "focus": "the focal point changed",
}


@dataclass(frozen=True)
class Prepared:
    """One post's card job and the hashes of its inputs (``key`` is their digest)."""

    post: Post
    file: str
    job: CardJob
    components: dict[str, str]
    key: str


@dataclass(frozen=True, kw_only=True)
class Shared:
    """What every card of one build shares: computed once, before the posts."""

    site: SiteConfig
    options: CardOptions
    layouts: dict[str, Layout]
    #: Every layout name in the layout folders (for the unknown-``ogLayout`` warning).
    known: tuple[str, ...]
    cache: RenderCache
    cache_dir: Path
    fetch_remote: bool
    #: The input hashes that do not depend on the post: tool, layout, options, fonts.
    components: dict[str, str]


def digest(value: Any) -> str:
    # surrogatepass: a lone surrogate a library caller passes in hashes instead of raising
    # (the same bytes as plain UTF-8 for every valid string, so no cache key moves).
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def shared_inputs(
    site: SiteConfig,
    options: CardOptions,
    layouts: dict[str, Layout],
    folders: tuple[Path, ...],
    cache: RenderCache,
    *,
    cache_dir: Path,
    fetch_remote: bool,
) -> Shared:
    """Hash the build-wide inputs once (the options and font digests used to be
    recomputed for every post: most of a build with nothing changed)."""
    chain = sorted({str(options.regular_font), str(options.bold_font)})
    fallbacks = [
        fonts.font_stamp(p)
        for weight in ("regular", "bold")
        for p in fonts.chain_for("", options.fallback_fonts, weight, options.fallback_fonts_bold)[
            1:
        ]
    ]
    detector = cache.remembered("faces.detector", _detector_depends(), faces.detector)
    components = {
        "tool": digest(
            [__version__, PIL.__version__, RENDER_VERSION, fonts.RAQM, detector, ENGINE]
        ),
        "layout": digest(sorted((n, layouts[n].digest) for n in layouts)),
        "options": digest(asdict(options)),
        "fonts": digest([_file_digest(Path(p), cache) for p in chain] + fallbacks),
    }
    for name, path in (("logo", options.logo), ("avatar", options.author_avatar)):
        # The options hold the file's path, not its bytes: a logo replaced in place would
        # leave every card drawn with the old one. Only when set, so no other key moves.
        if path is not None:
            components[name] = _file_digest(path, cache)
    return Shared(
        site=site,
        options=options,
        layouts=layouts,
        known=tuple(available(folders)),
        cache=cache,
        cache_dir=cache_dir,
        fetch_remote=fetch_remote,
        components=components,
    )


@functools.cache
def _detector_depends() -> str:
    """What the face detector's description depends on: the OpenCV and numpy installed,
    and the code that describes it (faces.py, and publisher's version)."""
    code = statecache.code_version([Path(faces.__file__)]).hex()
    return f"{faces.installed()}; {code}"


def _file_digest(path: Path, cache: RenderCache) -> str:
    """sha256 of the file's bytes, read again only when its stamp changed."""
    try:
        return cache.digest(path)
    except OSError:
        return "unreadable"  # the render reports it; a later fix changes the key


def _date_fields(post: Post) -> dict[str, Any]:
    date = post.date
    return {
        "year": date.year,
        "month": f"{date.month:02d}",
        "month_name": _MONTHS[date.month - 1],
        "month_abbr": _MONTHS[date.month - 1][:3],
        "day": date.day,
    }


def _fields(post: Post, site: SiteConfig, options: CardOptions) -> tuple[tuple[str, str], ...]:
    authors = [a.name for a in post.authors]
    values = {
        "site": site.title,
        "date": options.date_format.format(**_date_fields(post)),
        "author": authors[0] if authors else "",
        "authors": ", ".join(authors),
        "category": post.categories[0] if post.categories else "",
        "categories": ", ".join(post.categories),
        "tags": ", ".join(post.tags[:3]),
        "domain": site.url.split("://", 1)[-1].split("/", 1)[0],
    }
    return tuple(sorted(values.items()))


def prepare(post: Post, file: str, shared: Shared, problems: list[Problem]) -> Prepared:
    """The post's card job and input hashes; its frontmatter problems go to ``problems``."""
    options = shared.options
    layout_name = options.layout
    chosen = post.frontmatter.get(options.layout_key)
    forced = options.layout_key == NO_POST_LAYOUT
    if isinstance(chosen, str) and chosen in shared.layouts:
        layout_name = chosen
        forced = True
    else:
        unknown = layout_problem(post, file, options, shared.known)
        if unknown is not None:
            problems.append(unknown)
    focus = parse_focus(post.frontmatter.get(options.focus_key))
    bad_focus = focus_problem(post, file, options)
    if bad_focus is not None:
        problems.append(bad_focus)

    image_path, label, field, image_digest = _image_source(post, file, shared, problems)
    fields = _fields(post, shared.site, options)
    job = CardJob(
        post_id=post.id,
        layout=layout_name,
        layouts=shared.layouts,
        title=post.title,
        summary=post.summary or "",
        fields=fields,
        image_path=image_path,
        image_label=label,
        image_field=field,
        focus=focus,
        options=options,
        forced=forced,
    )
    components = {
        **shared.components,
        "text": digest([post.title, post.summary or "", fields, layout_name, forced]),
        "image": image_digest,
        "focus": digest(focus),
    }
    return Prepared(post, file, job, components, digest(components))


def _image_source(
    post: Post, file: str, shared: Shared, problems: list[Problem]
) -> tuple[str | None, str, str, str]:
    """(path to read, label for messages, frontmatter field, digest of the bytes)."""
    options = shared.options
    if post.og_image is not None:
        label = f"'{post.og_image.name}'"
        try:
            # stat first: hashing a FIFO or a 1 GiB file would hang or take minutes.
            check_file(post.og_image, options.max_image_bytes)
        except SourceImageError as exc:
            # Rendering reports it with the text-only fallback; keep a distinct key.
            return str(post.og_image), label, "ogImage", f"refused: {exc.message}"
        try:
            return str(post.og_image), label, "ogImage", shared.cache.digest(post.og_image)
        except OSError:
            # Rendering reports it with the text-only fallback; keep a distinct key.
            return str(post.og_image), label, "ogImage", "unreadable"
    url = post.og_image_url
    if url is None or not options.remote_images:
        return None, "", "ogImage", "none"
    if not shared.fetch_remote and not cached_path(url, shared.cache_dir).is_file():
        problems.append(
            Problem(
                file=file,
                field="ogImageUrl",
                message=f"{url} was not downloaded: dry runs and previews make no network request",
                fix="`publish build` fetches it (or `publish preview --fetch-images`)",
                severity="info",
            )
        )
        return None, url, "ogImageUrl", f"not fetched: {url}"
    limits = FetchLimits(
        timeout=options.remote_timeout,
        max_bytes=options.remote_max_bytes,
        policy=AddressPolicy.from_config(options.remote_allow_networks),
    )
    try:
        path = fetch_image(url, cache_dir=shared.cache_dir, limits=limits)
    except SourceImageError as exc:
        problems.append(
            Problem(
                file=file,
                field="ogImageUrl",
                message=f"{url} {exc.message}",
                fix=f"{exc.fix}; until then the card has no image",
                severity="warning",
            )
        )
        return None, url, "ogImageUrl", f"failed: {url}"
    return str(path), url, "ogImageUrl", shared.cache.digest(path)


def reason(item: Prepared, cache: RenderCache, force: bool) -> str:
    """Why ``item``'s card is rendered: the inputs that changed since the last build."""
    if force:
        return "rendering was asked for"
    before = cache.previous_inputs.get(item.post.id)
    if not isinstance(before, dict):
        return "new card"
    changed = [REASONS[k] for k in REASONS if before.get(k) != item.components.get(k)]
    return "; ".join(changed) if changed else "not in the render cache"
