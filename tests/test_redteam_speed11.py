"""Red team for issue 12's sixth session: plain frontmatter resolved without PyYAML's
resolver must read every plain scalar as PyYAML's ``CSafeLoader`` reads it.

YAML 1.1 as PyYAML implements it resolves a plain scalar by regular expressions chosen by
its first character: booleans in 22 spellings (not ``yEs``), nulls (``~``, ``null`` in
three spellings, nothing), ints (``0x``, ``0b``, a leading ``0`` for octal, ``_``
anywhere after the first digit, sexagesimal ``1:30``), floats (a ``.`` required, an
exponent only with its sign, ``.inf``/``.nan`` in three spellings, sexagesimal),
timestamps (text here: the loader drops that resolver), ``<<`` and ``=`` (no constructor:
an error). Its ``[0-9]`` is ASCII only, where ``str.isdigit`` and ``int()`` take any
Unicode digit; its ``$`` also matches before a final line break. Each scalar below is
drawn from those rules and their near misses, and read as a value, a list item (in a
one-line list and in ``- item`` lines) and a key, by ``frontmatter.parse`` with the
shortcut and without it (the loader's general path): the same mapping (types and reprs:
``True`` is not ``1``), the same warnings, the same error line. And both against
PyYAML's ``CSafeLoader`` itself, with the timestamp resolver dropped as the reader drops
it.
"""

from __future__ import annotations

import math
import os
import random
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import tree_bytes
from publisher.errors import PostError
from publisher.posts import frontmatter, plainyaml
from publisher.posts.limits import Limits

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Reference(yaml.CSafeLoader):  # type: ignore[misc,name-defined]
    """PyYAML's libyaml loader as the reader configures it: timestamps stay text."""


_Reference.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

#: Unicode digits ``int()`` and ``str.isdigit`` take and YAML's ``[0-9]`` does not:
#: Arabic-Indic, fullwidth, Devanagari, superscript two, a circled one, Roman numeral one.
ODD_DIGITS = "\u0661\u0662\uff11\uff10\u0967\u00b2\u2460\u2170"


def _cased(rng: random.Random, word: str) -> str:
    """``word`` as written (lower, Title, UPPER) or with random case per letter."""
    kind = rng.randrange(4)
    if kind == 0:
        return word.lower()
    if kind == 1:
        return word.title()
    if kind == 2:
        return word.upper()
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in word)


def _digits(rng: random.Random, alphabet: str, most: int = 6) -> str:
    pool = alphabet + "_" * 2 + (ODD_DIGITS if rng.random() < 0.05 else "")
    return "".join(rng.choice(pool) for _ in range(rng.randint(0, most)))


def _sign(rng: random.Random) -> str:
    return rng.choice(("", "", "", "-", "+", "--", "+-"))


def _int(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return _sign(rng) + rng.choice(("0b", "0B", "0b_")) + _digits(rng, "01", 8)
    if kind == 1:
        return (
            _sign(rng) + rng.choice(("0x", "0X", "0x_")) + _digits(rng, "0123456789abcdefABCDEFg")
        )
    if kind == 2:
        return _sign(rng) + rng.choice(("0", "0o", "00", "0_")) + _digits(rng, "012345678")
    if kind == 3:
        parts = [rng.choice("123456789") + _digits(rng, "0123456789", 3)]
        parts += [_digits(rng, "0123456789", 2) for _ in range(rng.randint(1, 3))]
        return _sign(rng) + ":".join(parts)
    if kind == 4:
        return _sign(rng) + rng.choice("0123456789") + _digits(rng, "0123456789")
    return _sign(rng) + "9" * rng.choice((20, 4299, 4301))  # past int()'s digit limit


def _float(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return _sign(rng) + rng.choice(("", ".")) + _cased(rng, rng.choice(("inf", "nan", "in")))
    exponent = ""
    if rng.random() < 0.4:
        exponent = rng.choice("eE") + rng.choice(("", "+", "-", "_")) + _digits(rng, "0123", 3)
    if kind == 1:
        return _sign(rng) + "." + _digits(rng, "0123456789") + exponent
    if kind == 2:
        head = rng.choice(("", "0", "1", "_", "1_")) + _digits(rng, "0123456789", 3)
        return _sign(rng) + head + "." + _digits(rng, "0123456789", 3) + exponent
    if kind == 3:
        minutes = ":".join(_digits(rng, "0123456789", 2) for _ in range(rng.randint(1, 2)))
        return (
            _sign(rng)
            + "1"
            + _digits(rng, "0123456789", 2)
            + ":"
            + minutes
            + "."
            + _digits(rng, "05")
        )
    return _sign(rng) + _digits(rng, "0123456789", 4) + exponent


def _word(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:  # booleans: the 22 spellings, their near misses
        return _cased(
            rng,
            rng.choice(
                ("yes", "no", "true", "false", "on", "off", "y", "n", "ye", "tru", "nope", "onn")
            ),
        )
    if kind == 1:  # nulls
        return rng.choice(("~", "~~", "null", "Null", "NULL", "nULL", "nul", "None", "none", "~x"))
    if kind in (2, 3):
        return _int(rng)
    if kind in (4, 5):
        return _float(rng)
    if kind == 6:  # timestamps: text for this reader
        date = f"{rng.randint(1, 2099):04d}-{rng.randint(1, 13)}-{rng.randint(1, 32):02d}"
        if rng.random() < 0.5:
            date += (
                rng.choice(("T", "t", " ", "  "))
                + f"{rng.randint(0, 25)}:{rng.randint(0, 61):02d}:07"
            )
            date += rng.choice(("", ".5", "Z", " +1", "-05:30", " Z"))
        return date
    if kind == 7:
        return rng.choice(
            (
                "<<",
                "=",
                "<<<",
                "==",
                "<",
                "=x",
                "<<x",
                "<< ",
                ".",
                "._",
                "-.",
                "+",
                "-",
                "_",
                "0_",
                "._1",
            )
        )
    return rng.choice(
        (
            "hello",
            "1.2.3",
            "1,000",
            "1 000",
            "v1.0",
            "3rd",
            "0x",
            "1e3",
            "10%",
            "\u0661\u0662",
            "\uff11\uff12",
        )
    )


def _scalar(rng: random.Random) -> str:
    word = _word(rng).strip(" ")
    return word or "x"


def _canonical(value: Any) -> Any:
    """``value`` with its types kept (``True`` is not ``1``, ``1.0`` is not ``1``, every
    NaN the same)."""
    if isinstance(value, dict):
        return ("dict", [(_canonical(k), _canonical(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_canonical(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, repr(value))


def _parsed(text: str) -> Any:
    try:
        mapping, warnings = frontmatter.parse(text, "post.md", 2, Limits())
    except PostError as exc:
        return ("error", exc.problem)
    return _canonical(mapping), warnings


def _reference(text: str) -> Any:
    """What PyYAML's CSafeLoader makes of ``text`` (``error`` when it refuses it)."""
    try:
        data = yaml.load(text, Loader=_Reference)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, OverflowError):
        return "error"
    if not isinstance(data, dict):
        return "error"
    try:
        return _canonical({str(k): v for k, v in data.items()})  # the reader's top keys
    except ValueError:  # str() of an int past the digit limit
        return "error"


def _documents(rng: random.Random, word: str) -> list[str]:
    other = _scalar(rng)
    return [
        f"k: {word}",
        f"k: [{word}, {other}]",
        f"k:\n  - {word}\n  - {other}",
        f"{word}: x",
        f"title: t\nk: {word}\nn: {other}",
    ]


def _general(monkeypatch: pytest.MonkeyPatch, text: str) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(plainyaml, "read", lambda *args, **kwargs: None)
        return _parsed(text)


@pytest.mark.parametrize("seed", range(3))
def test_plain_scalars_read_as_pyyaml_reads_them(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    answered = 0
    read = plainyaml.read

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal answered
        found = read(*args, **kwargs)
        answered += found is not None
        return found

    for _ in range(1200):
        word = _scalar(rng)
        for text in _documents(rng, word):
            monkeypatch.setattr(plainyaml, "read", counted)
            fast = _parsed(text)
            monkeypatch.setattr(plainyaml, "read", read)
            assert fast == _general(monkeypatch, text), repr(text)
            if fast[0] != "error":
                assert fast[0] == _reference(text), repr(text)
            else:
                assert _reference(text) == "error" or "Duplicate" in str(fast), repr(text)
    assert answered >= 2000  # the shortcut answered most of them, or this tests nothing


# Cold builds cut short (the sixth session moves work into the read, commits to threads
# and forks the pool earlier): killed or interrupted at a moment drawn from a seed, with
# one or two jobs, as a dry run, with posts that fail, with cards on. The next build must
# exit as a cold build of the same site does, with its output folder, no traceback, no
# temporary file in the output or state folder, and no process of the killed build left.

#: Posts of the kill sites: the parallel read starts at 200 files to parse.
KILL_POSTS = 300
#: Kills a variant (each: a killed build, then the build that must put it right).
KILL_ROUNDS = 3
#: Frontmatter no reader accepts: each such post is an error, the rest are built.
BROKEN = b"---\ntitle: [unclosed\ndate: 2024-01-01\n---\nBody.\n"


@pytest.fixture(scope="module")
def kill_sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Bench sites (files a minute old): plain, with three broken posts, and a small one
    with cards on."""
    from build_process import aged_bench_site, bench_naive

    base = tmp_path_factory.mktemp("kills")
    plain = aged_bench_site(base / "plain", KILL_POSTS)
    broken = base / "broken"
    shutil.copytree(plain, broken)
    for n in (3, 150, 299):
        (broken / "posts" / f"post-{n:05d}" / "index.md").write_bytes(BROKEN)
    cards = base / "cards"
    cards.mkdir()
    bench_naive.write_site(cards, 12)
    config = (cards / "config.yaml").read_text(encoding="utf-8")
    (cards / "config.yaml").write_text(
        config.replace("cards: {enabled: false}", "cards: {enabled: true}"), encoding="utf-8"
    )
    return {"plain": plain, "broken": broken, "cards": cards}


def _cold_run(site: Path, where: Path) -> tuple[int, dict[str, bytes]]:
    from build_process import publish_build

    shutil.copytree(site, where)
    ran = publish_build(where)
    assert "Traceback" not in ran.stderr, ran.stderr
    return ran.returncode, tree_bytes(where / "public")


def _leftovers(root: Path) -> list[str]:
    """Temporary files in the output and state folders (a hot SQLite journal is the next
    build's to roll back: tests/test_redteam_speed8.py)."""
    return sorted(
        p.name
        for folder in (root / "public", root / ".publisher")
        if folder.is_dir()
        for p in folder.rglob("*")
        if p.name.endswith((".tmp", "-wal", "-shm")) or p.name.startswith(".")
    )


KILLS = [
    ("plain", ("--jobs", "1"), "group"),
    ("plain", ("--jobs", "2"), "int"),
    ("plain", (), "main"),
    ("plain", ("--dry-run",), "group"),
    ("broken", (), "worker"),
    ("broken", (), "int"),
    ("cards", (), "int"),
]


@pytest.mark.skipif(sys.platform != "linux", reason="signals and /proc")
@pytest.mark.parametrize(
    ("site", "args", "how"), KILLS, ids=["-".join([s, *a, h]) for s, a, h in KILLS]
)
def test_a_cold_build_cut_short_is_put_right(
    kill_sites: dict[str, Path], tmp_path: Path, site: str, args: tuple[str, ...], how: str
) -> None:
    from build_process import interrupted_starting, killed_build, publish_build

    expected_code, expected = _cold_run(kill_sites[site], tmp_path / "cold")
    root = tmp_path / "site"
    shutil.copytree(kill_sites[site], root)
    rng = random.Random(f"{site}/{args}/{how}")
    # A worker killed leaves each post not read yet to a process of its own (by design:
    # only the post that kills its process is lost), 25 ms a post: one round there.
    for round_ in range(1 if how == "worker" else 2 if site == "cards" else KILL_ROUNDS):
        shutil.rmtree(root / "public", ignore_errors=True)
        shutil.rmtree(root / ".publisher", ignore_errors=True)
        delay = rng.uniform(0.02, 0.4 if how == "worker" else 1.2)
        what = f"{site} {args} {how} round {round_} at {delay:.2f} s"
        code, stderr = killed_build(root, delay, how, args=args, timeout=90)
        # A Ctrl-C that lands while the interpreter itself is starting (a loaded machine:
        # before any of publisher's code, so before its handler) is CPython's to report.
        early = how == "int" and interrupted_starting(code, stderr)
        assert early or "Traceback" not in stderr, (what, stderr)
        if how == "int" and code != expected_code and not early:  # interrupted, not done
            assert code == 130 and stderr.strip().splitlines()[-1] == "aborted", (what, stderr)
        if "--dry-run" in args:  # a dry run writes nothing, killed or not
            assert not (root / "public").exists() and not (root / ".publisher").exists(), what
        ran = publish_build(root)
        assert "Traceback" not in ran.stderr, (what, ran.stderr)
        assert ran.returncode == expected_code, (what, ran.stderr)
        assert _leftovers(root) == [], what
        got = tree_bytes(root / "public")
        assert [p for p in sorted({*got, *expected}) if got.get(p) != expected.get(p)] == [], what


@pytest.mark.parametrize("seed", range(2))
def test_posts_of_odd_plain_scalars_build_the_same_bytes_both_ways(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whole posts: every field a post reads (title, date, tags, draft, description, the
    # og image, an author) written as a random plain scalar, built once with the shortcut
    # and once with every frontmatter through PyYAML: the same files, the same lines.
    from cli_run import publish

    from conftest import FEEDS_CONFIG

    rng = random.Random(seed)
    fields = ("title", "description", "draft", "featured", "author", "summary", "weight")
    roots = [tmp_path / "fast", tmp_path / "general"]
    for root in roots:
        (root / "posts").mkdir(parents=True)
        (root / "config.yaml").write_text(FEEDS_CONFIG, encoding="utf-8")
    for n in range(40):
        lines = [f"title: {_scalar(rng)}", f"date: 2024-0{1 + n % 9}-1{n % 10}"]
        lines += [f"{key}: {_scalar(rng)}" for key in rng.sample(fields, 3)]
        lines.append(f"tags: [{_scalar(rng)}, {_scalar(rng)}]")
        if rng.random() < 0.3:
            lines.append(f"date: {_scalar(rng)}")  # a repeated key, and an odd date
        text = "---\n" + "\n".join(lines) + "\n---\nBody.\n"
        for root in roots:
            (root / "posts" / f"p{n:02d}").mkdir()
            (root / "posts" / f"p{n:02d}" / "index.md").write_text(text, encoding="utf-8")
    now = "--now=2025-06-01T00:00:00Z"
    fast = publish("build", now, "--jobs", "1", cwd=roots[0])
    with monkeypatch.context() as patched:
        patched.setattr(plainyaml, "read", lambda *args, **kwargs: None)
        general = publish("build", now, "--jobs", "1", cwd=roots[1])
    assert "Traceback" not in fast.stderr + general.stderr
    timed = re.compile(r" in \d+\.\d+ s")  # "read 40 posts in 0.05 s"
    assert fast.returncode == general.returncode
    assert timed.sub("", fast.stderr) == timed.sub("", general.stderr)
    assert tree_bytes(roots[0] / "public") == tree_bytes(roots[1] / "public")
    assert fast.stderr.count("error:") < 40  # some posts were built


#: Rounds of posts edited while a build runs.
EDIT_ROUNDS = 4


def _edited(root: Path, rng: random.Random, tag: str) -> None:
    """A post's title changed in place: as long as before or not, its mtime put back or
    not (its ctime moves either way)."""
    path = root / "posts" / f"post-{rng.randrange(KILL_POSTS):05d}" / "index.md"
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    if rng.random() < 0.5:
        text = text.replace("title: ", "title: " + "XYZ"[rng.randrange(3)], 1)[:-1]  # as long
    else:
        text = text.replace("title: ", f"title: {tag} ", 1)
    path.write_text(text, encoding="utf-8")
    if rng.random() < 0.3:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # touch -r


@pytest.mark.skipif(sys.platform != "linux", reason="a bench site's process builds")
@pytest.mark.parametrize("kind", ["cold", "edit"])
def test_posts_edited_while_a_build_runs_are_built_by_the_next(
    kill_sites: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    # The stat pass, the read (a cold read's workers now read and hash their own files)
    # and the record each see a post at another moment: an edit between them must never
    # leave the next build thinking it has that post's new bytes when it has the old.
    from build_process import cold_output, publish_build, started_build

    root = tmp_path / "site"
    shutil.copytree(kill_sites["plain"], root)
    rng = random.Random(kind)
    if kind == "edit":
        assert publish_build(root).returncode == 0
    for round_ in range(EDIT_ROUNDS):
        if kind == "cold":
            shutil.rmtree(root / "public", ignore_errors=True)
            shutil.rmtree(root / ".publisher", ignore_errors=True)
        else:
            _edited(root, rng, f"R{round_}")
        build = started_build(root)
        time.sleep(rng.uniform(0.0, 0.9 if kind == "cold" else 0.25))
        for n in range(rng.randint(1, 3)):
            _edited(root, rng, f"D{round_}.{n}")
        _, stderr = build.communicate(timeout=120)
        what = f"{kind} round {round_}"
        assert build.returncode == 0 and "Traceback" not in stderr, (what, stderr)
        if round_ % 2:
            time.sleep(2.1)  # the edited files judged by their stat, not their bytes
        ran = publish_build(root)
        assert ran.returncode == 0 and "Traceback" not in ran.stderr, (what, ran.stderr)
        got = tree_bytes(root / "public")
        expected = cold_output(root, tmp_path / "cold")
        assert [p for p in sorted({*got, *expected}) if got.get(p) != expected.get(p)] == [], what
