"""The cards stage: posts in, card images, meta-tag snippets and a manifest out.

For each post the inputs that shape its card (layout, text, fonts, image bytes, options,
tool version) are hashed; a card whose hash is in the render cache is reused without
decoding anything, the rest are rendered in parallel worker processes. Output bytes do
not depend on the worker count: each card is rendered by the same pure function.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import PIL

from publisher import __version__
from publisher.cards import faces, fonts
from publisher.cards.addresses import AddressPolicy
from publisher.cards.cache import RenderCache
from publisher.cards.check import focus_problem, layout_problem
from publisher.cards.crop import parse_focus
from publisher.cards.fetch import FetchLimits, cached_path, fetch_image
from publisher.cards.images import SourceImageError, check_file
from publisher.cards.layout import Layout, available, load_layout, load_layouts
from publisher.cards.meta import (
    MANIFEST,
    Card,
    FeedLink,
    feed_links,
    manifest,
    meta_html,
    public_url,
)
from publisher.cards.options import CardOptions, layout_folders
from publisher.cards.render import RENDER_VERSION, CardJob, Rendered, render_card
from publisher.cards.text import clean_text
from publisher.config import SiteConfig
from publisher.errors import CardError, Problem
from publisher.output import OutputWriter
from publisher.posts import display_path
from publisher.posts.model import Post

if TYPE_CHECKING:
    from publisher.feeds.options import FeedOptions

Progress = Callable[[int], None]

#: ``layout_key`` while ``publish cards --layout`` overrides every post's choice.
_NO_POST_LAYOUT = "\0no-post-layout"

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

_REASONS = {
    "tool": "publisher, Pillow or the renderer changed",
    "layout": "the layout changed",
    "options": "card options changed",
    "fonts": "a font changed",
    "text": "the title, summary or meta line changed",
    "image": "the image changed",
    "focus": "the focal point changed",
}


@dataclass(frozen=True, kw_only=True)
class Planned:
    """A card that was (or in a dry run would be) rendered, and why."""

    post_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class CardsResult:
    cards: tuple[Card, ...]
    problems: tuple[Problem, ...]
    rendered: int
    reused: int
    planned: tuple[Planned, ...]


@dataclass(frozen=True)
class _Prepared:
    post: Post
    file: str
    job: CardJob
    components: dict[str, str]
    key: str


def build_cards(
    site: SiteConfig,
    posts: Sequence[Post],
    options: CardOptions,
    *,
    output: OutputWriter,
    cache_dir: Path,
    jobs: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    fetch_remote: bool | None = None,
    root: Path | None = None,
    force: bool = False,
    write_manifest: bool = True,
    feeds: FeedOptions | None = None,
) -> CardsResult:
    """Render (or reuse) every post's card and write it, its meta tags and the manifest.

    Raises CardError for problems that stop every card (a broken layout file, a missing
    font); a problem with one post's image or text is a Problem in the result.

    ``fetch_remote``: whether a remote ``ogImageUrl`` not yet in the cache may be
    downloaded. By default only a real run does; a dry run (``dry_run`` or an output
    writer in dry-run mode) makes no network request and uses cached copies only.

    ``feeds``: the site's feed options when feeds are built; each meta snippet then
    carries the feed-discovery ``<link rel="alternate">`` tags.
    """
    base = root or Path.cwd()
    problems: list[Problem] = []
    folders = layout_folders(options)
    layouts = _load_all(posts, options, folders)
    _check_fonts(options)
    cache = RenderCache(cache_dir, readonly=dry_run)
    if fetch_remote is None:
        fetch_remote = not (dry_run or output.dry_run)

    prepared: list[_Prepared] = []
    for post in posts:
        file = display_path(post.source, base)
        item = _prepare(
            post,
            file,
            site,
            options,
            layouts,
            folders,
            cache,
            cache_dir,
            fetch_remote,
            problems,
        )
        prepared.append(item)

    results: dict[str, Rendered] = {}
    misses: list[_Prepared] = []
    planned: list[Planned] = []
    for item in prepared:
        hit = None if force else cache.get(item.key)
        if hit is not None:
            results[item.post.id] = hit
        else:
            misses.append(item)
            planned.append(Planned(post_id=item.post.id, reason=_reason(item, cache, force)))
    reused = len(results)
    if progress is not None and reused:
        progress(reused)

    if dry_run:
        return CardsResult(
            cards=(),
            problems=tuple(_sorted(problems)),
            rendered=0,
            reused=reused,
            planned=tuple(planned),
        )

    for item, rendered in zip(
        misses, _render_all([m.job for m in misses], jobs, progress), strict=True
    ):
        if isinstance(rendered, str):
            problems.append(
                Problem(
                    file=item.file,
                    field=None,
                    message=f"card could not be rendered: {rendered}",
                    fix="see the message; the post has no card until it is fixed",
                )
            )
            continue
        cache.put(item.key, rendered)
        results[item.post.id] = rendered

    links = feed_links(site, feeds)
    cards: list[Card] = []
    for item in prepared:
        rendered_card = results.get(item.post.id)
        if rendered_card is None:
            continue
        for note in rendered_card.notes:
            problems.append(
                Problem(
                    file=item.file,
                    field=note.field,
                    message=note.message,
                    fix=note.fix,
                    severity="error" if note.severity == "error" else "warning",
                )
            )
        cards.append(_publish(item, rendered_card, site, options, output, links))
    if write_manifest:
        output.write_text(f"{options.folder}/{MANIFEST}", manifest(cards))
        cache.save({item.post.id: item.components for item in prepared})
    else:
        cache.save(None)
    return CardsResult(
        cards=tuple(cards),
        problems=tuple(_sorted(problems)),
        rendered=len(misses),
        reused=reused,
        planned=tuple(planned),
    )


def render_one(
    site: SiteConfig,
    post: Post,
    options: CardOptions,
    *,
    output: OutputWriter,
    cache_dir: Path,
    fetch_remote: bool | None = None,
    root: Path | None = None,
    layout: str | None = None,
    feeds: FeedOptions | None = None,
) -> CardsResult:
    """Render one post's card now, ignoring the cache (for ``publish cards --post``).

    ``layout`` overrides the post's and the site's layout choice. The manifest is left
    alone; the card image and its meta tags are written as in a full build.
    """
    if layout is not None:
        options = _with_layout(options, layout)
    return build_cards(
        site,
        [post],
        options,
        output=output,
        cache_dir=cache_dir,
        jobs=1,
        fetch_remote=fetch_remote,
        root=root,
        force=True,
        write_manifest=False,
        feeds=feeds,
    )


def _with_layout(options: CardOptions, layout: str) -> CardOptions:
    values = asdict(options)
    values["layout"] = layout
    values["layout_key"] = _NO_POST_LAYOUT
    return CardOptions(**values)


def _load_all(
    posts: Sequence[Post], options: CardOptions, folders: tuple[Path, ...]
) -> dict[str, Layout]:
    default = load_layout(options.layout, folders)  # a broken default stops the stage
    names = {options.layout}
    known = set(available(folders))
    for post in posts:
        chosen = post.frontmatter.get(options.layout_key)
        if isinstance(chosen, str) and chosen in known:
            names.add(chosen)
    layouts, problems = load_layouts(tuple(sorted(names)), folders)
    if problems:
        raise CardError("\n".join(problems))
    layouts[default.name] = default
    return dict(layouts)


def _check_fonts(options: CardOptions) -> None:
    for path in (options.regular_font, options.bold_font):
        if not path.is_file() or not fonts.coverage(str(path)):
            raise CardError(
                f"font {path} cannot be read; point cards.fonts.regular/bold at a .ttf or .otf file"
            )


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


def _prepare(
    post: Post,
    file: str,
    site: SiteConfig,
    options: CardOptions,
    layouts: dict[str, Layout],
    folders: tuple[Path, ...],
    cache: RenderCache,
    cache_dir: Path,
    fetch_remote: bool,
    problems: list[Problem],
) -> _Prepared:
    layout_name = options.layout
    chosen = post.frontmatter.get(options.layout_key)
    forced = options.layout_key == _NO_POST_LAYOUT
    if isinstance(chosen, str) and chosen in layouts:
        layout_name = chosen
        forced = True
    else:
        unknown = layout_problem(post, file, options, available(folders))
        if unknown is not None:
            problems.append(unknown)
    focus = parse_focus(post.frontmatter.get(options.focus_key))
    bad_focus = focus_problem(post, file, options)
    if bad_focus is not None:
        problems.append(bad_focus)

    image_path, label, field, image_digest = _image_source(
        post, file, options, cache, cache_dir, fetch_remote, problems
    )
    fields = _fields(post, site, options)
    job = CardJob(
        post_id=post.id,
        layout=layout_name,
        layouts=layouts,
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
    chain = sorted({str(options.regular_font), str(options.bold_font)})
    components = {
        "tool": _digest(
            [__version__, PIL.__version__, RENDER_VERSION, fonts.RAQM, faces.detector()]
        ),
        "layout": _digest(sorted((n, layouts[n].digest) for n in layouts)),
        "options": _digest(asdict(options)),
        "fonts": _digest(
            [fonts.file_digest(p) for p in chain]
            + [
                fonts.font_stamp(p)
                for weight in ("regular", "bold")
                for p in fonts.chain_for(
                    "", options.fallback_fonts, weight, options.fallback_fonts_bold
                )[1:]
            ]
        ),
        "text": _digest([post.title, post.summary or "", fields, layout_name, forced]),
        "image": image_digest,
        "focus": _digest(focus),
    }
    return _Prepared(post, file, job, components, _digest(components))


def _image_source(
    post: Post,
    file: str,
    options: CardOptions,
    cache: RenderCache,
    cache_dir: Path,
    fetch_remote: bool,
    problems: list[Problem],
) -> tuple[str | None, str, str, str]:
    """(path to read, label for messages, frontmatter field, digest of the bytes)."""
    if post.og_image is not None:
        label = f"'{post.og_image.name}'"
        try:
            # stat first: hashing a FIFO or a 1 GiB file would hang or take minutes.
            check_file(post.og_image, options.max_image_bytes)
        except SourceImageError as exc:
            # Rendering reports it with the text-only fallback; keep a distinct key.
            return str(post.og_image), label, "ogImage", f"refused: {exc.message}"
        try:
            return str(post.og_image), label, "ogImage", cache.digest(post.og_image)
        except OSError:
            # Rendering reports it with the text-only fallback; keep a distinct key.
            return str(post.og_image), label, "ogImage", "unreadable"
    url = post.og_image_url
    if url is None or not options.remote_images:
        return None, "", "ogImage", "none"
    label = url
    if not fetch_remote and not cached_path(url, cache_dir).is_file():
        problems.append(
            Problem(
                file=file,
                field="ogImageUrl",
                message=f"{url} was not downloaded: dry runs and previews make no network request",
                fix="`publish build` fetches it (or `publish preview --fetch-images`)",
                severity="info",
            )
        )
        return None, label, "ogImageUrl", f"not fetched: {url}"
    limits = FetchLimits(
        timeout=options.remote_timeout,
        max_bytes=options.remote_max_bytes,
        policy=AddressPolicy.from_config(options.remote_allow_networks),
    )
    try:
        path = fetch_image(url, cache_dir=cache_dir, limits=limits)
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
        return None, label, "ogImageUrl", f"failed: {url}"
    return str(path), label, "ogImageUrl", cache.digest(path)


def _reason(item: _Prepared, cache: RenderCache, force: bool) -> str:
    if force:
        return "rendering was asked for"
    before = cache.previous_inputs.get(item.post.id)
    if not isinstance(before, dict):
        return "new card"
    changed = [_REASONS[k] for k in _REASONS if before.get(k) != item.components.get(k)]
    return "; ".join(changed) if changed else "not in the render cache"


def _render_safely(job: CardJob) -> Rendered | str:
    try:
        return render_card(job)
    except CardError as exc:
        return str(exc)
    except Exception as exc:  # a decoder or font bug must not stop the other cards
        return f"{type(exc).__name__}: {exc}"


def _render_all(
    jobs_in: list[CardJob], jobs: int | None, progress: Progress | None
) -> Iterator[Rendered | str]:
    workers = min(jobs if jobs is not None else (os.cpu_count() or 1), len(jobs_in))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for result in pool.map(_render_safely, jobs_in, chunksize=1):
                if progress is not None:
                    progress(1)
                yield result
        return
    for job in jobs_in:
        result = _render_safely(job)
        if progress is not None:
            progress(1)
        yield result


def _publish(
    item: _Prepared,
    rendered: Rendered,
    site: SiteConfig,
    options: CardOptions,
    output: OutputWriter,
    links: tuple[FeedLink, ...],
) -> Card:
    post = item.post
    extension = "jpg" if rendered.format == "jpeg" else "png"
    content = hashlib.sha256(rendered.data).hexdigest()[:12]
    path = f"{options.folder}/{post.id}.{content}.{extension}"
    output.write_bytes(path, rendered.data)
    card = Card(
        post_id=post.id,
        path=path,
        url=public_url(site.url, path),
        width=rendered.width,
        height=rendered.height,
        bytes=len(rendered.data),
        mime=f"image/{rendered.format}",
        alt=rendered.alt,
        layout=rendered.layout,
        meta_html="",
        rule=rendered.rule,
    )
    description = clean_text(post.summary) or site.description
    html = meta_html(
        site,
        post,
        title=clean_text(post.title),
        description=description,
        card=card,
        feeds=links,
    )
    output.write_text(f"{options.folder}/{post.id}.html", html)
    return Card(**{**asdict(card), "meta_html": html})


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.field or "", p.message))


__all__ = ["CardsResult", "Planned", "build_cards", "render_one"]
