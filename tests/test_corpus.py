"""The 54 real cilium.io posts in ../shared/corpus, read as a user's site would read them.

Skipped, with the reason, when the corpus is not beside the checkout.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from publisher.config import Config, load_config
from publisher.errors import PostError
from publisher.posts import Author, Post, ReadResult, frontmatter, fullyaml, read_posts

CONFIG = """\
site:
  title: Cilium
  url: https://cilium.io
  timezone: Europe/Berlin
posts:
  folder: {folder}
"""


_READS: dict[Path, tuple[Config, ReadResult]] = {}


@pytest.fixture
def corpus_read(
    corpus: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> tuple[Config, ReadResult]:
    """The corpus read once for this module: the posts are never written to."""
    if corpus not in _READS:
        site = tmp_path_factory.mktemp("cilium-site")
        # The corpus is outside both the site folder and the working folder, so messages
        # name its files by their absolute paths.
        monkeypatch.chdir(site)
        path = site / "config.yaml"
        path.write_text(CONFIG.format(folder=corpus), encoding="utf-8")
        config = load_config(path)
        _READS[corpus] = (config, read_posts(config, jobs=1))
    return _READS[corpus]


@pytest.fixture
def config(corpus_read: tuple[Config, ReadResult]) -> Config:
    return corpus_read[0]


@pytest.fixture
def result(corpus_read: tuple[Config, ReadResult]) -> ReadResult:
    return corpus_read[1]


def by_id(result: ReadResult, post_id: str) -> Post:
    (post,) = [p for p in result.posts if p.id == post_id]
    return post


def test_every_post_is_read_with_only_the_expected_warning(
    config: Config, result: ReadResult
) -> None:
    file = (config.posts.folder / "2023-10-11-cilium-graduation-isovalent" / "index.md").as_posix()
    assert result.files == 54
    assert len(result.posts) == 54
    assert result.errors == ()
    # Four posts name their author only through <BlogAuthor {...authors.x} />, and the
    # site's author data (a JS module) cannot be read: dropped, with a warning each.
    authorless = [p for p in result.problems if p.message.startswith("<BlogAuthor> has no")]
    assert len(authorless) == 4
    problems = [p for p in result.problems if p not in authorless]
    assert [str(p) for p in problems] == [
        f"{file}:8: externalUrl 'hhttps://isovalent.com/blog/post/cilium-graduates-cncf/' "
        "is not an absolute http(s) URL; write it as https://host/path; "
        "until then the post links to https://cilium.io/2023-10-11-cilium-graduation-isovalent/"
    ]
    assert [p.severity for p in result.problems] == ["warning"] * 5
    assert len({p.url for p in result.posts}) == 54


def test_the_model_post(result: ReadResult) -> None:
    post = by_id(result, "2022-11-04-kubecon-wrapup")
    assert post.title == "Cilium at KubeCon NA 2022 Wrap Up"
    assert post.url == "https://cilium.io/blog/2022/11/04/cilium-kubecon-na-wrapup"
    assert post.date == datetime(2022, 11, 4, 17, tzinfo=UTC)
    assert post.authors == (Author(name="Bill Mulligan", org="Isovalent"),)
    assert post.og_image is not None
    assert post.og_image.name == "kubecon_stage.webp"
    assert post.tags == ("Cilium", "KubeCon")
    assert post.categories == ("Community",)
    assert post.summary == "Find out the buzz from around the community at KubeCon"
    assert (post.is_popular, post.is_featured, post.draft) == (True, False, False)
    assert (
        '<img src="https://cilium.io/blog/2022/11/04/cilium-kubecon-na-wrapup/kubecon_stage.webp"'
        in post.body_html
    )


def test_titles_in_other_scripts_are_intact(result: ReadResult) -> None:
    assert by_id(result, "2023-10-19-cilium-graduation-public-key").title == (
        "Linuxカーネル内部をフックするeBPFを用いてコンテナ間通信を実現する「Cilium」、"
        "十分成熟したソフトウェアに到達したとして、CNCFの卒業プロジェクトに"
    )
    assert by_id(result, "2022-08-18-thinkit-kubecon").title == (
        "KubeCon EU開幕 前日に行われたプレカンファレンスからeBPFとTetragonを紹介"
    )
    assert (
        by_id(result, "2023-02-23-ko").title
        == "K8S/Cilium eBPF 기반 서비스 메쉬 분석 (Per-Node Proxy)"
    )
    assert by_id(result, "2024-05-09-cilium-best-k8s-cni").title == (
        "Cilium - Kubernetes CNI ที่ดีที่สุดที่เป็นมากกว่า CNI"
    )


@pytest.mark.parametrize(
    ("post_id", "authors"),
    [
        ("2022-05-10-kubecon-eu-talks", (Author(name="Bill Mulligan", org="Isovalent"),)),
        ("2023-11-08-ebpf-documentary", (Author(name="Shedrack Akintayo", org="Isovalent"),)),
        ("2025-08-15-host-firewall-primer", (Author(name="Paul Arah", org="Isovalent@Cisco"),)),
        (
            "2024-08-19-hubble-for-network-security-p2",
            (Author(name="Shedrack Akintayo", org="Isovalent"),),
        ),
        ("2023-10-24-meet-aditi", (Author(name="Shedrack Akintayo", org="Isovalent"),)),
        (
            "2022-11-03-constellation",
            (
                Author(name="Leonard Cohnen", org="Edgeless Systems"),
                Author(name="Moritz Eckert", org="Edgeless Systems"),
            ),
        ),
        # "... newsletter around BPF written by Alexander Alemayhu." is a sentence.
        ("25-05-2017-bpf-updates-04", ()),
    ],
)
def test_author_lines_in_real_posts(
    result: ReadResult, post_id: str, authors: tuple[Author, ...]
) -> None:
    assert by_id(result, post_id).authors == authors


def test_link_posts(result: ReadResult) -> None:
    trailing_space = by_id(result, "2023-05-27-race-conditions")
    assert trailing_space.url == (
        "https://blog.zhouhaibing.com/posts/race-condition-between-kube-proxy-and-cilium/"
    )
    assert trailing_space.page_url == "https://cilium.io/2023-05-27-race-conditions/"
    broken = by_id(result, "2023-10-11-cilium-graduation-isovalent")
    assert broken.external_url is None
    assert broken.url == "https://cilium.io/2023-10-11-cilium-graduation-isovalent/"
    remote_image = by_id(result, "2019-01-22-why-cilium")
    assert remote_image.og_image is None
    assert remote_image.og_image_url == (
        "https://mobilabsolutions.com/wp-content/uploads/2019/01/iptables-service-1.jpg.webp"
    )


def test_drafts_are_read_but_not_published(result: ReadResult) -> None:
    assert by_id(result, "10-10-2018-dns-policies").draft
    published = result.published(datetime(2100, 1, 1, tzinfo=UTC))
    assert len(published) == 53
    assert "10-10-2018-dns-policies" not in {p.id for p in published}


_REFERENCE = re.compile(r'\b(src|href|poster)="([^"]*)"')


def test_bodies_are_clean_html_with_absolute_references(result: ReadResult) -> None:
    for post in result.posts:
        assert "import authors" not in post.body_html, post.id
        assert "BlogAuthor" not in post.body_html, post.id
        assert "className=" not in post.body_html, post.id
        assert "style={{" not in post.body_html, post.id
        for attribute, value in _REFERENCE.findall(post.body_html):
            allowed = ("https://", "http://") + (("mailto:",) if attribute == "href" else ())
            assert value.startswith(allowed), f"{post.id}: {attribute}={value!r}"


# --- the C YAML loader reads the corpus as the Python one does --------------------------------


def _frontmatters(root: Path) -> list[tuple[str, str]]:
    """(file, YAML frontmatter text) of every markdown file of every sample blog."""
    found = []
    for path in sorted(root.rglob("*.md*")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.startswith("---"):
            try:
                meta, _, _, _ = frontmatter.split(text, path.name)
            except PostError:
                continue
            found.append((path.relative_to(root).as_posix(), meta))
    return found


def _parse_all(texts: list[tuple[str, str]]) -> list[object]:
    out: list[object] = []
    for file, meta in texts:
        try:
            out.append(frontmatter.parse(meta, file))
        except PostError as exc:
            out.append(str(exc))
    return out


def test_the_c_yaml_loader_reads_every_corpus_post_as_the_python_one(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not issubclass(fullyaml._Loader, yaml.CSafeLoader):
        pytest.skip("PyYAML was built without libyaml: only the Python loader is used")
    texts = _frontmatters(corpus.parent.parent)  # all five sample blogs
    assert len(texts) > 100
    with_c = _parse_all(texts)

    class PythonLoader(yaml.SafeLoader):
        duplicates: list[tuple[str, int]]

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.duplicates = []

    PythonLoader.yaml_implicit_resolvers = fullyaml._Loader.yaml_implicit_resolvers
    PythonLoader.yaml_constructors = fullyaml._Loader.yaml_constructors
    monkeypatch.setattr(fullyaml, "_Loader", PythonLoader)
    assert _parse_all(texts) == with_c
