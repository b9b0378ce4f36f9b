"""Each generator's reader on small sites written from that generator's documentation.

Every site here is a few files in a temporary folder: the generator's config file and
posts laid out and named as its documentation shows, with the URL and date the docs say
the generator publishes. Bad generator configs and hostile frontmatter get one clear line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from publisher.config import parse_config
from publisher.errors import ConfigError
from publisher.posts import ReadResult, read_posts
from publisher.posts.sources import detect, slugs


def site(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def read(root: Path, generator: str, **posts: Any) -> ReadResult:
    config = parse_config(
        {
            "site": {"title": "t", "url": "https://example.org"},
            "posts": {"generator": generator, **posts},
        },
        root / "config.yaml",
    )
    return read_posts(config, jobs=1)


def urls(result: ReadResult) -> dict[str, str]:
    return {p.id: p.url for p in result.posts}


def errors(result: ReadResult) -> list[str]:
    return [f"{p.file}: {p.field}: {p.message}" for p in result.problems if p.severity == "error"]


# --- Hugo -------------------------------------------------------------------------------


def test_hugo_permalinks_bundles_toml_json_and_drafts(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "hugo.toml": 'baseURL = "https://example.org/"\ntimeZone = "Europe/Berlin"\n'
            '[permalinks]\nposts = "/:year/:month/:slug/"\n',
            "content/posts/_index.md": "---\ntitle: Posts\n---\n",
            "content/posts/first.md": "+++\ntitle = 'My First Post'\ndate = 2024-05-01\n+++\nBody",
            "content/posts/bundle/index.md": '{"title": "A Bundle", "date": "2024-06-02T23:30:00-05:00",'
            ' "slug": "Bundled", "images": ["cover.png"]}\nBody of the bundle',
            "content/posts/bundle/other.md": "---\ntitle: not a page\n---\n",
            "content/posts/bundle/cover.png": "",
            "content/posts/own-url.md": "---\ntitle: Old\ndate: 2015-03-20\n"
            "url: /:section/:year/:month/:slug/\n---\n",
            "content/posts/draft.md": "---\ntitle: Draft\ndraft: true\n---\n",
            "content/posts/Summary.md": "---\nTitle: Case Keys\nDate: 2024-07-01\n"
            "Summary: Hugo keys ignore case\nAuthor: Ann\n---\n",
        },
    )
    result = read(tmp_path, "hugo")
    assert errors(result) == []
    assert urls(result) == {
        "first": "https://example.org/2024/05/my-first-post/",
        "bundle": "https://example.org/2024/06/bundled/",  # the date's own offset: June 2
        "own-url": "https://example.org/posts/2015/03/old/",  # :slug falls back to the title
        "Summary": "https://example.org/2024/07/case-keys/",
    }
    posts = {p.id: p for p in result.posts}
    assert posts["first"].date == datetime(2024, 4, 30, 22, tzinfo=UTC)  # midnight in Berlin
    assert posts["bundle"].og_image == (tmp_path / "content/posts/bundle/cover.png").resolve()
    assert posts["Summary"].summary == "Hugo keys ignore case"
    assert [a.name for a in posts["Summary"].authors] == ["Ann"]
    assert any("draft" in p.message for p in result.problems if p.file.endswith("draft.md"))


def test_hugo_default_url_and_filename_dates(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "config.toml": 'baseURL = "https://example.org/"\n'
            '[frontmatter]\ndate = [":filename", ":default"]\n',
            "content/blog/2024-05-01-hello-world.md": "---\ntitle: Hello\n---\n",
            "content/blog/sub/plain.md": "---\ntitle: Plain\ndate: 2024-01-02\n---\n",
        },
    )
    result = read(tmp_path, "hugo")
    assert errors(result) == []
    assert urls(result) == {
        "2024-05-01-hello-world": "https://example.org/blog/hello-world/",
        "sub/plain": "https://example.org/blog/sub/plain/",
    }


def test_hugo_unknown_permalink_token_is_one_clear_line(tmp_path: Path) -> None:
    site(
        tmp_path, {"hugo.toml": '[permalinks]\nposts = "/:yeer/:slug/"\n', "content/posts/a.md": ""}
    )
    with pytest.raises(ConfigError) as caught:
        read(tmp_path, "hugo")
    lines = caught.value.problems
    assert len(lines) == 1
    assert "permalinks.posts: unknown token ':yeer'" in lines[0]
    assert "posts.url" in lines[0]


def test_a_broken_generator_config_is_one_clear_line(tmp_path: Path) -> None:
    site(tmp_path, {"hugo.toml": "baseURL = [unclosed\n", "content/posts/a.md": ""})
    with pytest.raises(ConfigError) as caught:
        read(tmp_path, "hugo")
    assert len(caught.value.problems) == 1
    assert "hugo.toml: is not valid TOML" in caught.value.problems[0]


def test_a_huge_generator_config_is_refused_unread(tmp_path: Path) -> None:
    site(tmp_path, {"mkdocs.yml": "a: " + "x" * 1_100_000 + "\n", "docs/blog/posts/a.md": ""})
    with pytest.raises(ConfigError) as caught:
        read(tmp_path, "mkdocs")
    assert "too big for a config file" in caught.value.problems[0]


def test_yaml_aliases_in_a_generator_config_cannot_explode(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)
    )
    site(tmp_path, {"mkdocs.yml": bomb, "docs/blog/posts/a.md": ""})
    with pytest.raises(ConfigError) as caught:
        read(tmp_path, "mkdocs")
    assert "aliases" in caught.value.problems[0]


# --- Jekyll ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("permalink", "expected"),
    [
        (None, "/jekyll/update/2009/02/26/welcome-to-jekyll.html"),
        ("date", "/jekyll/update/2009/02/26/welcome-to-jekyll.html"),
        ("pretty", "/jekyll/update/2009/02/26/welcome-to-jekyll/"),
        ("ordinal", "/jekyll/update/2009/057/welcome-to-jekyll.html"),
        ("none", "/jekyll/update/welcome-to-jekyll.html"),
        ("/blog/:year/:title/", "/blog/2009/welcome-to-jekyll/"),
    ],
)
def test_jekyll_permalink_styles(tmp_path: Path, permalink: str | None, expected: str) -> None:
    config = "url: https://example.org\n" + (f"permalink: {permalink}\n" if permalink else "")
    site(
        tmp_path,
        {
            "_config.yml": config,
            "_posts/2009-02-26-welcome-to-jekyll.markdown": "---\nlayout: post\n"
            "title: Welcome to Jekyll!\ncategories: jekyll update\n---\nHello.\n",
            "_posts/notes.md": "---\ntitle: not a post: no date in the name\n---\n",
        },
    )
    result = read(tmp_path, "jekyll")
    assert errors(result) == []
    assert urls(result) == {"2009-02-26-welcome-to-jekyll": "https://example.org" + expected}
    post = result.posts[0]
    assert post.date.date().isoformat() == "2009-02-26"
    assert post.categories == ("jekyll", "update")


def test_jekyll_frontmatter_date_timezone_unpublished_and_own_permalink(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "_config.yml": "timezone: America/New_York\nbaseurl: /blog\n",
            "_posts/2024-05-01-late.md": "---\ntitle: Late\ndate: 2024-05-01 23:30:00\n"
            "image: /assets/late.png\n---\n",
            "_posts/2024-05-02-own.md": "---\ntitle: Own\npermalink: /about-this/\n---\n",
            "_posts/2024-05-03-hidden.md": "---\ntitle: Hidden\npublished: false\n---\n",
        },
    )
    result = read(tmp_path, "jekyll")
    assert errors(result) == []
    posts = {p.id: p for p in result.posts}
    assert set(posts) == {"2024-05-01-late", "2024-05-02-own"}
    assert posts["2024-05-01-late"].date == datetime(2024, 5, 2, 3, 30, tzinfo=UTC)
    assert posts["2024-05-01-late"].url == "https://example.org/blog/2024/05/01/late.html"
    assert posts["2024-05-01-late"].og_image_url == "https://example.org/assets/late.png"
    assert posts["2024-05-02-own"].url == "https://example.org/blog/about-this/"


# --- Zola --------------------------------------------------------------------------------


def test_zola_sections_dates_in_names_path_and_taxonomies(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "config.toml": 'base_url = "https://example.org"\n',
            "content/blog/_index.md": '+++\ntitle = "Blog"\nsort_by = "date"\n+++\n',
            "content/blog/2018-10-10-hello-world.md": '+++\ntitle = "Hello"\n'
            '[taxonomies]\ntags = ["rust"]\n[extra]\nimage = "https://cdn.example.org/h.png"\n+++\n',
            "content/blog/Über Café.md": '+++\ntitle = "Slug"\ndate = 2024-01-01\n+++\n',
            "content/blog/own/index.md": '+++\ntitle = "Own"\ndate = 2024-02-01\n'
            'path = "custom/place"\n+++\n',
            "content/blog/hidden.md": '+++\ntitle = "Draft"\ndate = 2024-03-01\ndraft = true\n+++\n',
        },
    )
    assert detect(tmp_path) == ("zola", tmp_path)
    result = read(tmp_path, "zola")
    assert errors(result) == []
    posts = {p.id: p for p in result.posts}
    assert urls(result) == {
        "2018-10-10-hello-world": "https://example.org/blog/hello-world/",
        "Über Café": "https://example.org/blog/uber-cafe/",
        "own": "https://example.org/custom/place/",
        "hidden": "https://example.org/blog/hidden/",
    }
    assert posts["2018-10-10-hello-world"].date.date().isoformat() == "2018-10-10"
    assert posts["2018-10-10-hello-world"].tags == ("rust",)
    assert posts["2018-10-10-hello-world"].og_image_url == "https://cdn.example.org/h.png"
    assert posts["hidden"].draft


# --- Eleventy ----------------------------------------------------------------------------


def test_eleventy_default_urls_permalinks_and_data_files(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "eleventy.config.js": 'export default function (c) { return { dir: { input: "src" } } }\n',
            "src/blog/index.md": "---\ntitle: The list\n---\n",
            "src/blog/2024-05-01-first.md": "---\ntitle: First\n---\n",
            "src/blog/second.md": "---\ntitle: Second Post\ndate: 2024-06-01\n"
            'permalink: "/notes/{{ title | slugify }}/"\n---\n',
            "src/blog/third/index.md": "---\ntitle: Third\ndate: 2024-07-01\n---\n",
            "src/blog/hidden.md": "---\ntitle: H\ndate: 2024-07-01\n"
            "eleventyExcludeFromCollections: true\n---\n",
            "src/blog/computed.md": "---\ntitle: C\ndate: 2024-07-02\n"
            "permalink: \"/{{ page.date | date: '%Y' }}/c/\"\n---\n",
        },
    )
    result = read(tmp_path, "eleventy")
    assert urls(result) == {
        "2024-05-01-first": "https://example.org/blog/2024-05-01-first/",
        "second": "https://example.org/notes/second-post/",
        "third": "https://example.org/blog/third/",
    }
    assert errors(result) == [
        "src/blog/computed.md: permalink: '/{{ page.date | date: '%Y' }}/c/' uses a template "
        "this reader cannot run"
    ]
    fixes = [p.fix for p in result.problems if p.field == "permalink"]
    assert fixes and "posts.url" in fixes[0]


def test_eleventy_directory_data_file_permalink(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            ".eleventy.js": "module.exports = function () {}\n",
            "posts/posts.json": '{"permalink": "/articles/{{ page.fileSlug }}/", "tags": "posts"}',
            "posts/2024-05-01-first.md": "---\ntitle: First\n---\n",
        },
    )
    result = read(tmp_path, "eleventy")
    assert urls(result) == {"2024-05-01-first": "https://example.org/articles/first/"}


# --- Docusaurus, Astro, MkDocs -----------------------------------------------------------


def test_docusaurus_dates_in_names_slugs_authors_and_trailing_slash(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "docusaurus.config.js": "module.exports = {\n  url: 'https://example.org',\n"
            "  baseUrl: '/docs-site/',\n  trailingSlash: true,\n  presets: [['classic', {\n"
            "    blog: {\n      routeBasePath: 'news',\n    },\n  }]],\n};\n",
            "blog/authors.yml": "jane:\n  name: Jane Doe\n  url: https://jane.example\n",
            "blog/2021-08-26-welcome/index.md": "---\nauthors: jane\ntags: [hello]\n---\n"
            "# Welcome\n\nFirst paragraph.\n<!-- truncate -->\nMore.\n",
            "blog/2019/05/28/long.mdx": "---\ntitle: Long\nslug: /long-post\n---\n",
            "blog/undated.md": "---\ntitle: U\ndate: 2020-01-02T10:00:00\nunlisted: true\n---\n",
            "blog/_draft.md": "---\ntitle: not a post\n---\n",
        },
    )
    result = read(tmp_path, "docusaurus")
    assert errors(result) == []
    posts = {p.id: p for p in result.posts}
    assert urls(result) == {
        "2021-08-26-welcome": "https://example.org/docs-site/news/2021/08/26/welcome/",
        "2019/05/28/long": "https://example.org/docs-site/news/long-post/",
        "undated": "https://example.org/docs-site/news/undated/",
    }
    assert posts["2021-08-26-welcome"].title == "Welcome"
    assert [a.name for a in posts["2021-08-26-welcome"].authors] == ["Jane Doe"]
    assert posts["undated"].date == datetime(2020, 1, 2, 10, tzinfo=UTC)
    assert posts["undated"].draft  # unlisted: kept out of feeds


def test_astro_ids_routes_and_hero_images(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "astro.config.mjs": "export default defineConfig({\n\tsite: 'https://example.org',\n});\n",
            "src/pages/posts/[...slug].astro": "---\n---\n",
            "src/content/posts/Hello World.md": "---\ntitle: Hi\npubDate: 'Jul 08 2022'\n"
            "heroImage: '../../assets/hero.jpg'\n---\n",
            "src/content/posts/nested/index.md": "---\ntitle: N\npubDate: 2022-07-09\n---\n",
            "src/assets/hero.jpg": "",
        },
    )
    result = read(tmp_path, "astro")
    assert errors(result) == []
    assert urls(result) == {
        "Hello World": "https://example.org/posts/hello-world/",
        "nested": "https://example.org/posts/nested/",
    }
    post = next(p for p in result.posts if p.id == "Hello World")
    assert post.og_image == (tmp_path / "src/assets/hero.jpg").resolve()


def test_astro_without_a_route_says_so(tmp_path: Path) -> None:
    site(tmp_path, {"astro.config.mjs": "", "src/content/blog/a.md": ""})
    config = parse_config(
        {"site": {"title": "t", "url": "https://e.org"}, "posts": {"generator": "astro"}},
        tmp_path / "config.yaml",
    )
    assert any("posts.url" in note for note in config.posts.notes)


def test_mkdocs_slug_from_heading_custom_format_and_authors(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "mkdocs.yml": "site_url: https://example.org/docs/\nplugins:\n  - search\n"
            "  - blog:\n      post_url_format: '{date}/{file}'\n      post_url_date_format: yyyy\n"
            "markdown_extensions:\n  - pymdownx.emoji:\n"
            "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n",
            "docs/blog/.authors.yml": "authors:\n  ann:\n    name: Ann Lee\n",
            "docs/blog/posts/first.md": "---\ndate:\n  created: 2024-05-01\n"
            "authors: [ann]\n---\n# The `first` post!\n\nBody <!-- more --> rest\n",
        },
    )
    result = read(tmp_path, "mkdocs")
    assert errors(result) == []
    post = result.posts[0]
    assert post.url == "https://example.org/blog/2024/first/"  # site.url of config.yaml
    assert post.title == "The first post!"
    assert [a.name for a in post.authors] == ["Ann Lee"]
    assert post.date == datetime(2024, 5, 1, tzinfo=UTC)


# --- posts.url, the generic layout, hostile frontmatter ----------------------------------


def test_posts_url_overrides_what_cannot_be_read(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "astro.config.mjs": "",
            "src/content/blog/one.md": "---\ntitle: One\npubDate: 2024-05-01\n---\n",
        },
    )
    result = read(tmp_path, "astro", url="/writing/{year}/{slug}/")
    assert urls(result) == {"one": "https://example.org/writing/2024/one/"}


def test_posts_url_unknown_token_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read(tmp_path, "generic", url="/{yaer}/{slug}/")
    assert caught.value.problems == [
        "posts.url: unknown token '{yaer}'; use {year}, {month}, {day}, {slug}, {id}, "
        "{section}, {title}, {filename}, {categories}"
    ]


def test_unknown_generator_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read(tmp_path, "wordpress")
    assert caught.value.problems[0].startswith("posts.generator: unknown generator 'wordpress'")


def test_generic_posts_may_use_toml_and_json_frontmatter(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "posts/a/index.md": '+++\ntitle = "A"\ndate = 2024-05-01T10:00:00Z\n+++\nBody',
            "posts/b/index.md": '{"title": "B", "date": "2024-05-02"}\nBody',
        },
    )
    result = read(tmp_path, "generic")
    assert errors(result) == []
    assert urls(result) == {"a": "https://example.org/a/", "b": "https://example.org/b/"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('+++\ntitle = "unclosed\n+++\n', "is not valid TOML"),
        ("+++\ntitle = 'x'\n", "is not closed"),
        ('{"title": "x", ', "is not valid JSON"),
        ("[1, 2]\n", "frontmatter is missing"),
        ('{"a": ' * 5000 + "1" + "}" * 5000, "nested too deeply"),
        (
            "+++\n" + "\n".join(f"k{i} = [{','.join(['1'] * 50)}]" for i in range(300)) + "\n+++\n",
            "values",
        ),
        ('{"title": "' + "x" * 70_000 + '"}', "characters long"),
    ],
)
def test_hostile_toml_and_json_frontmatter_is_one_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    site(
        tmp_path,
        {
            "posts/bad/index.md": text,
            "posts/good/index.md": "---\ntitle: G\ndate: 2024-01-01\n---\n",
        },
    )
    result = read(tmp_path, "generic")
    assert [p.id for p in result.posts] == ["good"]
    bad = [p for p in result.problems if p.file.endswith("bad/index.md")]
    assert len(bad) == 1, bad
    assert message in f"{bad[0].field} {bad[0].message}"
    assert "bug in publisher" not in (bad[0].fix or "")


@pytest.mark.parametrize(
    ("function", "text", "expected"),
    [
        (
            slugs.hugo,
            "Kubernetes End-to-end Testing for Everyone",
            "kubernetes-end-to-end-testing-for-everyone",
        ),
        (slugs.hugo, "C++ & Go: 1.2", "c++-go-1.2"),
        (
            slugs.pymdownx,
            "How we're transforming Material for MkDocs",
            "how-were-transforming-material-for-mkdocs",
        ),
        (slugs.jekyll, "Welcome to Jekyll!", "welcome-to-jekyll"),
        (slugs.zola, "Über Café", "uber-cafe"),
        (slugs.github, "Hello World", "hello-world"),
    ],
)
def test_slug_functions(function: Any, text: str, expected: str) -> None:
    assert function(text) == expected


def test_slugs_are_linear_on_hostile_titles() -> None:
    title = "a -" * 50_000 + "!"
    for function in (slugs.hugo, slugs.pymdownx, slugs.jekyll, slugs.zola, slugs.github):
        assert len(function(title)) <= len(title)


def test_docusaurus_reads_the_blog_options_not_the_docs_ones(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "docusaurus.config.ts": "export default {\n  url: 'https://example.org',\n"
            "  presets: [['classic', {\n    docs: {\n      path: 'docs',\n"
            "      routeBasePath: '/',\n    },\n    blog: {\n      path: 'news',\n"
            "      routeBasePath: 'updates',\n    },\n  }]],\n};\n",
            "news/2024-01-02-hi.md": "---\ntitle: Hi\n---\n",
        },
    )
    result = read(tmp_path, "docusaurus")
    assert urls(result) == {"2024-01-02-hi": "https://example.org/updates/2024/01/02/hi"}


def test_every_generator_is_documented() -> None:
    from publisher.posts.sources import SOURCES

    docs = (Path(__file__).resolve().parent.parent / "docs" / "sources.md").read_text("utf-8")
    for source in SOURCES.values():
        assert f"`{source.name}`" in docs, source.name
        assert f"### {source.title.split(' ')[0]}" in docs, source.title


def test_summaries_fall_back_in_each_generators_order(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "hugo.toml": 'baseURL = "https://example.org/"\n',
            "content/posts/more.md": "---\ntitle: M\ndate: 2024-01-01\n---\n"
            "Intro with a [link](https://x.org) and **bold**.\n\nStill intro.\n<!--more-->\nRest.\n",
            "content/posts/words.md": "---\ntitle: W\ndate: 2024-01-02\n---\n"
            + " ".join(f"w{i}" for i in range(100))
            + "\n",
            "content/posts/own.md": "---\ntitle: O\ndate: 2024-01-03\nsummary: Mine\n---\nBody\n",
        },
    )
    posts = {p.id: p for p in read(tmp_path, "hugo").posts}
    assert posts["more"].summary == "Intro with a link and bold. Still intro."
    assert posts["words"].summary == " ".join(f"w{i}" for i in range(70))
    assert posts["own"].summary == "Mine"


def test_excerpt_is_linear_on_hostile_bodies() -> None:
    from publisher.posts.sources.base import excerpt

    for body in ("[" * 100_000, "<" * 100_000, "![](" * 50_000, "{/*" * 50_000, "a\n" * 200_000):
        result = excerpt(body, ("<!--more-->",), words=70)
        assert result is None or len(result) <= 700


def test_hugo_languages_one_config_per_language(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "hugo.yaml": "baseURL: https://example.org/\ndefaultContentLanguage: en\n"
            "permalinks:\n  blog: /:section/:slug/\nlanguages:\n"
            "  en: {contentDir: content/en, weight: 1}\n  fr: {contentDir: content/fr, weight: 2}\n",
            "content/en/blog/hello.md": "---\ntitle: Hello\ndate: 2024-01-01\n---\n",
            "content/fr/blog/bonjour.md": "---\ntitle: Bonjour\ndate: 2024-01-01\n---\n",
        },
    )
    english = read(tmp_path, "hugo", folder="content/en/blog")
    french = read(tmp_path, "hugo", folder="content/fr/blog")
    assert urls(english) == {"hello": "https://example.org/blog/hello/"}
    assert urls(french) == {"bonjour": "https://example.org/fr/blog/bonjour/"}


@pytest.mark.parametrize(
    "config",
    [
        "collections:\n  posts:\n    output: true\n    permalink: /news/:title/\n",
        "defaults:\n  - scope: {path: '', type: posts}\n    values: {layout: post, permalink: /news/:title/}\n",
    ],
)
def test_jekyll_permalink_per_collection_and_in_defaults(tmp_path: Path, config: str) -> None:
    site(
        tmp_path,
        {
            "_config.yml": "permalink: pretty\n" + config,
            "_posts/2024-05-01-hi.md": "---\ntitle: Hi\n---\n",
        },
    )
    assert urls(read(tmp_path, "jekyll")) == {"2024-05-01-hi": "https://example.org/news/hi/"}


@pytest.mark.parametrize("generator", ["hugo", "zola", "docusaurus", "mkdocs", "eleventy"])
def test_a_folder_link_loop_does_not_hang_the_walk(tmp_path: Path, generator: str) -> None:
    from publisher.posts.sources import SOURCES

    folder = tmp_path / "posts"
    site(folder, {"a/2024-01-01-x.md": "---\ntitle: X\n---\n"})
    (folder / "a" / "loop").symlink_to(folder, target_is_directory=True)
    found = SOURCES[generator].find(folder)
    assert [p.relative_to(folder).as_posix() for p in found] == ["a/2024-01-01-x.md"]


def test_posts_url_on_the_generic_layout_applies_to_posts_without_path(tmp_path: Path) -> None:
    site(
        tmp_path,
        {
            "posts/a/index.md": "---\ntitle: A\ndate: 2024-05-01\n---\n",
            "posts/b/index.md": "---\ntitle: B\ndate: 2024-05-02\npath: /own/b/\n---\n",
        },
    )
    result = read(tmp_path, "generic", url="/blog/{year}/{month}/{slug}/")
    assert urls(result) == {
        "a": "https://example.org/blog/2024/05/a/",
        "b": "https://example.org/own/b/",
    }
