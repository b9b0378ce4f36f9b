"""Real blogs from four generators, read as their generator publishes them.

Each sample in ../shared/corpus has a README whose last table lists every post's public URL
and date, computed by running the generator itself. The measure from issue 13: at least
98% of posts get exactly that URL and date, and no post costs a traceback. Skipped when
the corpus is not beside the checkout (``PUBLISHER_CORPUS`` may point elsewhere).
"""

from __future__ import annotations

import os
import re
from datetime import UTC
from pathlib import Path

import pytest

from publisher.config import parse_config
from publisher.posts import read_posts

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("PUBLISHER_CORPUS") or REPO.parent / "shared" / "corpus")

#: sample -> (generator, site folder, site URL, folder the README's file column is relative to)
SAMPLES = {
    "mkdocs-material-blog": (
        "mkdocs",
        ".",
        "https://squidfunk.github.io/mkdocs-material",
        "docs/blog/posts/",
    ),
    "hugo-kubernetes-blog": ("hugo", ".", "https://kubernetes.io", "content/en/blog/_posts/"),
    "docusaurus-blog": ("docusaurus", "website", "https://docusaurus.io", "website/blog/"),
    "astro-blog": (
        "astro",
        "examples/blog",
        "https://example.com",
        "examples/blog/src/content/blog/",
    ),
}


def expected(readme: str) -> list[tuple[str, str | None, str | None, bool]]:
    """(file, URL or None when not built, date as YYYY-MM-DD, date in UTC?) per post."""
    table = readme[readme.index("## Every post") :]
    rows: list[tuple[str, str | None, str | None, bool]] = []
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        url = re.search(r"`([^`]+)`", cells[1])
        # The first cell after the URL that starts with a date (Astro's table has the
        # date as written before the date as built).
        dated = [c for c in cells[2:] if re.match(r"\d{4}-\d{2}-\d{2}", c)]
        date = re.match(r"(\d{4}-\d{2}-\d{2})", dated[0]) if dated else None
        rows.append(
            (
                cells[0].strip("`"),
                url.group(1) if url else None,
                date.group(1) if date else None,
                not dated or "-0" not in dated[0],
            )
        )
    return rows


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_a_real_blog_gets_the_urls_and_dates_its_generator_publishes(sample: str) -> None:
    root = (CORPUS / sample).resolve()
    if not root.is_dir():
        pytest.skip(f"{root} is absent: the generator samples live in ../shared/corpus")
    generator, site, url, prefix = SAMPLES[sample]
    config = parse_config(
        {"site": {"title": "t", "url": url}, "posts": {"generator": generator, "site": site}},
        root / "config.yaml",
    )
    result = read_posts(config, jobs=1)
    by_file = {p.source.relative_to(root).as_posix(): p for p in result.posts}
    rows = expected((root / "README.md").read_text(encoding="utf-8"))
    assert len(rows) >= 5
    wrong: list[str] = []
    for file, want_url, want_date, in_utc in rows:
        post = by_file.get(prefix + file)
        if want_url is None:  # a draft: never published
            if post is not None and not post.draft:
                wrong.append(f"{file}: published, but the generator does not build it")
            continue
        if post is None:
            wrong.append(f"{file}: not read")
            continue
        full = want_url if want_url.startswith("http") else url + want_url
        date = post.date.astimezone(UTC) if in_utc else post.date
        if post.url != full:
            wrong.append(f"{file}: URL {post.url} != {full}")
        if date.date().isoformat() != want_date:
            wrong.append(f"{file}: date {post.date} != {want_date}")
    assert len(rows) - len(wrong) >= 0.98 * len(rows), wrong
    assert not wrong, wrong  # today every post matches: keep it that way
    assert not [p for p in result.problems if p.severity == "error"]
    assert not [p for p in result.problems if "bug in publisher" in (p.fix or "")]
