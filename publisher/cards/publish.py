"""Publishing one card: its image and its ``<meta>`` snippet written into the output folder,
or, when the files there are still the ones the last build wrote, kept without a read.

A build with nothing changed used to read every card's bytes from the render cache, hash
them, resolve their paths and read the file back from the output folder to find it
unchanged: 2,000 reads and hashes for 1,000 cards (issue 12). Now the cache's description
of a card (:class:`~publisher.cards.cache.Stored`: its hash and size) and the stamp of the
file the stage last wrote (``RenderCache.written``) are enough:
:meth:`~publisher.output.OutputWriter.keep` checks one ``lstat``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from publisher.cards.cache import RenderCache, Stored
from publisher.cards.inputs import Prepared
from publisher.cards.meta import Card, FeedLink, meta_html, public_url
from publisher.cards.options import CardOptions
from publisher.cards.text import clean_text
from publisher.config import SiteConfig
from publisher.output import OutputWriter


@dataclass(frozen=True, kw_only=True)
class Publisher:
    """Where and how one run of the stage publishes its cards."""

    site: SiteConfig
    options: CardOptions
    output: OutputWriter
    cache: RenderCache
    links: tuple[FeedLink, ...]

    def image_path(self, item: Prepared, stored: Stored) -> str:
        """The card image's path in the output folder: named by its content, so a changed
        card gets a new URL that crawlers fetch again."""
        extension = "jpg" if stored.format == "jpeg" else "png"
        return f"{self.options.folder}/{item.post.id}.{stored.sha256[:12]}.{extension}"

    def in_place(self, item: Prepared, stored: Stored) -> bool:
        """Whether the card's image file is still the one the stage last wrote with these
        bytes (then they need not be read from the cache)."""
        path = self.image_path(item, stored)
        previous = self.cache.written(self._absolute(path))
        return self.output.holds(path, stored.sha256, size=stored.size, previous=previous)

    def publish(self, item: Prepared, stored: Stored, data: bytes | None) -> Card | None:
        """Write (or keep) the card's image and its meta snippet. ``data``: the image's
        bytes, or None when :meth:`in_place` said they are not needed; None, with nothing
        written, when the file changed since (the caller renders the card instead)."""
        if data is not None:
            return self.write(item, stored, data)
        path = self.image_path(item, stored)
        if not self._keep(path, stored.sha256, stored.size):
            return None
        return self._snippet(item, stored, path)

    def write(self, item: Prepared, stored: Stored, data: bytes) -> Card:
        """Write the card's image (``data``, described by ``stored``) and its meta snippet."""
        path = self.image_path(item, stored)
        self.output.write_bytes(path, data)
        return self._snippet(item, stored, path)

    def _snippet(self, item: Prepared, stored: Stored, path: str) -> Card:
        """The published card, its meta snippet written (or kept when it is the same)."""
        self._remember(path)
        post = item.post
        card = Card(
            post_id=post.id,
            path=path,
            url=public_url(self.site.url, path),
            width=stored.width,
            height=stored.height,
            bytes=stored.size,
            mime=f"image/{stored.format}",
            alt=stored.alt,
            layout=stored.layout,
            meta_html="",
            rule=stored.rule,
        )
        description = clean_text(post.summary) or self.site.description
        html = meta_html(
            self.site,
            post,
            title=clean_text(post.title),
            description=description,
            card=card,
            feeds=self.links,
        )
        snippet = f"{self.options.folder}/{post.id}.html"
        encoded = html.encode("utf-8")
        if not self._keep(snippet, hashlib.sha256(encoded).hexdigest(), len(encoded)):
            self.output.write_bytes(snippet, encoded)
        self._remember(snippet)
        return replace(card, meta_html=html)

    def _keep(self, path: str, sha256: str, size: int) -> bool:
        previous = self.cache.written(self._absolute(path))
        return self.output.keep(path, sha256, size=size, previous=previous) is not None

    def _remember(self, path: str) -> None:
        """Note the file's stamp and hash, as the writer has them, for the next build (a
        dry-run writer has no stamp for a file it did not write: nothing is noted)."""
        stamp, sha256 = self.output.stamps.get(path), self.output.hashes.get(path)
        if stamp is not None and sha256 is not None:
            self.cache.wrote(self._absolute(path), stamp, sha256)

    def _absolute(self, path: str) -> str:
        return f"{self.output.folder}/{path}"
