"""Mutated generator sites (config files and posts) through ``publish init`` and ``check``.

test_sources_fuzz.py mutates posts under fixed rules; here the generator's own files are
mutated too (hugo.toml, _config.yml, mkdocs.yml and .authors.yml, docusaurus.config.js and
authors.yml, zola.toml, .eleventy.js and its data file, astro.config.mjs), since a pull
request can change them as easily as a post. Every run must end in an exit code with
messages: no traceback, no "bug in publisher". Seeded and bounded (a few seconds).

Run longer by hand: ``python tests/test_sites_fuzz.py --seed 77 --count 120``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "tests"))

from test_sources_fuzz import TEMPLATES, mutate  # noqa: E402

from publisher.cli import cli  # noqa: E402
from publisher.errors import PublisherError  # noqa: E402

#: generator -> (its files, the posts folder)
SITES: dict[str, tuple[dict[str, str], str]] = {
    "hugo": (
        {
            "hugo.toml": 'baseURL = "https://x.example/"\ntitle = "T"\n[permalinks]\n'
            'posts = "/:year/:month/:slug/"\n[languages.en]\ncontentDir = "content"\n'
        },
        "content/posts",
    ),
    "jekyll": (
        {
            "_config.yml": "url: https://x.example\nbaseurl: /blog\n"
            "permalink: /:categories/:year/:title/\n"
            "defaults:\n  - scope: {path: ''}\n    values: {layout: post}\n",
            "Gemfile": "",
        },
        "_posts",
    ),
    "mkdocs": (
        {
            "mkdocs.yml": "site_url: https://x.example/\nsite_name: S\nplugins:\n  - blog:\n"
            "      post_url_format: '{date}/{slug}'\n      authors_file: '{blog}/.authors.yml'\n",
            "docs/blog/.authors.yml": "authors:\n  ann:\n    name: Ann\n    url: https://a.example\n",
        },
        "docs/blog/posts",
    ),
    "docusaurus": (
        {
            "docusaurus.config.js": "module.exports = { url: 'https://x.example', baseUrl: '/', "
            "presets: [['classic', { blog: { routeBasePath: 'news', path: 'blog' } }]], "
            "trailingSlash: true };\n",
            "blog/authors.yml": "ann:\n  name: Ann\n  url: https://a.example\n",
        },
        "blog",
    ),
    "zola": (
        {"zola.toml": 'base_url = "https://x.example"\ntitle = "Z"\n[slugify]\npaths = "on"\n'},
        "content/blog",
    ),
    "eleventy": (
        {
            ".eleventy.js": "module.exports = function (c) { return { dir: { input: 'src' } } };\n",
            "src/posts/posts.json": '{"permalink": "/{{ page.fileSlug }}/", "tags": ["post"]}',
        },
        "src/posts",
    ),
    "astro": (
        {
            "astro.config.mjs": "export default defineConfig({ site: 'https://x.example', "
            "base: '/b', trailingSlash: 'always' });\n"
        },
        "src/content/blog",
    ),
}


def write_mutant(root: Path, generator: str, rng: random.Random) -> None:
    files, posts = SITES[generator]
    chosen = rng.choice(sorted(files))
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        path.write_bytes(mutate(data, rng) if name == chosen or rng.random() < 0.2 else data)
    for k in range(4):
        path = root / posts / f"2024-05-0{k + 1}-post-{k}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = rng.choice(TEMPLATES)
        path.write_bytes(mutate(raw, rng) if rng.random() < 0.6 else raw)


def failure(root: Path, args: list[str]) -> str | None:
    """Why running ``publish <args>`` in ``root`` broke the promise, or None."""
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(cli, args, catch_exceptions=True)
    finally:
        os.chdir(cwd)
    error = result.exception
    # ConfigError and the other PublisherErrors are turned into lines by cli.main().
    if error is not None and not isinstance(error, SystemExit | PublisherError):
        return f"{args}: {type(error).__name__}: {error}"
    if "Traceback" in result.output or "bug in publisher" in result.output:
        return f"{args}: {result.output[-800:]}"
    return None


def run_one(root: Path, generator: str, rng: random.Random) -> list[str]:
    write_mutant(root, generator, rng)
    found = []
    why = failure(root, ["init", "--site-url", "https://x.example"])
    if why:
        found.append(why)
    (root / "config.yaml").unlink(missing_ok=True)
    (root / "config.yaml").write_text(
        "site:\n  title: T\n  url: https://x.example\n"
        f"posts:\n  generator: {generator}\noutput:\n  folder: out\nstate:\n  folder: st\n"
        "feeds:\n  tags: true\n"
    )
    why = failure(root, ["check", "--json", "--jobs", "1"])
    if why:
        found.append(why)
    return found


@pytest.mark.parametrize("generator", sorted(SITES))
def test_mutated_generator_sites_never_crash(tmp_path: Path, generator: str) -> None:
    rng = random.Random(f"sites-{generator}")
    for index in range(10):
        found = run_one(tmp_path / str(index), generator, rng)
        assert not found, found


def main() -> None:  # pragma: no cover - a tool for people, run by hand
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=50, help="mutants per generator")
    parser.add_argument("--work", type=Path, default=Path("fuzz-sites"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bad = 0
    for generator in sorted(SITES):
        for index in range(args.count):
            root = args.work / f"{args.seed}-{generator}-{index}"
            for why in run_one(root, generator, rng):
                bad += 1
                print(f"{root}: {why}", flush=True)
    print(f"{bad} failures", flush=True)


if __name__ == "__main__":
    main()
