"""A differential soak of the incremental build on the real sample posts: random changes a
contributor makes to real posts, each followed by a build that must give the bytes, exit
code and error lines of a cold build of the same tree, then a build that changes nothing.

The bench site of ``tests/kill_soak.py`` is synthetic: one layout, plain prose. These are
the corpus's posts (``../shared/corpus``: link posts, MDX, CJK titles, raw HTML, images
whose extension lies) in the layouts of five generators, cards on and off. A change is one
of: text, a link, an image, raw HTML or MDX added to a body; a title, date, summary or
tags changed; a post made a draft or published again; its frontmatter broken; a post
removed, renamed, copied, put back as it was, or touched; or nothing. Some rounds age every
file first, so the build judges them by their stat rather than by their bytes.

``tests/test_corpus_soak.py`` runs a few rounds in CI when the corpus is there. By hand,
for the claim "an incremental build of real posts is a cold build's bytes"
(docs/performance.md)::

    python tests/corpus_soak.py --rounds 40 --seed 1
    python tests/corpus_soak.py --sample hugo --rounds 60 --seed 2
    python tests/corpus_soak.py --kill --rounds 30 --seed 3

``--kill`` kills a build at a random moment after each change (SIGKILL to the group or
the main process, SIGINT, SIGTERM, as ``tests/kill_soak.py`` does): the checked build
must then put the site right.

Each failed round is printed, and the two sites it failed on are kept beside the soak's
folder.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from build_process import ENV, interrupted_starting, killed_build, leftovers, publish_build
from kill_soak import KILLS

from conftest import tree_bytes

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

CILIUM_CONFIG = """site: {{title: Cilium, url: 'https://cilium.io', timezone: {zone}}}
posts: {{folder: posts, glob: "*/index.md", default_path: '/blog/{{id}}/'}}
output: {{folder: public}}
state: {{folder: .publisher}}
cards: {{enabled: {cards}, remote: {{enabled: false}}}}
feeds: {{formats: {formats}, limit: {limit}, content: full}}
announce: {{enabled: false}}
"""


class Sample(NamedTuple):
    #: The folder below the corpus copied as the site (None: cilium-sample's posts).
    source: str | None
    #: The folder below the copy that builds run in.
    site: str
    #: The posts folder below ``site``.
    posts: str
    #: The output folder below ``site``.
    output: str
    #: The config written (None: ``publish init`` writes it).
    config: str | None


SAMPLES = {
    "cilium-cards": Sample(
        None,
        ".",
        "posts",
        "public",
        CILIUM_CONFIG.format(zone="UTC", cards="true", formats="[rss, atom, json]", limit=20),
    ),
    "cilium": Sample(
        None,
        ".",
        "posts",
        "public",
        CILIUM_CONFIG.format(
            zone="Europe/Berlin", cards="false", formats="[rss, atom]", limit="null"
        ),
    ),
    "hugo": Sample("hugo-kubernetes-blog", ".", "content/en/blog", "publisher-out", None),
    "mkdocs": Sample("mkdocs-material-blog", ".", "docs/blog/posts", "publisher-out", None),
    "docusaurus": Sample("docusaurus-blog", "website", "blog", "publisher-out", None),
    "astro": Sample("astro-blog", "examples/blog", "src/content/blog", "publisher-out", None),
}

ADDED = (
    "A plain paragraph added by the soak.",
    "See [the docs](https://docs.example.org/a?b=1&c=2) and [a sibling](../other/).",
    "![A picture](./picture.png)",
    '<div class="note"><p>Raw <b>HTML</b> <a href="/x">link</a></p></div>',
    '<iframe src="https://www.youtube.com/embed/abc" width="560"></iframe>',
    'import Thing from "@site/thing";\n\n<Thing value={{ a: 1 }} />',
    "| a | b |\n|---|---|\n| 一 | 二 |",
    "日本語の段落です。한국어 문단입니다.",
    "~~struck~~ and `code` and a [ref][r].\n\n[r]: https://ref.example.org/",
)
TITLES = ("A new title", "Título: con dos puntos", "新しいタイトル", "'Quoted # hash'", "x" * 300)
DATES = (
    "2019-03-04",
    "2031-05-05",
    "2024-02-29T10:30:00Z",
    "2021-07-01 08:00:00 +02:00",
    "'2023-12-31'",
    "1999",
)
TAGS = ("[Networking, eBPF]", "[networking, EBPF]", "[]", "[Security]", "kernel")
CHANGES = (
    "body", "body", "body", "title", "date", "summary", "tags", "draft", "broken",
    "remove", "rename", "copy", "restore", "touch", "none", "several", "image", "image",
    "config", "generator", "authors",
)  # fmt: skip
IMAGES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".avif")
#: Edits of a generator's own config that move post URLs, each undone by its reverse.
GENERATOR_EDITS = (
    ("hugo.toml", 'blog = "/:section/:year/:month/:day/:slug/"', 'blog = "/:section/:slug/"'),
    ("mkdocs.yml", "  - blog\n", '  - blog:\n      post_url_format: "{slug}"\n'),
    ("astro.config.mjs", "site: 'https://example.com'", "site: 'https://example.net'"),
)


#: The latest moment of a kill (``--kill``), in seconds after the build starts: most
#: builds of a sample are over by then (a cold one with cards takes about 2.5 s).
LATEST = 1.5


class Failure(NamedTuple):
    round: int
    change: str
    problems: list[str]


def make_site(sample: Sample, root: Path) -> Path:
    """The sample copied to ``root``, its config written; the folder builds run in."""
    if sample.source is None:
        root.mkdir(parents=True)
        shutil.copytree(CORPUS / "cilium-sample" / "posts", root / "posts")
    else:
        shutil.copytree(CORPUS / sample.source, root)
    for path in [root, *root.rglob("*")]:  # a read-only corpus gives read-only copies
        path.chmod(path.stat().st_mode | 0o200)
    site = root / sample.site
    if sample.config is not None:
        (site / "config.yaml").write_text(sample.config, encoding="utf-8")
    else:
        subprocess.run(
            [sys.executable, "-m", "publisher", "init", "--site-url", "https://example.org"],
            cwd=site,
            env=ENV,
            check=True,
            capture_output=True,
        )
        # No network: a remote ogImageUrl is not fetched (nor looked up).
        config = site / "config.yaml"
        text = config.read_text(encoding="utf-8")
        assert "cards:\n  enabled: true\n" in text, text
        text = text.replace(
            "cards:\n  enabled: true\n", "cards:\n  enabled: true\n  remote: {enabled: false}\n"
        )
        config.write_text(text, encoding="utf-8")
    return site


def post_files(posts: Path) -> list[Path]:
    return sorted(p for p in posts.rglob("*") if p.suffix in (".md", ".mdx") and p.is_file())


def _frontmatter_line(text: str, key: str, value: str | None) -> str:
    """``text`` with its frontmatter's ``key:`` line set to ``value`` (None: removed),
    added after the opening ``---`` when there is none."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return text if value is None else f"---\n{key}: {value}\n---\n{text}"
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        return text
    for i in range(1, end):
        if lines[i].startswith(f"{key}:"):
            if value is None:
                del lines[i]
            else:
                lines[i] = f"{key}: {value}"
            return "\n".join(lines)
    if value is not None:
        lines.insert(1, f"{key}: {value}")
    return "\n".join(lines)


#: Frontmatter edits: the key set (None: one of the summary keys) and the values it takes.
FIELDS = {
    "title": ("title", TITLES),
    "date": ("date", DATES),
    "summary": (None, ("Short.", "''", "'Über: ñ'")),
    "tags": ("tags", TAGS),
    "broken": ("title", ("[unclosed", "{a: b", "!!python/name:os.system ''")),
}


def change(rng: random.Random, kind: str, posts: Path, pristine: Path) -> str:
    """Make one change of ``kind`` to the posts; what was done, for the report."""
    if kind in ("image", "config", "generator", "authors"):
        return _outside(rng, kind, posts)
    if kind == "several":
        picked = [rng.choice(CHANGES[:9]) for _ in range(rng.randint(2, 5))]
        return "; ".join(change(rng, one, posts, pristine) for one in picked)
    files = post_files(posts)
    if not files:
        return "no posts left"
    path = rng.choice(files)
    name = path.relative_to(posts).as_posix()
    if kind in ("remove", "rename", "copy"):
        return _move(rng, kind, path, posts)
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    if kind == "body":
        text = text.rstrip("\n") + "\n\n" + rng.choice(ADDED) + "\n"
    elif kind == "draft":
        text = _frontmatter_line(text, "draft", None if "draft: true" in text else "true")
    elif kind in FIELDS:
        key, values = FIELDS[kind]
        key = key or rng.choice(("description", "ogSummary"))
        text = _frontmatter_line(text, key, rng.choice(values))
    elif kind == "restore" and (pristine / name).is_file():
        text = (pristine / name).read_text(encoding="utf-8", errors="surrogateescape")
    if kind == "touch":
        os.utime(path)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
    return f"{kind} {name}"


def _move(rng: random.Random, kind: str, path: Path, posts: Path) -> str:
    """A post removed, renamed or copied (its folder, for an ``index.md``)."""
    source = path.parent if path.name.startswith("index.") and path.parent != posts else path
    name = path.relative_to(posts).as_posix()
    if kind == "remove":
        if source.is_dir():
            shutil.rmtree(source)
        else:
            source.unlink()
        return f"remove {name}"
    target = _free(source, rng)
    if kind == "rename":
        source.rename(target)
    elif source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)
    return f"{kind} {name} -> {target.relative_to(posts).as_posix()}"


def _outside(rng: random.Random, kind: str, posts: Path) -> str:
    """An image changed, the site's title in ``config.yaml``, or the generator's config."""
    site = _site_of(posts)
    if kind == "config":
        config = site / "config.yaml"
        text = config.read_text(encoding="utf-8")
        new = re.sub(
            r'title: ("[^"]*"|[^,}\n]*)', f'title: "Renamed {rng.randrange(100)}"', text, count=1
        )
        config.write_text(new, encoding="utf-8")
        return "config title"
    if kind == "authors":
        found = _inputs(site, "*authors.yml")
        if not found:
            return "authors: none"
        path = rng.choice(found)
        text = path.read_text(encoding="utf-8")
        renamed = f"name: Renamed Author {rng.randrange(100)}"
        path.write_text(re.sub(r"name: [^\n]*", renamed, text, count=1), encoding="utf-8")
        return f"authors {path.relative_to(site).as_posix()}"
    if kind == "generator":
        for name, one, other in GENERATOR_EDITS:
            path = site / name
            if path.is_file():
                text = path.read_text(encoding="utf-8")
                path.write_text(
                    text.replace(one, other) if one in text else text.replace(other, one),
                    encoding="utf-8",
                )
                return f"generator {name}"
        return "generator: none"
    images = [p for p in _inputs(site, "*") if p.suffix.lower() in IMAGES]
    if not images:
        return "image: none"
    path = rng.choice(images)
    how = rng.choice(("swap", "truncate", "new"))
    if how == "swap":
        other = rng.choice(images)
        path.write_bytes(other.read_bytes())
    elif how == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        from PIL import Image

        colour = tuple(rng.randrange(256) for _ in range(3))
        Image.new("RGB", (rng.randrange(20, 900), rng.randrange(20, 500)), colour).save(
            path, format="PNG"
        )
    return f"image {how} {path.relative_to(site).as_posix()}"


def _inputs(site: Path, pattern: str) -> list[Path]:
    """The files below ``site`` named like ``pattern``, but a state or output folder's."""
    outside = {".publisher", "public", "publisher-out"}
    return sorted(
        p
        for p in site.rglob(pattern)
        if p.is_file() and not outside & set(p.relative_to(site).parts)
    )


def _site_of(posts: Path) -> Path:
    """The folder holding ``config.yaml`` at or above ``posts``."""
    for folder in (posts, *posts.parents):
        if (folder / "config.yaml").is_file():
            return folder
    raise FileNotFoundError(f"no config.yaml above {posts}")


def _free(source: Path, rng: random.Random) -> Path:
    """A new name beside ``source``."""
    while True:
        stem = f"soak-{rng.randrange(10**6):06d}"
        target = source.with_name(stem + (source.suffix if source.is_file() else ""))
        if not target.exists():
            return target


def age(root: Path, skip: tuple[str, ...]) -> None:
    """Every input file's times a minute back (not the output's or the state's)."""
    old = time.time() - 60
    for path in root.rglob("*"):
        if not skip or not any(part in skip for part in path.relative_to(root).parts):
            os.utime(path, (old, old), follow_symlinks=False)


def errors_of(stderr: str) -> list[str]:
    """The lines a build printed but the files it wrote or deleted, without timings and
    cache counts (a cold build reads from no cache)."""
    return sorted(
        _NOTHING.sub(r"read \1", _MEASURED.sub("", line))
        for line in stderr.splitlines()
        if not line.startswith(("wrote ", "deleted "))
    )


_MEASURED = re.compile(r" in \d+\.\d+ s\b| \(\d+ from cache\)")
#: A build that found nothing changed counts the posts as a build that read them does.
_NOTHING = re.compile(
    r"^nothing changed since the last build \((\d+ posts: [^)]*)\); checked, nothing written$"
)


def cold_twin(
    root: Path, site: Path, sample: Sample, where: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, bytes]]:
    """A cold build of a copy of ``root`` without its output and state."""
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(root, where, ignore=shutil.ignore_patterns(".publisher", sample.output))
    twin = where / site.relative_to(root)
    ran = publish_build(twin)
    return ran, tree_bytes(twin / sample.output)


def check_round(root: Path, site: Path, sample: Sample, twin: Path) -> list[str]:
    problems: list[str] = []
    ran = publish_build(site)
    if "Traceback" in ran.stderr:
        problems.append(f"traceback: {ran.stderr[-2000:]}")
    cold, expected = cold_twin(root, site, sample, twin)
    got = tree_bytes(site / sample.output)
    differ = [p for p in sorted(set(got) | set(expected)) if got.get(p) != expected.get(p)]
    if differ:
        problems.append(f"output differs from a cold build's: {differ[:8]}")
    if ran.returncode != cold.returncode:
        problems.append(f"exit {ran.returncode}, a cold build's {cold.returncode}")
    if errors_of(ran.stderr) != errors_of(cold.stderr):
        problems.append(f"messages differ:\n  {errors_of(ran.stderr)}\n  {errors_of(cold.stderr)}")
    again = publish_build(site, "--detailed-exit-codes")
    if tree_bytes(site / sample.output) != got:
        problems.append("the build after it changed the output")
    if any(line.startswith("wrote ") for line in again.stderr.splitlines()):
        problems.append(f"the build after it wrote: {again.stderr[:500]}")
    if again.returncode not in (5, ran.returncode):
        problems.append(f"the build after it exited {again.returncode}: {again.stderr[-500:]}")
    if leftovers(site):
        problems.append(f"left behind: {leftovers(site)}")
    return problems


def killed(rng: random.Random, site: Path) -> list[str]:
    """A build of ``site`` killed at a random moment (as ``tests/kill_soak.py`` kills)."""
    how, delay = rng.choice(KILLS), rng.uniform(0.0, LATEST)
    code, stderr = killed_build(site, delay, how)
    if "Traceback" in stderr and not (how == "int" and interrupted_starting(code, stderr)):
        return [f"the build killed ({how}) at {delay:.2f} s printed a traceback: {stderr[-600:]}"]
    return []


def soak(
    name: str, rounds: int, seed: int, folder: Path, keep: Path | None = None, kill: bool = False
) -> list[Failure]:
    """``rounds`` random changes to sample ``name`` copied into ``folder``, each checked;
    the tree of a failed round is copied below ``keep`` when one is given. With ``kill``,
    a build killed at a random moment comes between each change and the checked build."""
    sample = SAMPLES[name]
    rng = random.Random(seed)
    root = folder / name
    site = make_site(sample, root)
    pristine = folder / f"{name}-pristine"
    shutil.copytree(site / sample.posts, pristine)
    skip = (".publisher", sample.output)
    age(root, skip)
    first = publish_build(site)
    assert "Traceback" not in first.stderr, first.stderr
    failures = []
    for round_ in range(rounds):
        kind = rng.choice(CHANGES)
        done = "none" if kind == "none" else change(rng, kind, site / sample.posts, pristine)
        if rng.random() < 0.5:
            age(root, skip)
        problems = killed(rng, site) if kill else []
        problems += check_round(root, site, sample, folder / f"{name}-cold")
        if problems:
            failures.append(Failure(round_, done, problems))
            print(f"{name} round {round_} ({done})", file=sys.stderr)
            if keep is not None:
                kept = keep / f"{name}-round{round_}"
                shutil.copytree(root, kept, symlinks=True)
                print(f"  kept in {kept}", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            # Go on from a cold build of this tree.
            shutil.rmtree(site / ".publisher", ignore_errors=True)
            shutil.rmtree(site / sample.output, ignore_errors=True)
            publish_build(site)
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", choices=sorted(SAMPLES), action="append")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kill", action="store_true", help="kill a build after each change")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print("../shared/corpus is absent: nothing to soak", file=sys.stderr)
        return 2
    failed = 0
    for offset, name in enumerate(args.sample or sorted(SAMPLES)):
        with tempfile.TemporaryDirectory(prefix="corpus-soak-") as tmp:
            keep = Path(tempfile.mkdtemp(prefix="corpus-soak-kept-"))
            failures = soak(name, args.rounds, args.seed + offset, Path(tmp), keep, args.kill)
            if not failures:
                keep.rmdir()
        print(f"{name}: {args.rounds} rounds, {len(failures)} failed")
        failed += len(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
