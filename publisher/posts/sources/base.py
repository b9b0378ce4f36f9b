"""The contract every generator's reader keeps, and the settings it hands to the post parser.

A :class:`Source` knows one static-site generator: how to recognise a site built with it,
where its posts live, which files are posts, and how the generator turns a post's
frontmatter and file name into the post's title, date, URL and the rest. ``configure``
runs once, when config.yaml is loaded, and reads the generator's own config files into a
:class:`SourceRules`; ``resolve`` runs once per post (in worker processes too) and must be
pure: same frontmatter, body, id and rules in, same result out, which keeps the
content-hash cache sound.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, tzinfo
from pathlib import Path

from publisher.dataclass import dataclass, field, replace
from publisher.errors import Severity
from publisher.lazy import lazy_pattern
from publisher.posts.fields import FieldProblem, parse_date
from publisher.posts.files import inside

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class SourceRules:
    """What one generator's config says about URLs and dates; part of the read context.

    Every value is plain and hashable (tuples, not dicts): the rules are pickled to worker
    processes and their ``repr`` is part of the cache key.
    """

    generator: str = "generic"
    #: ``posts.url`` from config.yaml: a pattern with {year} {month} {day} {slug} {id} ...
    url: str | None = None
    #: The generator's own URL pattern (Hugo ``permalinks``, Jekyll ``permalink``, ...).
    permalink: str | None = None
    #: Path prefix every post URL starts with (Docusaurus routeBasePath, MkDocs blog_dir,
    #: Jekyll baseurl, the Hugo section, the Astro route folder).
    base: str = ""
    trailing_slash: bool = True
    #: The zone naive dates are read in, when the generator fixes one (MkDocs: UTC).
    timezone: str | None = None
    #: Author key -> (name, url) from the generator's authors file.
    authors: tuple[tuple[str, str, str], ...] = ()
    #: Where a date may come from, in the generator's order (Hugo ``[frontmatter] date``).
    date_keys: tuple[str, ...] = ()
    lowercase: bool = True
    #: Generator-specific switches, as sorted (name, value) pairs.
    options: tuple[tuple[str, str], ...] = ()

    def option(self, name: str, default: str = "") -> str:
        return dict(self.options).get(name, default)

    def author(self, key: str) -> dict[str, str] | None:
        for known, name, url in self.authors:
            if known == key:
                return {"name": name, "url": url} if url else {"name": name}
        return None


@dataclass(frozen=True, kw_only=True)
class Setup:
    """What ``configure`` found: where the posts are, the rules, and what went wrong."""

    folder: Path
    rules: SourceRules
    site_url: str | None = None
    #: One line each, in config.yaml's voice ("hugo.toml: permalinks.blog: ...").
    problems: tuple[str, ...] = ()
    #: What could not be decided from the files (shown by ``publish init``).
    notes: tuple[str, ...] = ()
    #: The URL rule in words, for ``publish init``.
    rule: str = ""


#: (field, message, fix, severity), turned into a Problem by the reader.
Note = tuple[str, str, str, Severity]


@dataclass(kw_only=True)
class Resolved:
    """A post's frontmatter rewritten into the reader's own keys (title, date, path, ...)."""

    meta: dict[str, Any]
    body: str
    notes: list[Note] = field(default_factory=list)
    #: Why the generator would not publish this file at all (``_index.md``, ``published:
    #: false`` without a date); None: it is a post.
    skip: str | None = None


class Source:
    """One generator. Subclasses set the class attributes and override what differs."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: Files (relative to the site folder) whose presence says "this generator".
    markers: ClassVar[tuple[str, ...]] = ()
    extensions: ClassVar[tuple[str, ...]] = (".md", ".markdown")

    def detect(self, site: Path) -> bool:
        return any((site / marker).is_file() for marker in self.markers)

    def configure(self, site: Path, folder: Path | None) -> Setup:
        """Read the generator's config files under ``site``; ``folder`` is config.yaml's.

        A posts folder taken from the generator's own files (``contentDir``, ``docs_dir``,
        a blog ``path``, a linked ``_posts``) must stay inside the site: those files come
        with the site's repository, from anyone, and must not make a pull-request check
        read and publish files from elsewhere on the runner. A folder named in config.yaml
        is the site owner's choice and is kept as given.
        """
        setup = self.read_config(site, folder)
        if folder is not None or inside(site, setup.folder):
            return setup
        return replace(
            setup,
            folder=site,
            problems=(
                *setup.problems,
                f"the {self.title} config puts the posts in '{_shown(setup.folder)}', "
                "outside the site folder (a symbolic link or '..'); not read; keep the "
                "posts inside the site, or set posts.folder in config.yaml",
            ),
        )

    def read_config(self, site: Path, folder: Path | None) -> Setup:
        raise NotImplementedError

    def find(self, folder: Path) -> list[Path]:
        """Post files under ``folder``; names starting with '_' or '.' are not posts.

        Linked folders are not followed: a link back to a parent would make the walk
        endless, and one leading outside would publish files from elsewhere.
        """
        found: list[Path] = []
        for top, dirs, files in os.walk(folder):
            dirs[:] = sorted(
                d for d in dirs if not d.startswith(("_", ".")) and d != "node_modules"
            )
            for name in files:
                if name.endswith(self.extensions) and not name.startswith(("_", ".")):
                    found.append(Path(top) / name)
        return sorted(found)

    def post_id(self, rel: str) -> str:
        """The post's id from its path below the posts folder: no extension, no '/index'."""
        stem = rel.rsplit(".", 1)[0] if "." in rel.rsplit("/", 1)[-1] else rel
        if stem.endswith("/index"):
            stem = stem[: -len("/index")]
        return stem

    def resolve(
        self, meta: dict[str, Any], body: str, post_id: str, rules: SourceRules, tz: tzinfo
    ) -> Resolved:
        raise NotImplementedError


def _shown(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 120 else f"...{text[-117:]}"


def try_date(value: Any, tz: tzinfo) -> datetime | None:
    """The date, or None when it is not one (the reader then reports it properly)."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and len(value) > 200:
        return None
    try:
        return parse_date(value, tz)
    except (FieldProblem, ValueError, OverflowError):
        return None


def first_heading(body: str) -> str | None:
    """The text of the body's first line when it is a '# ' heading (MkDocs, Docusaurus)."""
    for line in body.split("\n")[:50]:
        if not line.strip():
            continue
        if line.startswith("# "):
            return line[2:].strip().rstrip("#").strip() or None
        return None
    return None


def lower_keys(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Hugo reads frontmatter keys case-insensitively (``Author`` is ``author``)."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        out.setdefault(str(key).lower(), value)
    return out


#: How much of the body the excerpt looks at: a summary is a paragraph, not a post.
_EXCERPT_SCAN = 20_000
_FENCE = lazy_pattern(r"(?m)^ {0,3}(```|~~~)")
_HTML = lazy_pattern(r"<[^<>\n]*>")
_IMAGE = lazy_pattern(r"!\[[^\[\]\n]*\]\([^()\n]*\)")
_LINK = lazy_pattern(r"\[([^\[\]\n]*)\]\([^()\n]*\)")
_SHORTCODE = lazy_pattern(r"\{\{[<%][^{}\n]*[>%]\}\}")


def _without_mdx_comments(text: str) -> str:
    """``text`` without ``{/* ... */}``. A scan, not a lazy regex: a regex tries every
    unclosed ``{/*`` to the end of the text, quadratic in a post full of them."""
    out: list[str] = []
    at = 0
    while (start := text.find("{/*", at)) != -1:
        end = text.find("*/}", start + 3)
        if end == -1:
            break
        out.append(text[at:start])
        at = end + 3
    out.append(text[at:])
    return "".join(out)


def excerpt(body: str, markers: tuple[str, ...] = (), words: int = 0) -> str | None:
    """Plain text of the body up to the first marker (``<!--more-->``), else its first
    paragraph, else (``words`` > 0) its first ``words`` words; None when there is no prose.

    Generators show this as the summary when the frontmatter has none; the exact rule is
    each generator's, and this is its plain-text shape for feeds and cards.
    """
    text = body[:_EXCERPT_SCAN]
    fence = _FENCE.search(text)
    if fence is not None:
        text = text[: fence.start()]
    cut = None
    for marker in markers:
        index = text.find(marker)
        if index != -1 and (cut is None or index < cut):
            cut = index
    if cut is not None:
        text = text[:cut]
    text = _without_mdx_comments(text)
    text = _SHORTCODE.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _HTML.sub("", text)
    paragraphs = []
    for block in text.split("\n\n"):
        lines = [
            line.strip()
            for line in block.split("\n")
            if line.strip()
            and not line.lstrip().startswith(("#", "import ", "export ", "|", ">", "{", "}"))
        ]
        prose = " ".join(lines).replace("**", "").replace("__", "").replace("`", "")
        if prose:
            paragraphs.append(" ".join(prose.split()))
    if not paragraphs:
        return None
    if cut is not None:
        result = " ".join(paragraphs)
    elif words:
        result = " ".join(" ".join(paragraphs).split()[:words])
    else:
        result = paragraphs[0]
    return result[:600].rsplit(" ", 1)[0] + " …" if len(result) > 600 else result
