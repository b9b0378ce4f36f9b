"""Today's layout (a Gatsby blog like the example): ``posts/<dir>/index.md``, YAML
frontmatter, the URL from ``path`` or ``posts.default_path``. The reader's own keys are
this layout's keys, so nothing is rewritten."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

from publisher.lazy import LazyModule
from publisher.posts.sources.base import Resolved, Setup, Source, SourceRules, try_date

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

    from publisher.posts.sources import slugs
else:
    # Only for a site whose URLs come from a pattern (unicodedata with it): most builds
    # take each post's path or posts.default_path.
    slugs = LazyModule("publisher.posts.sources.slugs")


class GenericSource(Source):
    name = "generic"
    title = "Generic (Gatsby)"
    markers = ("gatsby-config.js", "gatsby-config.ts", "gatsby-config.mjs")

    def detect(self, site: Path) -> bool:
        """A Gatsby config, or the example's layout: posts/<folder>/index.md."""
        return super().detect(site) or any((site / "posts").glob("*/index.md"))

    def read_config(self, site: Path, folder: Path | None) -> Setup:
        return Setup(
            folder=folder or site / "posts",
            rules=SourceRules(),
            rule="path, else posts.default_path",
        )

    def resolve(
        self, meta: dict[str, Any], body: str, post_id: str, rules: SourceRules, tz: tzinfo
    ) -> Resolved:
        if rules.url and meta.get("path") in (None, ""):
            date = try_date(meta.get("date"), tz)
            if date is not None:
                tokens = {
                    **slugs.date_tokens(date),
                    "id": post_id,
                    "slug": post_id.rsplit("/", 1)[-1],
                }
                return Resolved(
                    meta={**meta, "path": slugs.expand(rules.url, tokens, "brace")}, body=body
                )
        return Resolved(meta=meta, body=body)
