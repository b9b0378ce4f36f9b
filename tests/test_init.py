"""``publish init``: detect the site, write a commented config.yaml, never overwrite one;
``publish`` with no config in a site's folder points to ``publish init``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from cli_run import publish

from conftest import REPO
from publisher.config import load_config
from publisher.errors import ConfigError
from publisher.init import init_site, site_hint
from publisher.posts import read_posts

CORPUS = Path(os.environ.get("PUBLISHER_CORPUS") or REPO.parent / "shared" / "corpus")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


HUGO = {
    "hugo.toml": 'baseURL = "https://example.org/"\ntitle = "My Hugo Site"\n'
    '[permalinks]\nposts = "/:year/:slug/"\n',
    "content/posts/one.md": "---\ntitle: One\ndate: 2024-01-01\n---\nHello one.\n",
    "content/posts/two.md": "---\ntitle: Two\ndate: 2024-02-01\n---\nHello two.\n",
    "content/posts/three.md": "---\ntitle: Three\ndate: 2024-03-01\n---\nHello three.\n",
    "content/posts/four.md": "---\ntitle: Four\ndate: 2024-04-01\n---\nHello four.\n",
}


def test_init_writes_a_config_that_reads_the_site(tmp_path: Path) -> None:
    write(tmp_path, HUGO)
    report = init_site(tmp_path)
    text = (tmp_path / "config.yaml").read_text(encoding="utf-8")
    assert text == report.text
    assert "generator: hugo" in text
    assert text.count("\n#") + text.count("  #") >= 5  # commented for a person
    data = yaml.safe_load(text)
    assert data["site"] == {
        "title": "My Hugo Site",
        "url": "https://example.org",
        "language": "en",
        "timezone": "UTC",
    }
    assert data["output"]["folder"] != "public"  # Hugo's own output folder
    assert report.posts == 4
    assert report.examples == (
        "https://example.org/2024/four/",
        "https://example.org/2024/three/",
        "https://example.org/2024/two/",
    )
    lines = report.lines()
    assert lines[1] == "posts: 4 of 4 files in content/posts"
    assert lines[2] == "URL rule: /:year/:slug/"
    config = load_config(tmp_path / "config.yaml")
    assert len(read_posts(config, jobs=1).posts) == 4


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    write(tmp_path, {**HUGO, "config.yaml": "mine: true\n"})
    with pytest.raises(ConfigError) as caught:
        init_site(tmp_path)
    assert "already exists; not overwritten" in caught.value.problems[0]
    assert (tmp_path / "config.yaml").read_text() == "mine: true\n"


def test_init_finds_a_site_in_a_subfolder_and_asks_for_the_url(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "docs/_config.yml": "title: Pages\npermalink: pretty\n",
            "docs/Gemfile": "gem 'jekyll'\n",
            "docs/_posts/2024-05-01-hello.md": "---\ntitle: Hello\n---\nHi\n",
        },
    )
    with pytest.raises(ConfigError) as caught:
        init_site(tmp_path)
    assert "--site-url" in caught.value.problems[0]
    assert not (tmp_path / "config.yaml").exists()
    report = init_site(tmp_path, site_url="https://me.example.io/")
    assert report.generator == "jekyll"
    assert report.site == tmp_path / "docs"
    assert report.examples == ("https://me.example.io/2024/05/01/hello/",)
    data = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert data["posts"] == {"generator": "jekyll", "site": "docs", "folder": "docs/_posts"}


def test_init_in_a_folder_without_a_site_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ConfigError) as caught:
        init_site(tmp_path)
    assert "posts.generator: generic" in caught.value.problems[0]


def test_init_lists_what_it_could_not_decide(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "astro.config.mjs": "export default { site: 'https://a.example' }\n",
            "src/content/blog/a.md": "---\ntitle: A\npubDate: 2024-01-01\n---\n",
        },
    )
    report = init_site(tmp_path)
    assert any("posts.url" in line for line in report.lines() if line.startswith("could not"))


def test_publish_without_config_in_a_site_points_to_init(tmp_path: Path) -> None:
    write(tmp_path, HUGO)
    assert site_hint(tmp_path) is not None
    run = publish("build", cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert "run `publish init`" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "public").exists()


def test_publish_init_command(tmp_path: Path) -> None:
    write(tmp_path, HUGO)
    run = publish("init", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("wrote config.yaml for the Hugo site in .")
    again = publish("init", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr


#: sample -> the folder a fresh clone of the site would be (the Astro sample is a monorepo's
#: examples/blog), and the --site-url to pass when the generator's config has none.
SAMPLES = {
    "mkdocs-material-blog": ".",
    "hugo-kubernetes-blog": ".",
    "docusaurus-blog": ".",
    "astro-blog": "examples/blog",
}


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_init_then_build_on_a_real_site(sample: str, tmp_path: Path) -> None:
    source = CORPUS / sample
    if not source.is_dir():
        pytest.skip(f"{source} is absent: the generator samples live in ../shared/corpus")
    clone = tmp_path / "clone"
    shutil.copytree(source, clone)
    root = clone / SAMPLES[sample]
    init = publish("init", cwd=root)
    assert init.returncode == 0, init.stderr
    build = publish("build", cwd=root)
    assert build.returncode == 0, build.stderr
    out = root / "publisher-out"
    assert (out / "rss.xml").is_file() and (out / "atom.xml").is_file()
    assert list(out.glob("og/**/*.jpg")) or list(out.glob("og/**/*.png"))
    assert "Traceback" not in build.stderr


def test_init_on_the_generic_layout(tmp_path: Path) -> None:
    write(tmp_path, {"posts/hello/index.md": "---\ntitle: Hi\ndate: 2024-01-01\npath: /hi/\n---\n"})
    assert site_hint(tmp_path) is None  # a guess from folder names is not a site to point at
    report = init_site(tmp_path, site_url="https://example.org")
    assert report.generator == "generic"
    assert report.examples == ("https://example.org/hi/",)
    assert len(read_posts(load_config(tmp_path / "config.yaml"), jobs=1).posts) == 1
