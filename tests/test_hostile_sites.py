"""A generator's own config files come with the site's repository, from anyone.

A pull request can change hugo.toml, mkdocs.yml, docusaurus.config.js, .eleventy.js or
link ``_posts`` elsewhere. None of that may make ``publish init``, ``check`` or the preview
read files outside the site (the runner's home, another checkout), and none of it may end
in a traceback: each is one config-error line (exit 2).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import REPO
from publisher.errors import ConfigError
from publisher.init import init_site
from publisher.posts.sources import get
from publisher.posts.sources.base import _without_mdx_comments as without_mdx_comments
from publisher.posts.sources.eleventy import _render as eleventy_render

POST = "---\ntitle: Fine\ndate: 2024-01-02\nauthors: [evil]\n---\nok\n"


def outside(tmp_path: Path) -> Path:
    """Files beside the site that hold a secret: a blog, an authors table, a Hugo config."""
    out = tmp_path / "outside"
    (out / "blog" / "posts").mkdir(parents=True)
    (out / "blog" / "posts" / "2024-01-05-secret.md").write_text(
        "---\ndate: 2024-01-05\n---\n# SECRETPOST\n\nSECRETBODY\n"
    )
    (out / "blog" / ".authors.yml").write_text("authors:\n  evil:\n    name: SECRETAUTHOR\n")
    (out / "blog" / "authors.yml").write_text("evil:\n  name: SECRETAUTHOR\n")
    (out / "secret.toml").write_text('baseURL = "https://secret.example/"\ntitle = "SECRET"\n')
    return out


# (generator, files written in the site, links made in the site (name -> target below tmp),
#  words the one problem line must hold)
CASES = [
    pytest.param(
        "mkdocs",
        {"mkdocs.yml": "site_url: https://x.example/\ndocs_dir: ../outside\nplugins:\n  - blog\n"},
        {},
        "puts the posts in",
        id="mkdocs-docs_dir",
    ),
    pytest.param(
        "mkdocs",
        {
            "mkdocs.yml": "site_url: https://x.example/\nplugins:\n  - blog:\n"
            "      authors_file: ../../outside/blog/.authors.yml\n",
            "docs/blog/posts/2024-01-02-a.md": POST,
        },
        {},
        ".authors.yml: leads outside the site folder",
        id="mkdocs-authors_file",
    ),
    pytest.param(
        "hugo",
        {"content/posts/a.md": POST},
        {"hugo.toml": "outside/secret.toml"},
        "hugo.toml: leads outside the site folder",
        id="hugo-linked-config",
    ),
    pytest.param(
        "hugo",
        {"hugo.toml": 'baseURL = "https://x.example/"\ncontentDir = "../outside/blog"\n'},
        {},
        "puts the posts in",
        id="hugo-contentDir",
    ),
    pytest.param(
        "docusaurus",
        {
            "docusaurus.config.js": "module.exports = { url: 'https://x.example', presets: "
            "[['classic', { blog: { path: '../outside/blog' } }]] };\n"
        },
        {},
        "puts the posts in",
        id="docusaurus-blog-path",
    ),
    pytest.param(
        "docusaurus",
        {"docusaurus.config.js": "module.exports = { url: 'https://x.example' };\n"},
        {"blog": "outside/blog"},
        "puts the posts in",
        id="docusaurus-linked-blog",
    ),
    pytest.param(
        "eleventy",
        {
            ".eleventy.js": "module.exports = function (c) { return { dir: "
            "{ input: '../outside/blog' } } };\n"
        },
        {},
        "puts the posts in",
        id="eleventy-input",
    ),
    pytest.param(
        "jekyll",
        {"_config.yml": "url: https://x.example\n", "Gemfile": ""},
        {"_posts": "outside/blog/posts"},
        "puts the posts in",
        id="jekyll-linked-_posts",
    ),
]


def make_site(tmp_path: Path, files: dict[str, str], links: dict[str, str]) -> Path:
    outside(tmp_path)
    site = tmp_path / "site"
    for name, text in files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for name, target in links.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(tmp_path / target, path)
    site.mkdir(exist_ok=True)
    return site


@pytest.mark.parametrize(("generator", "files", "links", "words"), CASES)
def test_init_refuses_a_site_that_reaches_outside(
    tmp_path: Path, generator: str, files: dict[str, str], links: dict[str, str], words: str
) -> None:
    site = make_site(tmp_path, files, links)
    with pytest.raises(ConfigError) as caught:
        init_site(site, site_url="https://x.example")
    text = "\n".join(caught.value.problems)
    assert words in text
    assert "outside the site folder" in text
    assert "SECRET" not in text
    assert not (site / "config.yaml").exists()


@pytest.mark.parametrize(("generator", "files", "links", "words"), CASES)
def test_check_and_preview_refuse_it_in_one_line(
    tmp_path: Path, generator: str, files: dict[str, str], links: dict[str, str], words: str
) -> None:
    site = make_site(tmp_path, files, links)
    (site / "config.yaml").write_text(
        "site:\n  title: T\n  url: https://x.example\n"
        f"posts:\n  generator: {generator}\noutput:\n  folder: out\nstate:\n  folder: state\n"
    )
    for args in (("check",), ("preview", "--dry-run")):
        run = subprocess.run(
            [sys.executable, "-m", "publisher", *args],
            cwd=site,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        )
        shown = run.stdout + run.stderr
        assert run.returncode == 2, shown
        assert "Traceback" not in shown
        assert "SECRET" not in shown
        assert [line for line in shown.splitlines() if words in line], shown
    written = [p for p in site.rglob("*") if p.is_file() and not p.is_symlink()]
    assert not [p for p in written if b"SECRET" in p.read_bytes()]


def test_a_posts_folder_named_in_config_yaml_is_the_owners_choice(tmp_path: Path) -> None:
    """Only folders taken from the generator's files are held inside the site."""
    out = outside(tmp_path)
    site = tmp_path / "site"
    (site / "docs").mkdir(parents=True)
    (site / "mkdocs.yml").write_text("site_url: https://x.example/\nplugins:\n  - blog\n")
    setup = get("mkdocs").configure(site, out / "blog" / "posts")
    assert setup.problems == ()
    assert setup.folder == out / "blog" / "posts"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
@pytest.mark.parametrize("name", ["fifo.md", "page.html", "bundle/index.md"])
def test_a_named_pipe_among_the_posts_is_one_error_not_a_hang(tmp_path: Path, name: str) -> None:
    """open() on a pipe waits for a writer forever: the PR gate would hang until killed."""
    site = tmp_path / "site"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "hugo.toml").write_text('baseURL = "https://x.example/"\n')
    (site / "content" / "posts" / "good.md").write_text(
        "+++\ntitle = 'Good'\ndate = 2024-01-02\n+++\nok\n"
    )
    pipe = site / "content" / "posts" / name
    pipe.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(pipe)
    (site / "config.yaml").write_text(
        "site:\n  title: T\n  url: https://x.example\n"
        "posts:\n  generator: hugo\noutput:\n  folder: out\nstate:\n  folder: state\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "publisher", "check"],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )
    shown = run.stdout + run.stderr
    assert run.returncode == 3, shown
    assert "Traceback" not in shown
    assert f"{name}: is not a regular file" in shown
    assert "1 published" in shown


def test_a_config_file_that_is_not_a_regular_file_is_one_line(tmp_path: Path) -> None:
    from publisher.posts.sources import siteconfig

    with pytest.raises(siteconfig.SiteConfigError, match="is not a regular file"):
        siteconfig.load(Path("/dev/null"), "hugo.toml", Path("/dev"))


TOML_JSON_FRONTMATTER = [
    pytest.param(
        b"+++\ntitle = 'T'\ndate = 2024-01-02\nx = " + b"9" * 5000 + b"\n+++\nb\n",
        "number too long",
        id="toml-5000-digit-int",
    ),
    pytest.param(
        b'{"title": "T", "date": "2024-01-02", "x": ' + b"9" * 5000 + b"}\nb\n",
        "number too long",
        id="json-5000-digit-int",
    ),
    pytest.param(
        b'{"x": ' + b"[\n" * 60000 + b"]\n" * 60000 + b"}\n",
        "nested too deeply",
        id="json-deep-over-lines",
    ),
    pytest.param(
        b"+++\nx = " + b"[" * 50000 + b"]" * 50000 + b"\n+++\n",
        "characters long",
        id="toml-deep-one-line",
    ),
    pytest.param(b"+++\ntitle = nan\ndate = inf\n+++\nb\n", "date", id="toml-nan-inf"),
    pytest.param(b'{"title": NaN, "date": Infinity}\nb\n', "date", id="json-nan-infinity"),
]


@pytest.mark.parametrize(("raw", "words"), TOML_JSON_FRONTMATTER)
def test_hostile_toml_and_json_frontmatter_is_one_clear_problem(raw: bytes, words: str) -> None:
    """Python refuses int('9' * 5000); that ValueError was the reader's 'bug in publisher'."""
    from publisher.posts.reader import ReadContext, parse_post
    from publisher.posts.sources.base import SourceRules

    ctx = ReadContext(
        site_url="https://x.example",
        timezone="UTC",
        summary_keys=("ogSummary",),
        default_path="/{id}/",
        default_author=None,
        rules=SourceRules(generator="hugo"),
    )
    record, problems = parse_post(raw, "a", "content/posts/a.md", ctx)
    assert record is None
    assert len(problems) == 1, problems
    assert words in str(problems[0])
    assert "bug in publisher" not in str(problems[0])


# A pull request can commit a symbolic link where config.yaml names a folder. The posts
# would then be read from elsewhere on the runner, and the output written elsewhere.
PLANTED = [
    pytest.param({"posts": "victim"}, "posts.folder", id="posts-folder"),
    pytest.param({"public": "victim"}, "output.folder", id="output-folder"),
    pytest.param({"state": "victim"}, "state.folder", id="state-folder"),
]


def planted_site(tmp_path: Path, links: dict[str, str]) -> Path:
    victim = tmp_path / "victim"
    (victim / "x").mkdir(parents=True)
    (victim / "x" / "index.md").write_text("---\ntitle: SECRET\ndate: 2024-01-02\n---\nSECRET\n")
    site = tmp_path / "site"
    (site / "posts" / "2024-01-01-a").mkdir(parents=True)
    (site / "posts" / "2024-01-01-a" / "index.md").write_text(
        "---\ntitle: A\ndate: 2024-01-02\n---\nx\n"
    )
    (site / "config.yaml").write_text(
        "site:\n  title: T\n  url: https://x.example\nposts:\n  folder: posts\n"
        "output:\n  folder: public\nstate:\n  folder: state\n"
    )
    for name, target in links.items():
        link = site / name
        if link.is_dir():
            shutil.rmtree(link)
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(tmp_path / target, link)
    return site


def publish(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", *args],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )


@pytest.mark.parametrize(("links", "key"), PLANTED)
def test_a_planted_link_for_a_configured_folder_is_a_config_error(
    tmp_path: Path, links: dict[str, str], key: str
) -> None:
    site = planted_site(tmp_path, links)
    for args in (("check",), ("preview", "--dry-run"), ("build",)):
        run = publish(site, *args)
        shown = run.stdout + run.stderr
        assert run.returncode == 2, shown
        assert f"{key}: " in shown and "symbolic link" in shown, shown
        assert "SECRET" not in shown and "Traceback" not in shown
    assert sorted(p.name for p in (tmp_path / "victim").rglob("*")) == ["index.md", "x"]


def test_a_path_with_dots_in_config_yaml_is_the_owners_choice(tmp_path: Path) -> None:
    site = planted_site(tmp_path, {})
    (site / "config.yaml").write_text(
        "site:\n  title: T\n  url: https://x.example\nposts:\n  folder: ../victim\n"
        "output:\n  folder: public\nstate:\n  folder: state\n"
    )
    run = publish(site, "check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 published" in run.stdout + run.stderr


def test_a_planted_preview_link_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """The build's writer keeps writes inside public/; the preview writes inside
    public/preview/, so that folder itself must not be a link leading out."""
    site = planted_site(tmp_path, {"public/preview": "victim"})
    run = publish(site, "preview", "--dry-run")
    shown = run.stdout + run.stderr
    assert run.returncode != 0 and "Traceback" not in shown, shown
    assert "refusing to write the preview" in shown
    assert sorted(p.name for p in (tmp_path / "victim").rglob("*")) == ["index.md", "x"]


@pytest.mark.parametrize(
    ("config", "link", "key"),
    [
        pytest.param(
            "announce:\n  targets:\n    - kind: outbox\n      name: o\n      path: o.jsonl\n"
            "      backfill: 3\n      template: t/message.j2\n",
            "t/message.j2",
            "announce.targets[0].template",
            id="announcement-template",
        ),
        pytest.param(
            "cards:\n  logo: brand/logo.png\n", "brand/logo.png", "cards.logo", id="card-logo"
        ),
    ],
)
def test_a_linked_template_or_logo_leading_outside_is_a_config_error(
    tmp_path: Path, config: str, link: str, key: str
) -> None:
    """The linked file's text would be announced in public, or its picture on every card."""
    site = planted_site(tmp_path, {})
    secret = tmp_path / "victim" / "secret.j2"
    secret.write_text("SECRET {{ title }}\n")
    (site / link).parent.mkdir(parents=True)
    os.symlink(secret, site / link)
    with (site / "config.yaml").open("a") as handle:
        handle.write(config)
    for args in (("check",), ("announce", "--dry-run", "-v")):
        run = publish(site, *args)
        shown = run.stdout + run.stderr
        assert run.returncode == 2, shown
        assert f"{key}: " in shown and "symbolic link" in shown, shown
        assert "SECRET" not in shown


def test_init_does_not_follow_a_dangling_config_link(tmp_path: Path) -> None:
    """open('x') refuses a dangling link (good), which was a FileExistsError traceback."""
    site = tmp_path / "site"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "hugo.toml").write_text('baseURL = "https://x.example/"\n')
    (site / "config.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    run = publish(site, "init")
    shown = run.stdout + run.stderr
    assert run.returncode == 2 and "Traceback" not in shown, shown
    assert "config.yaml: already exists" in shown
    assert not (tmp_path / "elsewhere.yaml").exists()


def _growth(work: Callable[[int], object]) -> list[float]:
    """Seconds for ``work`` at 1x, 2x, 4x and 8x (best of three, to damp a busy machine)."""
    times = []
    for scale in (1, 2, 4, 8):
        best = float("inf")
        for _ in range(3):
            # CPU time: a busy machine or the other `-n auto` worker pauses us uncounted.
            start = time.process_time()
            work(scale)
            best = min(best, time.process_time() - start)
        times.append(best)
    return times


def _docusaurus(text: str) -> object:
    site = Path(tempfile.mkdtemp())
    (site / "docusaurus.config.js").write_text(text)
    try:
        return get("docusaurus").configure(site, None)
    finally:
        shutil.rmtree(site)


# Each was quadratic or worse: 160 KB of newlines in docusaurus.config.js took 32 s (the
# trailingSlash regex ran \s* over every blank line from every line start); an Eleventy
# permalink '{{' and 8,000 spaces took over 100 s; unclosed '{/*' MDX comments grew with
# the square of their length (about 0.5 s a post, as the excerpt reads 20,000 characters).
SLOW_BEFORE = {
    "docusaurus-newlines": lambda n: _docusaurus("\n" * 20_000 * n),
    "eleventy-permalink-spaces": lambda n: eleventy_render("{{" + " " * 10_000 * n, {}),
    "mdx-unclosed-comments": lambda n: without_mdx_comments("{/*" * 5_000 * n),
}


@pytest.mark.parametrize("name", sorted(SLOW_BEFORE))
def test_generator_passes_grow_linearly(name: str) -> None:
    times = _growth(SLOW_BEFORE[name])
    # Linear: 8x the input costs about 8x; quadratic would be 64x. Generous slack, and a
    # floor so that timer noise on tiny times cannot fail it.
    assert times[3] <= max(times[0], 0.002) * 24, times
