"""The cards stage: posts in, card images, meta-tag snippets and a manifest out.

For each post the inputs that shape its card (layout, text, fonts, image bytes, options,
tool version) are hashed (:mod:`publisher.cards.inputs`); a card whose hash is in the
render cache is reused without decoding anything, the rest are rendered in parallel worker
processes. Each card is written as soon as it is rendered, in post order, while the workers
draw the next ones. Output bytes do not depend on the worker count: each card is rendered
by the same pure function.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Required, TypedDict, Unpack

from publisher.cards import fonts
from publisher.cards.cache import RenderCache, Stored, describe
from publisher.cards.inputs import NO_POST_LAYOUT, Prepared, prepare, reason, shared_inputs
from publisher.cards.job import CardJob, Note, Rendered
from publisher.cards.layout import Layout, available, load_layout, load_layouts
from publisher.cards.meta import MANIFEST, Card, feed_links, manifest
from publisher.cards.options import CardOptions, layout_folders
from publisher.cards.publish import Publisher
from publisher.config import SiteConfig
from publisher.errors import CardError, Problem
from publisher.interrupts import ctrl_c_deferred
from publisher.output import OutputWriter
from publisher.posts import display_path
from publisher.posts.model import Post
from publisher.posts.workers import die_with_parent

if TYPE_CHECKING:
    from publisher.feeds.options import FeedOptions

Progress = Callable[[int], None]
#: A card found in the render cache: its description and, unless its file is still in
#: place in the output folder (``Publisher.in_place``), its bytes.
Found = tuple[Stored, bytes | None]


class OneCardArgs(TypedDict, total=False):
    """Keyword arguments of :func:`render_one` (see :class:`CardRun`)."""

    output: Required[OutputWriter]
    cache_dir: Required[Path]
    fetch_remote: bool | None
    root: Path | None
    feeds: FeedOptions | None


class CardRunArgs(OneCardArgs, total=False):
    """Keyword arguments of :func:`build_cards` (see :class:`CardRun`)."""

    jobs: int | None
    dry_run: bool
    progress: Progress | None
    force: bool
    write_manifest: bool


@dataclass(frozen=True, kw_only=True)
class CardRun:
    """How one run of the cards stage works: where it writes, what it may do.

    ``fetch_remote``: whether a remote ``ogImageUrl`` not yet in the cache may be
    downloaded. By default only a real run does; a dry run (``dry_run`` or an output
    writer in dry-run mode) makes no network request and uses cached copies only.
    ``feeds``: the site's feed options when feeds are built; each meta snippet then
    carries the feed-discovery ``<link rel="alternate">`` tags.
    """

    output: OutputWriter
    cache_dir: Path
    jobs: int | None = None
    dry_run: bool = False
    progress: Progress | None = None
    fetch_remote: bool | None = None
    root: Path | None = None
    force: bool = False
    write_manifest: bool = True
    feeds: FeedOptions | None = None

    @property
    def may_fetch(self) -> bool:
        if self.fetch_remote is not None:
            return self.fetch_remote
        return not (self.dry_run or self.output.dry_run)


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


def build_cards(
    site: SiteConfig, posts: Sequence[Post], options: CardOptions, **kwargs: Unpack[CardRunArgs]
) -> CardsResult:
    """Render (or reuse) every post's card and write it, its meta tags and the manifest.

    The keyword arguments are :class:`CardRun`'s. Raises CardError for problems that stop
    every card (a broken layout file, a missing font); a problem with one post's image or
    text is a Problem in the result.
    """
    run = CardRun(**kwargs)
    base = run.root or Path.cwd()
    problems: list[Problem] = []
    folders = layout_folders(options)
    layouts = _load_all(posts, options, folders)
    cache = RenderCache(run.cache_dir, readonly=run.dry_run)
    shared = shared_inputs(
        site, options, layouts, folders, cache, cache_dir=run.cache_dir, fetch_remote=run.may_fetch
    )
    prepared = [prepare(post, display_path(post.source, base), shared, problems) for post in posts]

    publisher = Publisher(
        site=site,
        options=options,
        output=run.output,
        cache=cache,
        links=feed_links(site, run.feeds),
    )
    found: list[Found | None] = []
    planned: list[Planned] = []
    for item in prepared:
        hit = None if run.force else _find(item, cache, publisher)
        found.append(hit)
        if hit is None:
            planned.append(Planned(post_id=item.post.id, reason=reason(item, cache, run.force)))
    if planned or not prepared:
        # Only before drawing: a cached card was drawn with fonts of the bytes its key
        # hashes, so they were readable (parsing their character maps took a third of a
        # build with nothing to draw).
        _check_fonts(options)
    reused = len(prepared) - len(planned)
    if run.progress is not None and reused:
        run.progress(reused)
    if run.dry_run:
        return CardsResult(
            cards=(),
            problems=tuple(_sorted(problems)),
            rendered=0,
            reused=reused,
            planned=tuple(planned),
        )

    cards, later = _render_and_publish(publisher, run, prepared, found)
    if run.write_manifest:
        run.output.write_text(f"{options.folder}/{MANIFEST}", manifest(cards))
        cache.save({item.post.id: item.components for item in prepared})
    else:
        cache.save(None)
    return CardsResult(
        cards=tuple(cards),
        problems=tuple(_sorted(problems + later)),
        rendered=len(planned),
        reused=reused,
        planned=tuple(planned),
    )


def _find(item: Prepared, cache: RenderCache, publisher: Publisher) -> Found | None:
    """The card cached under ``item``'s key: without its bytes when its file is in place,
    else with them (checked against their hash); None when it must be rendered."""
    stored = cache.stored(item.key)
    if stored is None or publisher.in_place(item, stored):
        return None if stored is None else (stored, None)
    data = cache.data(item.key, stored)
    return None if data is None else (stored, data)


def _render_and_publish(
    publisher: Publisher, run: CardRun, prepared: list[Prepared], found: list[Found | None]
) -> tuple[list[Card], list[Problem]]:
    """Render the cards not ``found`` in the cache and write every card, in post order.

    A card is written as soon as it and the ones before it are ready: the main process
    writes (and fsyncs) while the workers render, instead of writing every card after the
    last one is drawn. Returns the cards and the problems rendering reported.
    """
    misses = [item.job for item, hit in zip(prepared, found, strict=True) if hit is None]
    cards: list[Card] = []
    failures: list[Problem] = []
    notes: list[Problem] = []
    with closing(_render_all(misses, run.jobs, run.progress)) as rendered_cards:
        for item, hit in zip(prepared, found, strict=True):
            published = _publish(publisher, item, hit, rendered_cards)
            if isinstance(published, str):
                failures.append(_failure(item, published))
                continue
            card, stored = published
            notes.extend(_note_problems(item, stored.notes))
            cards.append(card)
    return cards, failures + notes


def _publish(
    publisher: Publisher,
    item: Prepared,
    hit: Found | None,
    rendered_cards: Iterator[Rendered | str],
) -> tuple[Card, Stored] | str:
    """Publish one card: the cached one, else the next rendered one (or why it failed)."""
    if hit is not None:
        card = publisher.publish(item, *hit)
        if card is not None:
            return card, hit[0]
    # Not cached, or its file changed since it was found in place: rendered now.
    rendered = next(rendered_cards) if hit is None else _render_safely(item.job)
    if isinstance(rendered, str):
        return rendered
    stored = describe(rendered)
    publisher.cache.put(item.key, rendered, stored)
    return publisher.write(item, stored, rendered.data), stored


def _failure(item: Prepared, why: str) -> Problem:
    return Problem(
        file=item.file,
        field=None,
        message=f"card could not be rendered: {why}",
        fix="see the message; the post has no card until it is fixed",
    )


def _note_problems(item: Prepared, notes: tuple[Note, ...]) -> list[Problem]:
    return [
        Problem(
            file=item.file,
            field=note.field,
            message=note.message,
            fix=note.fix,
            severity="error" if note.severity == "error" else "warning",
        )
        for note in notes
    ]


def render_one(
    site: SiteConfig,
    post: Post,
    options: CardOptions,
    *,
    layout: str | None = None,
    **kwargs: Unpack[OneCardArgs],
) -> CardsResult:
    """Render one post's card now, ignoring the cache (for ``publish cards --post``).

    ``layout`` overrides the post's and the site's layout choice. The manifest is left
    alone; the card image and its meta tags are written as in a full build.
    """
    if layout is not None:
        options = _with_layout(options, layout)
    return build_cards(site, [post], options, jobs=1, force=True, write_manifest=False, **kwargs)


def _with_layout(options: CardOptions, layout: str) -> CardOptions:
    values = asdict(options)
    values["layout"] = layout
    values["layout_key"] = NO_POST_LAYOUT
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


def _render_safely(job: CardJob) -> Rendered | str:
    # Imported here, where a card is drawn: a build with nothing to draw never loads the
    # renderer and the imaging modules it draws with (issue 12).
    from publisher.cards import render

    try:
        return render.render_card(job)
    except CardError as exc:
        return str(exc)
    except Exception as exc:  # a decoder or font bug must not stop the other cards
        return f"{type(exc).__name__}: {exc}"


def _render_all(
    jobs_in: list[CardJob], jobs: int | None, progress: Progress | None
) -> Generator[Rendered | str, None, None]:
    """Each job's card (or why it failed), in order; a pool only for two jobs or more."""
    workers = min(jobs if jobs is not None else (os.cpu_count() or 1), len(jobs_in))
    if workers > 1:
        pool = ProcessPoolExecutor(
            max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)
        )
        try:
            with ctrl_c_deferred():  # the workers are forked as the jobs are handed out
                results = pool.map(_render_safely, jobs_in, chunksize=1)
            for result in results:
                if progress is not None:
                    progress(1)
                yield result
        finally:
            # Closed early (a write failed): drop the cards not yet started.
            pool.shutdown(wait=True, cancel_futures=True)
        return
    for job in jobs_in:
        result = _render_safely(job)
        if progress is not None:
            progress(1)
        yield result


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.field or "", p.message))


__all__ = ["CardsResult", "Planned", "build_cards", "render_one"]
