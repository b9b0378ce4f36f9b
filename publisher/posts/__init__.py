"""Read a folder of posts into frozen :class:`Post` objects and diagnostics.

``read_posts`` is the stage function: it finds the post files, parses each one (from the
content-hash cache when its bytes have not changed, in parallel when many have), then
applies the rules that need all posts at once: og image files exist, URLs are unique,
tags spelled differently are grouped under their most common spelling.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import Any

from publisher.config import Config
from publisher.errors import Problem
from publisher.posts.cache import (
    PostCache,
    body_of,
    content_key,
    detach,
    encode_entry,
    fingerprint,
)
from publisher.posts.fields import tag_key
from publisher.posts.files import read_regular
from publisher.posts.model import Author, Post, ReadResult
from publisher.posts.reader import ReadContext, Record, parse_post, unexpected
from publisher.posts.sources import get as get_source
from publisher.posts.sources.base import SourceRules
from publisher.posts.text import preview, printable

__all__ = ["Author", "Post", "Progress", "ReadResult", "read_posts"]

#: Below this many files to parse, a process pool costs more than it saves.
PARALLEL_THRESHOLD = 200

Progress = Callable[[int], None]


def context_for(config: Config) -> ReadContext:
    return ReadContext(
        site_url=config.site.url,
        timezone=config.site.timezone,
        summary_keys=config.posts.summary_keys,
        default_path=config.posts.default_path,
        default_author=config.site.author.name if config.site.author else None,
        default_author_email=config.site.author.email if config.site.author else None,
        rules=config.posts.rules or SourceRules(),
    )


def display_path(path: Path, root: Path) -> str:
    """A path for messages: relative to the config's folder, or the working folder, if inside.

    Always valid UTF-8: a name that is not (kept by Python as surrogate escapes) shows
    its stray bytes as ``\\xff``, so printing or encoding a message never fails.
    """
    for base in (root, Path.cwd()):
        if path.is_relative_to(base):
            return printable_name(path.relative_to(base).as_posix())
    return printable_name(path.as_posix())


def printable_name(name: str) -> str:
    """``name`` with the bytes of a non-UTF-8 file name written as ``\\xNN``."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


def _printable(problem: Problem) -> Problem:
    """The problem with the post's own text in it made safe to print (see ``printable``)."""
    parts = (problem.file, problem.field, problem.message, problem.fix)
    safe = tuple(printable(part) if part is not None else None for part in parts)
    if safe == parts:
        return problem
    file, field, message, fix = safe
    assert file is not None and message is not None
    return dataclasses.replace(problem, file=file, field=field, message=message, fix=fix)


def _refuse(path: Path, file: str, folder: Path) -> Problem | None:
    """Why a found post file must not be read at all, or None.

    ``glob`` follows symbolic links, so a post folder or index.md that links outside the
    posts folder would publish any file the process can read (``/etc/passwd`` as a post
    body). A link that stays inside the folder is fine.
    """
    relative = path.relative_to(folder).as_posix()
    if printable_name(relative) != relative:
        return Problem(
            file=file,
            field=None,
            message="has a folder or file name that is not valid UTF-8",
            fix="rename it with UTF-8 (or plain ASCII letters, digits and hyphens): "
            "the name becomes the post's id and URL",
        )
    if not relative.isprintable():
        return Problem(
            file=file,
            field=None,
            message="has a folder or file name with a control or invisible character",
            fix="rename it with plain letters, digits and hyphens: the name becomes the "
            "post's id and URL",
        )
    if not path.resolve().is_relative_to(folder.resolve()):
        return Problem(
            file=file,
            field=None,
            message="is a symbolic link (or inside one) that leads outside posts.folder; not read",
            fix="copy the post into the posts folder instead of linking to it",
        )
    return None


def find_post_files(config: Config) -> list[Path]:
    """The post files: by ``posts.glob`` for the generic layout, else as the generator finds them."""
    folder = config.posts.folder
    if config.posts.generator == "generic":
        return sorted(p for p in folder.glob(config.posts.glob) if p.is_file())
    if not folder.is_dir():
        return []
    return get_source(config.posts.generator).find(folder)


def post_id_for(path: Path, config: Config) -> str:
    """The post's id: its folder below posts.folder (generic), or its path without the
    extension and a trailing /index (generators, whose posts are often single files)."""
    relative = path.relative_to(config.posts.folder)
    if config.posts.generator != "generic":
        return get_source(config.posts.generator).post_id(relative.as_posix())
    post_id = relative.parent.as_posix()
    return path.stem if post_id == "." else post_id


def read_posts(
    config: Config,
    *,
    cache: PostCache | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> ReadResult:
    """Read every post under ``config.posts.folder``."""
    ctx = context_for(config)
    context_hash = fingerprint(ctx)
    files = find_post_files(config)
    problems: list[Problem] = []
    jobs_in: list[Job] = []
    keys: list[str] = []
    sources: list[tuple[Path, str]] = []
    for path in files:
        file = display_path(path, config.root)
        try:
            refused = _refuse(path, file, config.posts.folder)
            if refused is not None:
                problems.append(refused)
                continue
            raw = read_regular(path, ctx.limits.post_bytes)
            if raw is None:
                problems.append(
                    Problem(
                        file=file,
                        field=None,
                        message="is not a regular file (a named pipe, device or socket); not read",
                        fix="replace it with the post's markdown file",
                    )
                )
                continue
        except OSError as exc:
            problems.append(
                Problem(
                    file=file,
                    field=None,
                    message=f"cannot be read ({exc.strerror})",
                    fix="check the file's permissions",
                )
            )
            continue
        except Exception as exc:  # one post must not stop the run
            problems.append(unexpected(file, exc))
            continue
        post_id = post_id_for(path, config)
        jobs_in.append((raw, post_id, file, ctx, cache is not None))
        keys.append(content_key(raw, f"{context_hash}/{file}"))
        sources.append((path, file))

    cached = cache.get_many(keys) if cache is not None else {}
    entries: list[tuple[Record | None, list[Problem]] | None] = [cached.get(k) for k in keys]
    misses = [i for i, e in enumerate(entries) if e is None]
    if progress is not None and len(entries) - len(misses):
        progress(len(entries) - len(misses))
    parsed = _parse_all([jobs_in[i] for i in misses], jobs, progress)
    del jobs_in  # the raw bytes are not needed any more
    stored: list[int] = []  # written to the cache; bodies read back from it when used
    for index, (fresh, encoded) in zip(misses, parsed, strict=True):
        entries[index] = fresh
        if cache is not None and encoded is not None:
            stored.append(index)
            if cache.put_encoded(keys[index], encoded):
                _detach_bodies(cache, entries, keys, stored)
    if cache is not None and cache.commit(keys):
        _detach_bodies(cache, entries, keys, stored)

    records: list[tuple[Record, Path, str]] = []
    for entry, (source, file) in zip(entries, sources, strict=True):
        assert entry is not None
        record, entry_problems = entry
        problems.extend(entry_problems)
        if record is not None:
            records.append((record, source, file))
    posts = _finalize(records, config, problems)
    problems = [_printable(p) for p in problems]
    problems.sort(key=lambda p: (p.file, p.line or 0, p.field or "", p.message))
    return ReadResult(
        posts=tuple(posts),
        problems=tuple(problems),
        files=len(files),
        cache_hits=len(entries) - len(misses),
    )


def _detach_bodies(
    cache: PostCache,
    entries: list[tuple[Record | None, list[Problem]] | None],
    keys: list[str],
    stored: list[int],
) -> None:
    """Drop the bodies of the ``stored`` entries from memory (issue 12); empties ``stored``."""
    store = cache.store()
    for index in stored:
        entry = entries[index]
        if store is not None and entry is not None and entry[0] is not None:
            detach(entry[0], store, keys[index])
    stored.clear()


#: (raw bytes, post id, file for messages, read context, encode for the cache?)
Job = tuple[bytes, str, str, ReadContext, bool]
Entry = tuple[Record | None, list[Problem]]


def _parse_one(job: Job) -> tuple[Entry, str | None]:
    """Parse one file; the cache's JSON is made here too, so a worker process does it."""
    raw, post_id, file, ctx, encode = job
    entry = parse_post(raw, post_id, file, ctx)
    if not encode:
        return entry, None
    try:
        return entry, encode_entry(entry)
    except (TypeError, ValueError, RecursionError):
        return entry, None  # a value JSON cannot hold: read this post afresh every time


def _parse_all(
    jobs_in: list[Job],
    jobs: int | None,
    progress: Progress | None,
) -> Iterable[tuple[Entry, str | None]]:
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers > 1 and len(jobs_in) >= PARALLEL_THRESHOLD:
        chunk = max(8, len(jobs_in) // (workers * 8))
        done = 0
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for result in pool.map(_parse_one, jobs_in, chunksize=chunk):
                    if progress is not None:
                        progress(1)
                    done += 1
                    yield result
            return
        except BrokenProcessPool:
            pass
        # A worker died (killed for memory, a crash in a C library): which post did it is
        # unknown, so each post not read yet gets a process of its own, and only the post
        # that kills its process is lost.
        for job in jobs_in[done:]:
            result = _parse_isolated(job)
            if progress is not None:
                progress(1)
            yield result
        return
    for job in jobs_in:
        result = _parse_one(job)
        if progress is not None:
            progress(1)
        yield result


def _parse_isolated(job: Job) -> tuple[Entry, str | None]:
    try:
        with ProcessPoolExecutor(max_workers=1) as pool:
            return pool.submit(_parse_one, job).result()
    except BrokenProcessPool:
        problem = Problem(
            file=job[2],
            field=None,
            message="could not be read: the process reading it stopped (out of memory?)",
            fix="this is a bug in publisher, please report it with this post attached",
        )
        return ((None, [problem]), None)


def _finalize(
    records: list[tuple[Record, Path, str]], config: Config, problems: list[Problem]
) -> list[Post]:
    """Rules that look across posts or at other files; returns posts newest first."""
    root = config.posts.folder
    allowed = (root.resolve(), config.root.resolve())
    posts_by_url: dict[str, str] = {}
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for record, _, _ in records:
        for tag in record["tags"]:
            spellings[tag_key(tag)][tag] += 1
    canonical = {
        key: sorted(counter.items(), key=lambda item: (-item[1], item[0]))[0][0]
        for key, counter in spellings.items()
    }
    posts: list[Post] = []
    for record, source, file in sorted(records, key=lambda item: item[0]["id"]):
        try:
            post = _finalize_one(record, source, file, allowed, canonical, posts_by_url, problems)
        except Exception as exc:  # one post must not stop the run
            problems.append(unexpected(file, exc))
            continue
        if post is not None:
            posts.append(post)
    posts.sort(key=lambda p: (-p.date.timestamp(), p.id))
    return posts


def _finalize_one(
    record: Record,
    source: Path,
    file: str,
    allowed: tuple[Path, ...],
    canonical: dict[str, str],
    posts_by_url: dict[str, str],
    problems: list[Problem],
) -> Post | None:
    """The cross-post rules for one post; None when it is skipped (a problem says why)."""
    lines: dict[str, int] = record.get("lines") or {}
    og_image: Path | None = None
    if record["og_image"]:
        try:
            candidate = (source.parent / record["og_image"]).resolve()
            inside = any(candidate.is_relative_to(a) for a in allowed)
            exists = inside and candidate.is_file()
        except (OSError, ValueError) as exc:
            # The reader refuses names no file system takes; this is the rest (ELOOP, ...).
            problems.append(
                Problem(
                    file=file,
                    field="ogImage",
                    message=f"'{record['og_image']}' cannot be looked up ({exc})",
                    fix="write the plain file name of an image in the post's folder",
                    line=lines.get("ogImage"),
                )
            )
            return None
        if not inside:
            problems.append(
                Problem(
                    file=file,
                    field="ogImage",
                    message=f"'{record['og_image']}' points outside the site",
                    fix="put the image in the post's folder",
                    line=lines.get("ogImage"),
                )
            )
            return None
        if not exists and record.get("image_optional"):
            problems.append(
                Problem(
                    file=file,
                    field="ogImage",
                    message=f"file '{record['og_image']}' does not exist; the post has no image",
                    fix="add the image beside the post, or correct the name",
                    severity="warning",
                    line=lines.get("ogImage"),
                )
            )
        elif not exists:
            # A warning, not a skip (docs/cards.md): the post is published with a text card.
            problems.append(
                Problem(
                    file=file,
                    field="ogImage",
                    message=f"file '{record['og_image']}' does not exist",
                    fix=f"add it next to index.md or correct the name; files there: {_listing(source.parent)}",
                    line=lines.get("ogImage"),
                    severity="warning",
                )
            )
        og_image = candidate if exists else None
    other = posts_by_url.get(record["url"])
    if other is not None:
        key = "externalUrl" if record["external_url"] else "path"
        problems.append(
            Problem(
                file=file,
                field=key,
                message=f"URL {preview(record['url'], 120)} is also the URL of post '{other}'",
                fix="give each post its own path; this post is skipped",
                line=lines.get(key),
            )
        )
        return None
    posts_by_url[record["url"]] = record["id"]
    return _post(record, source, og_image, canonical)


def _listing(folder: Path) -> str:
    names = sorted(printable_name(p.name) for p in folder.iterdir() if p.name != "index.md")[:8]
    return ", ".join(names) if names else "none"


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _post(record: Record, source: Path, og_image: Path | None, canonical: dict[str, str]) -> Post:
    def when(value: Any) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    date = when(record["date"])
    assert date is not None
    return Post(
        id=record["id"],
        source=source,
        url=record["url"],
        page_url=record["page_url"],
        path=record["path"],
        external_url=record["external_url"],
        title=record["title"],
        summary=record["summary"],
        date=date,
        updated=when(record["updated"]),
        og_image=og_image,
        og_image_url=record["og_image_url"],
        categories=_unique(record["categories"]),
        tags=_unique(canonical[tag_key(t)] for t in record["tags"]),
        authors=tuple(Author(**a) for a in record["authors"]),
        is_featured=record["is_featured"],
        is_popular=record["is_popular"],
        draft=record["draft"],
        body=body_of(record),
        frontmatter=record["frontmatter"],
    )
