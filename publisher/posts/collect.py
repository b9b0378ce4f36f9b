"""``read_posts``, the stage function: find the post files, parse each one (from the
content-hash cache when its bytes have not changed, in parallel when many have), then
apply the rules that need all posts at once (:mod:`publisher.posts.rules`)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from publisher.config import Config
from publisher.errors import Problem
from publisher.posts.cache import PostCache, content_key, detach, encode_entry, fingerprint
from publisher.posts.files import read_regular
from publisher.posts.folder import display_path, find_post_files, post_id_for, refuse
from publisher.posts.model import ReadResult
from publisher.posts.reader import ReadContext, Record, parse_post, unexpected
from publisher.posts.rules import finalize
from publisher.posts.sources.base import SourceRules
from publisher.posts.text import printable

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


def _printable(problem: Problem) -> Problem:
    """The problem with the post's own text in it made safe to print (see ``printable``)."""
    parts = (problem.file, problem.field, problem.message, problem.fix)
    safe = tuple(printable(part) if part is not None else None for part in parts)
    if safe == parts:
        return problem
    file, field, message, fix = safe
    assert file is not None and message is not None
    return dataclasses.replace(problem, file=file, field=field, message=message, fix=fix)


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
            refused = refuse(path, file, config.posts.folder)
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
    posts = finalize(records, config, problems)
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
