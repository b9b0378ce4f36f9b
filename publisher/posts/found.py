"""The post files of one read (``collect.read_posts``), each with its content key: from the
post cache's file stamps when its stat is unchanged (the file is not even opened), else
from its bytes."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from publisher.config import Config
from publisher.errors import Problem
from publisher.posts.cache import PostCache, content_key, fingerprint, stamp_of
from publisher.posts.files import read_regular
from publisher.posts.folder import PlainPaths, post_id_for, refuse
from publisher.posts.model import Found
from publisher.posts.reader import ReadContext
from publisher.posts.sources.base import SourceRules


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
        try:
            raw = read_regular(path, self.ctx.limits.post_bytes)
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

    def read_misses(self, misses: list[int], problems: list[Problem]) -> list[int]:
        """``misses`` (indexes of keys the cache did not have) that can be parsed: a file
        known by its stamp whose entry is gone is read now; one that cannot be is left out."""
        ready = []
        for index in misses:
            if index not in self.jobs:
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

    def job(self, index: int) -> tuple[bytes, str, str, ReadContext, bool]:
        path, file = self.sources[index]
        encode = self.cache is not None
        return (self.jobs[index], post_id_for(path, self.config), file, self.ctx, encode)
