"""The post files of one read (``collect.read_posts``), each with its content key: from the
post cache's file stamps when its stat is unchanged (the file is not even opened), else
from its bytes."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from publisher.config import Config
from publisher.errors import Problem
from publisher.posts.cache import PostCache, content_key, fingerprint, stamp_of
from publisher.posts.files import read_regular
from publisher.posts.folder import PlainPaths, post_id_for, refuse
from publisher.posts.model import Found
from publisher.posts.reader import ReadContext, Record, unexpected
from publisher.posts.sources.base import SourceRules

#: A file's parse: its record (None: skipped) and problems.
Entry = tuple[Record | None, list[Problem]]


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


class FoundFiles:
    """The post files of one read, each with its content key: from the cache's file
    stamps when its stat is unchanged (the file is not even opened), else from its bytes."""

    def __init__(
        self, config: Config, ctx: ReadContext, cache: PostCache | None, recent_ns: int
    ) -> None:
        self.config = config
        self.ctx = ctx
        self.cache = cache
        # The posts folder and generator too: they make a post's id, which its record
        # holds (the same file read below another folder is another post).
        folder = os.fspath(config.posts.folder)
        self.context_hash = fingerprint(ctx, folder, config.posts.generator)
        self.folder = config.posts.folder
        self.real_folder = self.folder.resolve()
        #: Paths below a folder that is its own resolved path: checked with lstat alone.
        self.plain = PlainPaths(os.fspath(self.folder)) if self.real_folder == self.folder else None
        self.recent_ns = time.time_ns() - recent_ns
        self.keys: list[str] = []
        self.sources: list[tuple[Path, str]] = []
        #: Index -> the file's bytes, for files read (not known by their stamp).
        self.jobs: dict[int, bytes] = {}
        self.stamps: dict[str, tuple[str, str]] = {}
        #: Every file found: (file, path, index in ``keys`` or -1, plain).
        self.all: list[tuple[str, str, int, bool]] = []
        #: Files are left unread, to their parsers (a cold parallel read: see Unread).
        self.defer = False
        #: Index -> (the file's stamp, its place in ``all``), for each file left unread
        #: whose key is not known yet (:meth:`made`).
        self.unread: dict[int, tuple[str | None, int]] = {}

    def listed(self, keys: list[str] | None, tags: dict[str, tuple[str, ...]]) -> tuple[Found, ...]:
        """Every file found, with its content key and its record's tags."""
        return tuple(
            Found(
                file,
                source,
                keys[at] if keys is not None and at >= 0 else None,
                plain,
                tags.get(file),
            )
            for file, source, at, plain in self.all
        )

    def find(
        self, paths: Sequence[Path], shown: Callable[[Path], str], problems: list[Problem]
    ) -> None:
        """:meth:`add` each of ``paths`` (``shown``: its name in messages)."""
        for path in paths:
            file = shown(path)
            try:
                self.add(path, file, problems)
            except Exception as exc:  # one post must not stop the run
                problems.append(unexpected(file, exc))

    def records(
        self, entries: Sequence[Entry | None], problems: list[Problem], *, keyed: bool
    ) -> tuple[list[tuple[Record, Path, str, str | None]], dict[str, tuple[str, ...]]]:
        """The records of ``entries`` (one per file, in order) for the rules across posts,
        each with its file and content key (``keyed``: the read has a cache), and each
        file's tags; their problems added to ``problems``."""
        records: list[tuple[Record, Path, str, str | None]] = []
        tags: dict[str, tuple[str, ...]] = {}
        for entry, (source, file), key in zip(entries, self.sources, self.keys, strict=True):
            if entry is None:
                continue  # a file that went away between the stat and the read
            record, entry_problems = entry
            problems.extend(entry_problems)
            if record is not None:
                records.append((record, source, file, key if keyed else None))
                tags[file] = tuple(record["tags"])
        return records, tags

    def add(self, path: Path, file: str, problems: list[Problem]) -> None:
        text = os.fspath(path)
        st = self.plain.stat(text) if self.plain is not None else None
        refused = refuse(path, file, self.folder, self.real_folder, plain=st is not None)
        self.all.append((file, text, -1 if refused else len(self.keys), st is not None))
        if refused is not None:
            problems.append(refused)
            return
        stamp = self._stamp(st)
        key = self.cache.known_key(file, stamp) if self.cache and stamp else None
        if key is None and self.defer:
            # Read and hashed by its parser (see Unread); its key comes with its entry.
            self.unread[len(self.keys)] = (stamp, len(self.all) - 1)
            self.keys.append("")
            self.sources.append((path, file))
            return
        if key is None:
            raw = self._read(path, file, problems)
            if raw is None:
                self.all[-1] = (file, text, -1, st is not None)
                return
            key = content_key(raw, f"{self.context_hash}/{file}")
            self.jobs[len(self.keys)] = raw
        if stamp is not None:
            self.stamps[file] = (stamp, key)
        self.keys.append(key)
        self.sources.append((path, file))

    def _stamp(self, st: os.stat_result | None) -> str | None:
        """What identifies the file's bytes by its stat ``st`` (:func:`stamp_of`); None
        when its stat cannot be trusted for that: a link on the way (``st`` None), not a
        regular file, or changed in the last two seconds."""
        if self.cache is None or st is None or not stat.S_ISREG(st.st_mode):
            return None
        if max(st.st_mtime_ns, st.st_ctime_ns) >= self.recent_ns:
            return None
        return stamp_of(st, self.context_hash)

    def _read(self, path: Path, file: str, problems: list[Problem]) -> bytes | None:
        return read_post(path, file, self.ctx.limits.post_bytes, problems)

    def read_misses(self, misses: list[int], problems: list[Problem]) -> list[int]:
        """``misses`` (indexes of keys the cache did not have) that can be parsed: a file
        known by its stamp whose entry is gone is read now; one that cannot be is left out.
        A file left :attr:`unread` is read by its parser."""
        ready = []
        for index in misses:
            if index not in self.jobs and index not in self.unread:
                path, file = self.sources[index]
                stamp = self.stamps.pop(file, None)
                raw = self._read(path, file, problems)
                if raw is None:
                    continue
                self.jobs[index] = raw
                self.keys[index] = content_key(raw, f"{self.context_hash}/{file}")
                if stamp is not None:
                    self.stamps[file] = (stamp[0], self.keys[index])
            ready.append(index)
        return ready

    def job(self, index: int) -> tuple[bytes | Unread, str, str, ReadContext, bool]:
        path, file = self.sources[index]
        encode = self.cache is not None
        raw = self.jobs.pop(index, None)  # the raw bytes are the parser's now
        if raw is None:  # left unread: read by the worker that parses it
            return (
                (os.fspath(path), f"{self.context_hash}/{file}", self.ctx.limits.post_bytes),
                post_id_for(path, self.config),
                file,
                self.ctx,
                encode,
            )
        return (raw, post_id_for(path, self.config), file, self.ctx, encode)

    def made(self, index: int, key: str | None) -> None:
        """The content key of the file at ``index``, left :attr:`unread`, from the bytes
        its parser read; None: it could not be read (as if never found; a problem says
        why)."""
        stamp, at = self.unread.pop(index)
        if key is None:
            file, text, _, plain = self.all[at]
            self.all[at] = (file, text, -1, plain)
            return
        self.keys[index] = key
        if stamp is not None:
            self.stamps[self.sources[index][1]] = (stamp, key)


#: A post file its parser reads and hashes itself: (path, the content key's context, the
#: byte cap). A cold parallel read leaves each file to the worker that parses it: the main
#: process read and hashed every post before (30 us a post, and longer when the files are
#: not in the page cache: one core, while the workers waited; issue 12).
Unread = tuple[str, str, int]


def read_unread(unread: Unread, file: str) -> tuple[bytes | None, str | None, list[Problem]]:
    """(the bytes, their content key, no problem) of an :data:`Unread` file, or (None,
    None, why it cannot be read): what :meth:`FoundFiles.add` would have found."""
    path, context, limit = unread
    problems: list[Problem] = []
    raw = read_post(Path(path), file, limit, problems)
    if raw is None:
        return None, None, problems
    return raw, content_key(raw, context), []


def read_post(path: Path, file: str, limit: int, problems: list[Problem]) -> bytes | None:
    """The bytes of the post file at ``path`` (at most ``limit`` + 1), or None with a
    problem in ``problems``."""
    try:
        raw = read_regular(path, limit)
    except OSError as exc:
        # Found by the stat pass, gone when read: removed or renamed while the build
        # ran, not a permissions problem.
        gone = isinstance(exc, FileNotFoundError)
        problems.append(
            Problem(
                file=file,
                field=None,
                message="was removed while the build ran; not read"
                if gone
                else f"cannot be read ({exc.strerror})",
                fix="run the build again" if gone else "check the file's permissions",
            )
        )
        return None
    if raw is None:
        problems.append(
            Problem(
                file=file,
                field=None,
                message="is not a regular file (a named pipe, device or socket); not read",
                fix="replace it with the post's markdown file",
            )
        )
    return raw
