"""A post's body made again from its file, for a post cache row stored without it.

A read worker whose posts' feed items are made as it parses them stores their entries
without their bodies (``posts/cache.py``: 120 MB less to write at 10,000 posts, issue 12).
When a build asks for such a body (an item to render anew), the post file is read again
and parsed as it was: the read that made the row's :class:`~publisher.posts.model.Body`
hands its files found here (:meth:`~publisher.posts.cache.PostCache.reads_with`). The
body is used only when the file still has the bytes the row's key names; a file changed
or gone since the build found it stops the build with one line asking to run it again.
"""

from __future__ import annotations

from publisher.errors import StateError
from publisher.posts.cache import content_key
from publisher.posts.files import read_regular
from publisher.posts.folder import post_id_for
from publisher.posts.found import FoundFiles
from publisher.posts.reader import parse_post


class Reread:
    """Makes the body of a post the read found in ``found`` again from its file. Holds
    what it needs of ``found`` (its lists of keys and files, filled as the read goes),
    not ``found`` itself: the bytes of the files it read are not kept for it."""

    def __init__(self, found: FoundFiles) -> None:
        self.keys, self.sources = found.keys, found.sources
        self.context_hash, self.config, self.ctx = found.context_hash, found.config, found.ctx
        self._index: dict[str, int] = {}

    def __call__(self, key: str, digest: bytes) -> tuple[str, str]:
        """``(markdown, html)`` of the post file whose content key is ``key``; the
        caller checks the HTML against ``digest``."""
        index = self._index.get(key)
        if index is None:  # the read has found more files, or made a key again, since
            self._index = {k: i for i, k in enumerate(self.keys)}
            index = self._index.get(key)
        if index is None:
            raise StateError(
                f"a post body was asked for that this build's read did not find ({key});"
                " run the build again"
            )
        path, file = self.sources[index]
        try:
            raw = read_regular(path, self.ctx.limits.post_bytes)
        except OSError:
            raw = None
        if raw is None or content_key(raw, f"{self.context_hash}/{file}") != key:
            raise StateError(
                f"{file}: changed or gone while the build ran, which needed its text again;"
                " run the build again"
            )
        record, _ = parse_post(raw, post_id_for(path, self.config), file, self.ctx)
        if record is None:
            raise StateError(f"{file}: no longer read as a post; run the build again")
        return record["body_markdown"], record["body_html"]
