"""``build_preview``: run the build, then write ``preview/index.html`` beside its output.

The preview folder is self-contained (the pages and small copies of the cards, nothing
else), so it can be opened from disk, served, or uploaded alone as a pull request's build
artifact. The full cards are rendered into a throw-away folder: only their small copies
are kept, which keeps a big blog's preview folder small.
In a dry run the build writes nothing, as always, and the preview folder is still
written: it is what a dry run is for here. Cards for the preview are then rendered with
a throw-away copy of the render cache, so the state folder is not touched either.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from PIL import Image

from publisher.announce import Announcer, Card, Decision, RunSettings, run_announcements
from publisher.announce.live import LiveCheck
from publisher.announce.run import build_announcers
from publisher.announcing import ledger_path
from publisher.build import BuildResult, ProgressFactory, build_site
from publisher.cards import Card as PublishedCard
from publisher.cards import CardsResult, build_cards
from publisher.cards.fetch import cached_path
from publisher.config import Config
from publisher.errors import OutputError, Problem
from publisher.feeds.items import newest_first
from publisher.output import OutputWriter, Write
from publisher.posts import display_path
from publisher.posts.model import Post
from publisher.preview.notices import Facts, notices
from publisher.preview.page import PER_PAGE, render_pages
from publisher.preview.sections import (
    announcement_views,
    card_view,
    feed_view,
    image_width,
    page_meta,
    status_of,
)
from publisher.preview.thumbs import FOLDER as FOLDER_THUMBS
from publisher.preview.thumbs import existing, thumbnail, thumbnail_path
from publisher.preview.unfurl import unfurls
from publisher.preview.views import Section

#: The preview's folder inside the output folder.
FOLDER = "preview"
PAGE = "index.html"


@dataclass(frozen=True, kw_only=True)
class PreviewResult:
    build: BuildResult
    folder: Path
    #: The first page, ``index.html``: the overview of every post and the first sections.
    page: Path
    #: Every page, the first one first (one unless there are more than ``per_page`` posts).
    pages: tuple[Path, ...]
    sections: tuple[Section, ...]
    #: What the preview itself wrote (the build's own writes are in ``build.writes``).
    writes: tuple[Write, ...]
    #: Problems that belong to no post (a failed WebSub ping, a broken logo...).
    site_problems: tuple[Problem, ...]


def _nothing_is_live_checked(urls: Sequence[str]) -> dict[str, bool]:
    return dict.fromkeys(urls, True)


def build_preview(
    config: Config,
    *,
    now: datetime,
    dry_run: bool = False,
    jobs: int | None = None,
    live_check: LiveCheck | None = None,
    progress: ProgressFactory | None = None,
    fetch_images: bool = False,
    per_page: int = PER_PAGE,
) -> PreviewResult:
    """Build the site (writing nothing in a dry run) and write the preview page.

    The preview makes no network request of its own unless asked:

    ``live_check``: how to ask whether pages are live (see ``publisher.announce.live``);
    by default nothing is asked and every page counts as live.
    ``fetch_images``: download remote ``ogImageUrl`` images not yet in the cache (the
    posts may come from an untrusted pull request); by default a card uses a cached copy
    or is drawn without its image, with a notice saying so.
    ``per_page``: post sections per page (0: every post on one page).
    """
    folder = config.output / FOLDER
    # The writer keeps every write inside its own folder; the folder itself must not be
    # a link a pull request planted (``public/preview -> ~/.ssh``) to write elsewhere.
    if not folder.resolve().is_relative_to(config.output.resolve()):
        raise OutputError(
            f"refusing to write the preview: {FOLDER}/ in the output folder {config.output} "
            "is a symbolic link leading outside it; delete the link"
        )
    build = (
        build_site(config, now=now, dry_run=dry_run, jobs=jobs, progress=progress)
        if progress is not None
        else build_site(config, now=now, dry_run=dry_run, jobs=jobs)
    )
    posts = tuple(newest_first((*build.published, *build.scheduled, *build.drafts), config.site))
    writer = OutputWriter(folder)
    cards: CardsResult | None = None
    thumbs: dict[str, str] = {}
    with (
        _card_cache(config, dry_run) as cache_dir,
        tempfile.TemporaryDirectory(prefix="publisher-cards-") as rendered,
    ):
        # Full cards go to a throw-away folder: the page shows small copies of them
        # (thumbs.py), and drafts' cards must not reach the site's own og/ folder.
        card_folder = Path(rendered)
        if config.cards.enabled:
            cards = build_cards(
                config.site,
                posts,
                config.cards.options,
                output=OutputWriter(card_folder),
                cache_dir=cache_dir,
                jobs=jobs,
                root=config.root,
                write_manifest=False,
                fetch_remote=fetch_images,
            )
            thumbs = _thumbnails(cards, card_folder, writer, jobs)
        stages = _stages(config, build, cards, thumbs, cache_dir, now, live_check, card_folder)
        sections = tuple(_section(stages, post) for post in posts)
    known = {display_path(p.source, config.root) for p in build.read.posts}
    everything = (
        *build.read.problems,
        *build.problems,
        *(cards.problems if cards else ()),
    )
    site_problems = tuple(dict.fromkeys(p for p in everything if p.file not in known))
    pages = render_pages(config, sections, site_problems, dry_run=dry_run, per_page=per_page)
    for name, html in pages.items():
        writer.write_text(name, html)
    if not dry_run:  # withdrawn posts and superseded cards leave the preview too
        writer.sweep(config.state / "preview-outputs.json")
    return PreviewResult(
        build=build,
        folder=folder,
        page=folder / PAGE,
        pages=tuple(folder / name for name in pages),
        sections=sections,
        writes=tuple(writer.writes),
        site_problems=site_problems,
    )


@contextmanager
def _card_cache(config: Config, dry_run: bool) -> Iterator[Path]:
    """The state folder, or in a dry run a disposable copy of its card cache."""
    if not dry_run:
        yield config.state
        return
    with tempfile.TemporaryDirectory(prefix="publisher-preview-") as temp:
        source = config.state / "cards.sqlite"  # the render cache (cards/cache.py)
        if source.is_file():
            # A copy, not a link: SQLite writes the file in place.
            shutil.copy2(source, Path(temp) / "cards.sqlite")
        remote = config.state / "remote"
        if remote.is_dir():
            shutil.copytree(remote, Path(temp) / "remote", copy_function=_link_or_copy)
        yield Path(temp)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@dataclass(frozen=True, kw_only=True)
class _Stages:
    """What every post's section is made from: the stages' results for the whole site."""

    config: Config
    now: datetime
    cache_dir: Path
    thumbs: Mapping[str, str]
    cards: Mapping[str, PublishedCard]
    #: The cards as the announcers see them (rendered into the throw-away folder).
    announce_cards: Mapping[str, Card]
    announcers: Sequence[Announcer]
    decisions: Mapping[tuple[str, str], Decision]
    #: (stage, problem) by the file the problem is in.
    problems: Mapping[str, Sequence[tuple[str, Problem]]]
    #: Each published post's place in the feeds, newest first.
    positions: Mapping[str, int]


def _stages(
    config: Config,
    build: BuildResult,
    cards: CardsResult | None,
    thumbs: Mapping[str, str],
    cache_dir: Path,
    now: datetime,
    live_check: LiveCheck | None,
    folder: Path,
) -> _Stages:
    by_post = {c.post_id: c for c in cards.cards} if cards else {}
    announce_cards = {
        c.post_id: Card(url=c.url, path=folder / c.path, alt=c.alt, mime=c.mime)
        for c in by_post.values()
    }
    return _Stages(
        config=config,
        now=now,
        cache_dir=cache_dir,
        thumbs=thumbs,
        cards=by_post,
        announce_cards=announce_cards,
        announcers=build_announcers(
            config.announce.targets, root=config.root, state_dir=config.state
        )
        if config.announce.enabled
        else [],
        decisions=_decisions(config, build, now, live_check, announce_cards),
        problems=_problems_by_file(build, cards),
        positions={p.id: i for i, p in enumerate(newest_first(build.published, config.site))},
    )


def _problems_by_file(
    build: BuildResult, cards: CardsResult | None
) -> dict[str, list[tuple[str, Problem]]]:
    problems: dict[str, list[tuple[str, Problem]]] = {}
    staged = [
        *(("post", p) for p in build.read.problems),
        *(("card", p) for p in (cards.problems if cards else ())),
        *(("build", p) for p in build.problems if cards is None or p not in cards.problems),
    ]
    for stage, problem in dict.fromkeys(staged):
        problems.setdefault(problem.file, []).append((stage, problem))
    return problems


def _section(stages: _Stages, post: Post) -> Section:
    config, now = stages.config, stages.now
    status = status_of(post, now)
    published_card = stages.cards.get(post.id)
    view = card_view(published_card, config.cards.options.max_bytes, stages.thumbs.get(post.id, ""))
    meta = page_meta(config, post, published_card)
    shared = unfurls(meta, view.picture if view else None)
    announcements = announcement_views(
        post,
        status,
        stages.announcers,
        stages.decisions,
        stages.announce_cards.get(post.id) or _remote_card(post),
        config.site.language,
        now,
    )
    source = post.og_image
    if source is None and post.og_image_url:
        cached = cached_path(post.og_image_url, stages.cache_dir)
        source = cached if cached.is_file() else None
    facts = Facts(
        post=post,
        status=status,
        problems=stages.problems.get(display_path(post.source, config.root), ()),
        card=view,
        source_width=image_width(source, config.cards.options),
        unfurls=shared,
        announcements=announcements,
        decisions={k: d for k, d in stages.decisions.items() if k[0] == post.id},
        cards_enabled=config.cards.enabled,
    )
    return Section(
        post=post,
        status=status,
        card=view,
        meta=meta,
        unfurls=shared,
        announcements=announcements,
        feed=feed_view(config, post, status, stages.positions.get(post.id)),
        notices=notices(facts),
    )


def _thumbnails(
    cards: CardsResult, rendered: Path, writer: OutputWriter, jobs: int | None
) -> dict[str, str]:
    """Write a small copy of each card beside the page; the page path of each, by post id.

    A copy an earlier run left is reused (its name holds the card's hash); new ones are
    made on ``jobs`` threads (Pillow lets go of the GIL while it decodes and encodes) and
    written in the cards' order, so the output does not depend on the threads.
    """
    wanted = [(card, thumbnail_path(card.path)) for card in cards.cards]

    def make(item: tuple[PublishedCard, str]) -> tuple[str, bytes]:
        card, relative = item
        found = existing(writer.root, relative)
        if found is not None:
            return relative, found
        data = (rendered / card.path).read_bytes()
        try:
            return relative, thumbnail(data)
        except (OSError, ValueError, Image.DecompressionBombError):
            # A card Pillow cannot scale (a format a plugin lacks): show it whole, never fail.
            return f"{FOLDER_THUMBS}/{PurePosixPath(card.path).name}", data

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        made = list(pool.map(make, wanted))
    paths = {}
    for (card, _), (relative, data) in zip(wanted, made, strict=True):
        writer.write_bytes(relative, data)
        paths[card.post_id] = relative
    return paths


def _remote_card(post: Post) -> Card | None:
    return Card(url=post.og_image_url, alt=post.title) if post.og_image_url else None


def _decisions(
    config: Config,
    build: BuildResult,
    now: datetime,
    live_check: LiveCheck | None,
    cards: Mapping[str, Card],
) -> dict[tuple[str, str], Decision]:
    """What an announce run right now would decide for each published post and target."""
    if not config.announce.enabled or not config.announce.targets:
        return {}
    settings = RunSettings(
        ledger_path=ledger_path(config),
        now=now,
        root=config.root,
        dry_run=True,
        live_check=live_check or _nothing_is_live_checked,
        live_wait=config.announce.live_wait,
        cards=cards,
        language=config.site.language,
    )
    report = run_announcements(config.announce.targets, build.published, settings=settings)
    return {(d.post_id, d.target): d for d in report.decisions}
