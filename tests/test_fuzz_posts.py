"""Seeded mutation fuzzing of real posts through the reader and `publish check/build --json`.

The example posts (and the corpus posts, when ``../shared/corpus`` is beside the checkout)
are mutated the ways hostile or careless contributors mutate them: bytes, lines, YAML tags
and aliases, Unicode, huge numbers, URLs, file names. Every mutant must give problems, never
a traceback, never the reader's "this is a bug" guard, and the CLI must print valid JSON.

The suite runs a few hundred mutants with a fixed seed. Run it much longer to hunt bugs:

    python tests/test_fuzz_posts.py --seed 7 --count 5000

which prints each failing mutant, minimised, ready to become a named regression test.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))

from publisher.cli import cli  # noqa: E402
from publisher.errors import Problem  # noqa: E402
from publisher.posts.reader import ReadContext, parse_post  # noqa: E402

EXAMPLES = REPO / "examples" / "blog" / "posts"
CORPUS = REPO.parent / "shared" / "corpus"
BUG = "could not be read:"

SITE_CONFIG = """\
site:
  title: Fuzz Blog
  url: https://blog.example.org
  timezone: Europe/Berlin
posts:
  folder: posts
output:
  folder: public
state:
  folder: state
feeds:
  tags: true
  categories: true
  featured: true
  popular: true
cards:
  remote:
    enabled: false
announce:
  enabled: false
"""


def seed_posts(with_corpus: bool, corpus: Path = CORPUS) -> list[Path]:
    """index.md files to mutate: the examples, then (optionally) the corpus, sorted."""
    seeds = sorted(EXAMPLES.glob("*/index.md"))
    if with_corpus and corpus.is_dir():
        found = corpus.glob("*/**/*.md*")
        seeds += sorted(p for p in found if p.is_file() and p.name != "README.md")
    return seeds


# --- mutators: each takes the post's text and returns a mutant ------------------------------

Mutator = Callable[[random.Random, str], str]

NASTY_VALUES = [
    "!!int 1\n C",
    "!!float n",
    "!!timestamp 2",
    "!!bool maybe",
    "!!binary x",
    "!!set {[1]: 2}",
    "!!omap [1]",
    "!!pairs {a: 1}",
    "!!python/object:os.system x",
    "!!str",
    "!!null x",
    "9" * 4_400,
    "-" + "1" * 5_000,
    "1e999",
    "-.inf",
    ".nan",
    "0x" + "f" * 300,
    "0o" + "7" * 300,
    "1_000_000",
    "[" * 50 + "]" * 50,
    "{a: [b, {c: d}]}",
    "&x [*x]",
    "*nowhere",
    "~",
    "''",
    '"\\0"',
    '"\\x00\\x01\\x1b"',
    '"\\uffff\\ufffe"',
    '"\\U0010FFFF"',
    '"\\u202eevil"',
    "|\n  multi\n  line",
    ">-\n  folded",
    "yes",
    "2024-13-45",
    "2024-01-01T25:61:61Z",
    "'99999-01-01'",
    "'0001-01-01T00:00:00-23:59'",
    "'Tue, 31 Feb 2024 10:00:00 XYZ'",
    "'" + "2024 " * 100 + "'",
    "[a, b, [c]]",
    "{}",
    "[]",
]

NASTY_URLS = [
    "https://[::1/x",
    "https://[::1]x/",
    "https://[zzz]/",
    "http://",
    "https://",
    "https:///path",
    "//host/path",
    "https://exa mple.org/a b",
    "https://xn--/",
    "https://ex%00ample.org/",
    "https://example.org:99999/",
    "https://example.org:-1/",
    "https://user:pass@example.org/",
    "javascript:alert(1)",
    "data:text/html,<script>x</script>",
    "file:///etc/passwd",
    "http://127.0.0.1:1/",
    "http://169.254.169.254/latest/meta-data/",
    "https://" + "a" * 300 + ".org/",
    "https://example.org/" + "%" * 50,
    "https://\u0635\u0648\u0631\u0629.example/\u00e9",
    "https://\ud7ff.example/",
    "https://example.org/\u202e",
    "hhttps://example.org/",
    "https://[::1]/",
]

NASTY_FILE_NAMES = [
    "../../../etc/passwd",
    "/etc/passwd",
    "a\\0b.png",
    "a" * 300 + ".png",
    ("d" * 200 + "/") * 30 + "x.png",
    "./",
    ".",
    "..",
    "~/x.png",
    "con.png",
    "x.png\\nother",
    "\u202egnp.exe",
    "*.png",
    "index.md",
    "",
]

NASTY_TEXT = [
    "\x00",
    "\x1b[31m",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\u200b" * 50,
    "\u202e",
    "e\u0301" * 20,
    "\U0001f600" * 10,
    "\ufffd",
    "<b " * 200,
    "<b {" * 100,
    "`" * 7,
    "{/*",
    "<script>alert(1)</script>",
    "<Component {...props} />",
    "import x from 'y'",
    "export const a = {",
    "]]>",
    "<![CDATA[",
    "&#0;&#xD800;&#x110000;",
    "[x](https://[::1/x)",
    '<img srcset="https://[::1/a 1x, , ,, b 2x">',
    '<a href="https://[::1/y">y</a>',
    "![](<>)",
    "Author: " + "[" * 300,
    "_Written by " + " " * 300 + "x_",
    "    " * 100 + "x",
    "> " * 200 + "x",
    "* " * 200 + "x",
    "|a|b|\n|-|-|\n" + "|x" * 200,
    "\\" * 100,
    "---",
    "...",
    "\r",
    "\r\n",
]

BYTE_JUNK = [b"\xff", b"\xfe\xff", b"\xed\xa0\x80", b"\xc0\xaf", b"\x00", b"\xef\xbb\xbf"]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _frontmatter_keys(text: str) -> list[int]:
    """Indexes of top-level 'key: value' lines inside the frontmatter."""
    lines = _lines(text)
    found: list[int] = []
    inside = False
    for index, line in enumerate(lines):
        if line.strip() == "---":
            if inside:
                break
            inside = True
            continue
        if inside and line[:1].isalpha() and ":" in line:
            found.append(index)
    return found


def _set_value(rng: random.Random, text: str, value: str, key: str | None = None) -> str:
    lines = _lines(text)
    keys = _frontmatter_keys(text)
    if key is not None:
        named = [i for i in keys if lines[i].split(":", 1)[0].strip() == key]
        if named:
            index = named[0]
        elif keys:
            lines.insert(keys[-1] + 1, f"{key}: x")
            index = keys[-1] + 1
        else:
            return text
    elif keys:
        index = rng.choice(keys)
    else:
        return text
    name = lines[index].split(":", 1)[0]
    lines[index] = f"{name}: {value}"
    return "\n".join(lines)


def m_nasty_value(rng: random.Random, text: str) -> str:
    return _set_value(rng, text, rng.choice(NASTY_VALUES))


def m_nasty_url(rng: random.Random, text: str) -> str:
    key = rng.choice(["ogImageUrl", "externalUrl", "path", "ogImage"])
    return _set_value(rng, text, json.dumps(rng.choice(NASTY_URLS)), key)


def m_nasty_file(rng: random.Random, text: str) -> str:
    return _set_value(rng, text, '"' + rng.choice(NASTY_FILE_NAMES) + '"', "ogImage")


#: Keys the reader and the later stages (cards, feeds) read.
FIELDS = [
    "date",
    "updated",
    "title",
    "tags",
    "categories",
    "authors",
    "author",
    "draft",
    "ogSummary",
    "description",
    "isFeatured",
    "isPopular",
    "ogLayout",
    "ogImageFocus",
]


def m_nasty_field(rng: random.Random, text: str) -> str:
    key = rng.choice(FIELDS)
    value = rng.choice([*NASTY_VALUES, json.dumps(rng.choice(NASTY_TEXT))])
    if key in ("tags", "categories") and rng.random() < 0.5:
        value = "[" + json.dumps("t" * rng.choice([200, 201, 255, 256, 1000])) + "]"
    return _set_value(rng, text, value, key)


def m_alias_bomb(rng: random.Random, text: str) -> str:
    levels = rng.randint(3, 9)
    names = "abcdefghij"
    bomb = ["a: &a [x,x,x,x,x,x,x,x,x,x]"]
    for previous, name in itertools.pairwise(names[:levels]):
        item = f"? *{previous}" if rng.random() < 0.5 else f"*{previous}"
        wrap = "{%s}" if item.startswith("?") else "[%s]"
        bomb.append(f"{name}: &{name} " + wrap % ",".join([item] * 10))
    lines = _lines(text)
    keys = _frontmatter_keys(text)
    at = keys[-1] + 1 if keys else 1
    return "\n".join(lines[:at] + bomb + lines[at:])


def m_insert_text(rng: random.Random, text: str) -> str:
    junk = rng.choice(NASTY_TEXT) * rng.choice([1, 1, 3, 50])
    at = rng.randrange(len(text) + 1)
    return text[:at] + junk + text[at:]


def m_line_ops(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    if len(lines) < 2:
        return text
    op = rng.randrange(4)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(i, lines[j])
    elif op == 2:
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines[i] = lines[i] * rng.choice([2, 50, 500])
    return "\n".join(lines)


def m_indent(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines[i] = rng.choice([" ", "\t", "  - ", "? ", ": ", "- "]) + lines[i]
    return "\n".join(lines)


def m_truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text) + 1)]


TEXT_MUTATORS: list[Mutator] = [
    m_nasty_value,
    m_nasty_url,
    m_nasty_file,
    m_nasty_field,
    m_alias_bomb,
    m_insert_text,
    m_insert_text,
    m_line_ops,
    m_indent,
    m_truncate,
]


def mutate_bytes(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(3)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[at:at] = rng.choice(BYTE_JUNK)
        else:
            del data[at : at + rng.randint(1, 16)]
    return bytes(data)


_URL_LINE = re.compile(r"^(path|externalUrl):[ \t]*(['\"]?)(.*?)[ \t]*\2[ \t]*$", re.MULTILINE)


def _own_urls(text: str, name: str) -> str:
    """Give a mutant its own path and external URL: mutants of one post would otherwise
    all be skipped but the first, as duplicates, before the later stages see them."""
    return _URL_LINE.sub(lambda m: f"{m[1]}: '{m[3].strip().rstrip('/')}/{name}/'", text)


def mutate(rng: random.Random, raw: bytes, name: str = "m", extra: int = 0) -> bytes:
    """One mutant of ``raw``: a few text mutations, sometimes byte damage on top."""
    text = _own_urls(raw.decode("utf-8", "replace"), name)
    for _ in range(rng.choice([1, 1, 1, 1, 2, 3]) + extra):
        text = rng.choice(TEXT_MUTATORS)(rng, text)
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.1:
        data = mutate_bytes(rng, data)
    return data


def mutants(
    seed: int, count: int, with_corpus: bool, corpus: Path = CORPUS, extra: int = 0
) -> Iterator[tuple[str, Path, bytes]]:
    """(name, the seed post, mutant bytes), the same ones for the same seed and count."""
    rng = random.Random(seed)
    seeds = seed_posts(with_corpus, corpus)
    sources = {path: path.read_bytes() for path in seeds}
    for n in range(count):
        source = rng.choice(seeds)
        name = f"m{seed}-{n:05}"
        yield name, source, mutate(rng, sources[source], name, extra)


# --- running mutants --------------------------------------------------------------------------

CONTEXT = ReadContext(
    site_url="https://blog.example.org",
    timezone="Europe/Berlin",
    summary_keys=("ogSummary", "description"),
    default_path="/blog/{id}/",
    default_author="Fuzz",
)


def reader_failure(name: str, raw: bytes, ctx: ReadContext = CONTEXT) -> str | None:
    """Why the reader mishandled this mutant, or None."""
    try:
        record, problems = parse_post(raw, name, f"posts/{name}/index.md", ctx)
    except Exception:
        return traceback.format_exc()
    for problem in problems:
        if not isinstance(problem, Problem) or BUG in problem.message:
            return str(problem)
        str(problem).encode("utf-8")  # every message must be printable
    if record is None and not any(p.severity == "error" for p in problems):
        return "skipped without an error"
    return None


def damage_image(rng: random.Random, data: bytes) -> bytes:
    """An image as a careless or hostile contributor might commit it."""
    choice = rng.randrange(5)
    if choice == 0:
        return data[: rng.randrange(len(data) + 1)]
    if choice == 1 and data:
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        return bytes(damaged)
    if choice == 2:  # a PNG header claiming 100,000 x 100,000 pixels
        return (
            bytes.fromhex("89504e470d0a1a0a0000000d49484452000186a0000186a00806000000") + data[29:]
        )
    if choice == 3:
        return b""
    return b"<svg xmlns='http://www.w3.org/2000/svg'/>"


def write_site(root: Path, posts: list[tuple[str, Path, bytes]]) -> None:
    (root / "posts").mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(SITE_CONFIG, encoding="utf-8")
    for name, source, raw in posts:
        folder = root / "posts" / name
        folder.mkdir()
        (folder / "index.md").write_bytes(raw)
        rng = random.Random(name)
        siblings = sorted(source.parent.iterdir()) if source.parent.is_dir() else []
        for sibling in siblings:  # the post's images, so cards get drawn
            if sibling.name == source.name or not sibling.is_file():
                continue
            if sibling.stat().st_size > 300_000:
                continue
            data = sibling.read_bytes()
            if rng.random() < 0.15:
                data = damage_image(rng, data)
            (folder / sibling.name).write_bytes(data)


def cli_failure(root: Path, command: str) -> str | None:
    """Why ``publish <command> --json`` mishandled the site, or None."""
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(root / "config.yaml"), command, "--json"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        return "".join(traceback.format_exception(*result.exc_info))
    if result.exit_code not in (0, 3, 5):
        return f"exit {result.exit_code}: {result.output[-2000:]}"
    if "Traceback" in result.output:
        return result.output[-2000:]
    try:
        report = json.loads(result.stdout)
    except ValueError as exc:
        return f"--json printed no JSON ({exc}): {result.stdout[:500]}"
    bugs = [p for p in report["problems"] if BUG in p["message"]]
    return json.dumps(bugs) if bugs else None


# --- the suite's bounded run ------------------------------------------------------------------

SEED = 20261130
READER_MUTANTS = 1500
CLI_MUTANTS = 200


def test_reader_survives_mutants() -> None:
    failures = []
    for name, _, raw in mutants(SEED, READER_MUTANTS, with_corpus=True):
        why = reader_failure(name, raw)
        if why is not None:
            failures.append(f"{name}: {raw[:300]!r}\n{why}")
    assert not failures, "\n\n".join(failures[:5])


def test_the_harness_sees_a_reader_bug() -> None:
    """The guard turns a bug into a problem; the fuzz must still count it as a failure."""
    broken = ReadContext(**{**CONTEXT.__dict__, "timezone": "Nowhere/Atlantis"})
    raw = b"---\ntitle: T\ndate: 2024-01-02\n---\n"
    assert reader_failure("ok", raw) is None
    assert "could not be read: ZoneInfoNotFoundError" in (reader_failure("x", raw, broken) or "")


@pytest.mark.parametrize("command", ["check", "build"])
def test_cli_survives_mutants(tmp_path: Path, command: str) -> None:
    posts = list(mutants(SEED + 1, CLI_MUTANTS, with_corpus=False))
    write_site(tmp_path, posts)
    why = cli_failure(tmp_path, command)
    assert why is None, why


# --- long local runs --------------------------------------------------------------------------


def main() -> None:  # pragma: no cover - a tool for people, run by hand
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=200, help="mutants per CLI site")
    parser.add_argument("--no-cli", action="store_true")
    parser.add_argument("--work", type=Path, default=Path("fuzz-work"))
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of sample blogs")
    parser.add_argument("--extra", type=int, default=0, help="more mutations per mutant")
    args = parser.parse_args()
    every = list(mutants(args.seed, args.count, True, args.corpus, args.extra))
    print(f"{len(seed_posts(True, args.corpus))} posts to mutate", flush=True)
    bad = 0
    for name, _, raw in every:
        why = reader_failure(name, raw)
        if why is not None:
            bad += 1
            print(f"READER {name}: {raw[:400]!r}\n{why}\n", flush=True)
    print(f"reader: {bad} of {len(every)} mutants failed", flush=True)
    if args.no_cli:
        return
    for start in range(0, len(every), args.batch):
        for command in ("check", "build"):
            batch = every[start : start + args.batch]
            # Each failing post is found and taken out, until the rest of the batch passes.
            while batch:
                root = args.work / f"{args.seed}-{start}-{command}"
                shutil.rmtree(root, ignore_errors=True)
                write_site(root, batch)
                why = cli_failure(root, command)
                if why is None:
                    break
                culprit = _culprit(args.work, batch, command)
                if culprit is None:
                    print(f"CLI {command} batch {start}: only together:\n{why[-1500:]}\n")
                    break
                post, single = culprit
                print(f"CLI {command} {post[0]}: {post[2][:600]!r}\n{single[-1500:]}\n", flush=True)
                batch = [p for p in batch if p is not post]
    print("done", flush=True)


def _culprit(
    work: Path, batch: list[tuple[str, Path, bytes]], command: str
) -> tuple[tuple[str, Path, bytes], str] | None:  # pragma: no cover - part of main
    """The first post of ``batch`` that fails on its own, and why."""
    for post in batch:
        one = work / f"{post[0]}-{command}"
        shutil.rmtree(one, ignore_errors=True)
        write_site(one, [post])
        single = cli_failure(one, command)
        shutil.rmtree(one, ignore_errors=True)
        if single is not None:
            return post, single
    return None


if __name__ == "__main__":
    main()


# --- minimised reproducers found by the long runs ---------------------------------------------
#
# Each was one mutant among thousands; kept here as a post a person can read. Those that
# failed outside the reader are checked through the CLI.

CRASHES_OUTSIDE_POSTS = [
    pytest.param(
        "check",
        # feeds/lint.py: urlsplit raised ValueError('Invalid IPv6 URL') on HTML in the
        # summary (seed 1, mutant m1-00470)
        "title: A\ndate: 2024-01-02\nogSummary: '<a href=\"https://[::1/y\">'",
        id="summary-html-with-bad-ipv6-href",
    ),
]


@pytest.mark.parametrize(("command", "meta"), CRASHES_OUTSIDE_POSTS)
def test_reproducer_outside_posts(tmp_path: Path, command: str, meta: str) -> None:
    good = (EXAMPLES / "2025-10-07-ebpf-day-talk" / "index.md").read_bytes()
    bad = f"---\n{meta}\n---\nbody\n".encode()
    write_site(
        tmp_path,
        [("good", EXAMPLES / "x" / "index.md", good), ("bad", EXAMPLES / "x" / "index.md", bad)],
    )
    assert cli_failure(tmp_path, command) is None
