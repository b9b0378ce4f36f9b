"""Hostile posts (issue 11): one untrusted post costs only itself.

Each post here once crashed, stalled or escaped the run. Now each gives one clear problem
for that post while the other posts are still read and published.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import publisher.posts.collect
from conftest import BASE_CONFIG, Site
from publisher.cli import cli
from publisher.config import load_config
from publisher.errors import Problem
from publisher.posts import ReadResult, body, fields, frontmatter, read_posts
from publisher.posts.cache import PostCache
from publisher.posts.limits import Limits
from publisher.posts.reader import ReadContext, parse_post

GOOD = ("good", "title: Good\ndate: 2024-01-02")


def read(site: Site, **kwargs: Any) -> ReadResult:
    return read_posts(load_config(site.config_path), **kwargs)


def problems_of(result: ReadResult, post_id: str) -> list[Problem]:
    return [p for p in result.problems if p.file == f"posts/{post_id}/index.md"]


def context(**limits: int) -> ReadContext:
    return ReadContext(
        site_url="https://blog.example.org",
        timezone="UTC",
        summary_keys=("description",),
        default_path="/{id}/",
        default_author=None,
        limits=Limits(**limits),
    )


def parse(text: str, **limits: int) -> tuple[dict[str, Any] | None, list[Problem]]:
    return parse_post(text.encode("utf-8"), "p", "posts/p/index.md", context(**limits))


# --- measured by the issue's author: one post crashed the whole run --------------------------

BIG_INT = "9" * 4_301
LONG_NAME = "a" * 256 + ".png"
BAD_IPV6 = "https://[::1/x"

#: (post id, frontmatter, body, severity, field, words of the message)
CRASHERS: list[tuple[str, str, str, str, str | None, str]] = [
    ("nul-og-image", 'title: T\ndate: 2024-01-02\nogImage: "a\\0b.png"', "", "error",
     "ogImage", "contains a control character"),
    ("huge-integer", f"title: T\ndate: 2024-01-02\nviews: {BIG_INT}", "", "error",
     "frontmatter", "cannot be read as !!int"),
    ("tag-int", "title: T\ndate: 2024-01-02\ns: !!int 1\n C", "", "error",
     "frontmatter", "'1 C' cannot be read as !!int"),
    ("tag-float", "title: T\ndate: 2024-01-02\ns: !!float n", "", "error",
     "frontmatter", "'n' cannot be read as !!float"),
    ("tag-timestamp", "title: T\ndate: 2024-01-02\ns: !!timestamp 2", "", "error",
     "frontmatter", "'2' cannot be read as !!timestamp"),
    ("tag-bool", "title: T\ndate: 2024-01-02\ns: !!bool maybe", "", "error",
     "frontmatter", "'maybe' cannot be read as !!bool"),
    ("ipv6-og-image-url", f"title: T\ndate: 2024-01-02\nogImageUrl: '{BAD_IPV6}'", "",
     "warning", "ogImageUrl", "is not a valid URL (Invalid IPv6 URL); ignored"),
    ("ipv6-og-image", f"title: T\ndate: 2024-01-02\nogImage: '{BAD_IPV6}'", "",
     "warning", "ogImageUrl", "is not a valid URL"),
    ("ipv6-external-url", f"title: T\ndate: 2024-01-02\nexternalUrl: '{BAD_IPV6}'", "",
     "warning", "externalUrl", "is not a valid URL"),
    # Found by the fuzzer (tests/test_fuzz_posts.py, seed 1) in the reader before the fix:
    ("bracketed-host-not-an-ip", "title: T\ndate: 2024-01-02\nexternalUrl: 'https://[zzz]/'",
     "", "warning", "externalUrl", "does not appear to be an IPv4 or IPv6 address"),
    ("ipv6-href", "title: T\ndate: 2024-01-02", f'<a href="{BAD_IPV6}">x</a>\n',
     "warning", "body", f"'{BAD_IPV6}' is not a valid URL; removed"),
    ("ipv6-src", "title: T\ndate: 2024-01-02", f'<img src="{BAD_IPV6}">\n',
     "warning", "body", "is not a valid URL"),
    ("ipv6-srcset", "title: T\ndate: 2024-01-02", f'<img srcset="{BAD_IPV6} 2x">\n',
     "warning", "body", "is not a valid URL"),
    ("long-og-image", f"title: T\ndate: 2024-01-02\nogImage: {LONG_NAME}", "", "error",
     "ogImage", "is 260 bytes; file systems allow 255 for one name"),
    ("hidden-og-image", "title: T\ndate: 2024-01-02\nogImage: ../../.env", "", "error",
     "ogImage", "'../../.env' names a hidden file or folder"),
    ("long-tag", f"title: T\ndate: 2024-01-02\ntags: [ok, {'t' * 300}]", "", "warning",
     "tags", "is 300 bytes long; the limit is 200"),
    ("long-category", f"title: T\ndate: 2024-01-02\ncategories: [{'c' * 256}]", "", "warning",
     "categories", "is 256 bytes long"),
    ("year-1", "title: T\ndate: '0001-01-01'", "", "error", "date",
     "is in the year 1; dates from 1970 to 8999 are read"),
    ("year-9999", "title: T\ndate: '9999-12-31T23:59:59-12:00'", "", "error", "date",
     "is in the year 9999"),
    ("updated-year-1", "title: T\ndate: 2024-01-02\nupdated: '0001-01-01'", "", "warning",
     "updated", "is in the year 1; dates from 1970 to 8999 are read; ignored"),
    ("long-date", f"title: T\ndate: '2024 {'x' * 300}'", "", "error", "date",
     "too long to be a date"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("post_id", "meta", "text", "severity", "field", "words"),
    CRASHERS,
    ids=[c[0] for c in CRASHERS],
)
def test_a_crasher_is_one_problem_and_the_others_are_published(
    site: Site, post_id: str, meta: str, text: str, severity: str, field: str | None, words: str
) -> None:
    site.post(*GOOD)
    site.post(post_id, meta, text)
    result = read(site)
    (problem,) = problems_of(result, post_id)
    assert (problem.severity, problem.field) == (severity, field)
    assert words in problem.message
    assert problem.fix
    published = {p.id for p in result.posts}
    assert "good" in published
    assert (post_id in published) == (severity == "warning")


def test_a_long_tag_is_dropped_and_the_rest_kept(site: Site) -> None:
    site.post("p", f"title: T\ndate: 2024-01-02\ntags: [ok, {'é' * 150}]")
    (post,) = read(site).posts
    assert post.tags == ("ok",)


def test_only_the_first_fifty_tags_are_used(site: Site) -> None:
    tags = ", ".join(f"t{n}" for n in range(1_500))
    site.post("p", f"title: T\ndate: 2024-01-02\ntags: [{tags}]\ncategories: [a, b, a]")
    result = read(site)
    (problem,) = result.problems
    assert (problem.field, problem.severity) == ("tags", "warning")
    assert problem.message.startswith("lists 1,500 values; only the first 50 are used")
    assert result.posts[0].tags == tuple(f"t{n}" for n in range(50))
    assert result.posts[0].categories == ("a", "b")


def test_a_tag_just_under_the_limit_is_kept(site: Site) -> None:
    site.post("p", f"title: T\ndate: 2024-01-02\ntags: [{'t' * 200}]")
    result = read(site)
    assert result.problems == ()
    assert result.posts[0].tags == ("t" * 200,)


def test_a_folder_name_that_is_not_utf8_is_reported(site: Site) -> None:
    site.post(*GOOD)
    folder = Path(os.fsdecode(bytes(site.posts) + b"/bad\xffname"))
    folder.mkdir()
    (folder / "index.md").write_text("---\ntitle: N\ndate: 2024-01-02\n---\n", encoding="utf-8")
    result = read(site)
    (problem,) = result.problems
    assert problem.file == "posts/bad\\xffname/index.md"
    assert "not valid UTF-8" in problem.message
    assert [p.id for p in result.posts] == ["good"]
    json.dumps(problem.as_dict(), ensure_ascii=False).encode("utf-8")  # printable


def test_an_og_image_listing_with_a_non_utf8_name_is_printable(site: Site) -> None:
    site.post("p", "title: T\ndate: 2024-01-02\nogImage: missing.png")
    Path(os.fsdecode(bytes(site.posts) + b"/p/x\xfe.png")).write_bytes(b"x")
    (problem,) = read(site).problems
    assert "files there: x\\xfe.png" in problem.fix
    str(problem).encode("utf-8")


def test_a_folder_name_with_control_characters_is_reported(site: Site) -> None:
    site.post(*GOOD)
    site.post("x\n::error::owned\x1b[2J", "title: T\ndate: 2024-01-02")
    result = read(site)
    (problem,) = result.problems
    assert problem.file == "posts/x\\n::error::owned\\x1b[2J/index.md"
    assert "control or invisible character" in problem.message
    assert [p.id for p in result.posts] == ["good"]


def test_post_text_in_messages_cannot_forge_log_lines(site: Site) -> None:
    """A value quoted in a message keeps its newline and escapes as text: a line of its own
    starting '::' would be a command to a CI runner, ESC a terminal control sequence."""
    site.post("p", 'title: T\ndate: "tomorrow\\n::error::forged\\u202e\\x1b[31m"')
    (problem,) = read(site).problems
    assert problem.message == "'tomorrow\\n::error::forged\\u202e\\x1b[31m' is not a date"
    assert str(problem).isprintable()


def test_all_crashers_at_once_through_the_cli(site: Site) -> None:
    """`publish check --json` and `build --json`: exit 3 (posts skipped), valid JSON."""
    site.config(BASE_CONFIG + "feeds:\n  tags: true\n  categories: true\n")
    site.post(*GOOD)
    for post_id, meta, text, *_ in CRASHERS:
        site.post(post_id, meta, text)
    for command in ("check", "build"):
        result = CliRunner().invoke(cli, [command, "--json"])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert result.exit_code == 3, result.output
        report = json.loads(result.stdout)
        published = {p["id"] for p in report["published"]}
        assert {"good", "long-tag", "ipv6-href"} <= published
        assert len(report["problems"]) >= len(CRASHERS)
    assert (site.root / "public" / "tags" / "ok" / "rss.xml").is_file()


def test_crashers_read_the_same_from_the_cache(site: Site) -> None:
    site.post(*GOOD)
    for post_id, meta, text, *_ in CRASHERS:
        site.post(post_id, meta, text)
    site.post(
        "odd-values", "title: T\ndate: 2024-01-02\nx: !!binary aGk=\ny: !!set {a, b}\nz: .nan"
    )
    cache = PostCache(site.root / "cache.sqlite")
    fresh = read(site, cache=cache)
    again = read(site, cache=cache)
    assert again.cache_hits == fresh.files
    assert again.problems == fresh.problems
    assert again.posts == fresh.posts


# --- the guard: anything unexpected while reading one post is that post's problem ------------


def test_an_unexpected_failure_is_the_posts_problem_not_the_runs() -> None:
    # A time zone the config loader would refuse: ZoneInfo raises deep inside the reader.
    ctx = context()
    ctx = ReadContext(**{**ctx.__dict__, "timezone": "Nowhere/Atlantis"})
    record, problems = parse_post(b"---\ntitle: T\ndate: 2024-01-02\n---\n", "p", "f.md", ctx)
    assert record is None
    (problem,) = problems
    assert problem.message.startswith("could not be read: ZoneInfoNotFoundError: ")
    assert problem.fix is not None and "bug in publisher" in problem.fix


def _killing_parse_one(job: Any) -> Any:
    """Stands in for publisher.posts.collect._parse_one in forked workers: the post named
    'killer' takes its process down the way the kernel's OOM killer would."""
    if job[1] == "killer":
        os._exit(9)
    return _real_parse_one(job)


_real_parse_one = publisher.posts.collect._parse_one
_killing_parse_one.__module__ = "publisher.posts.collect"
_killing_parse_one.__qualname__ = "_parse_one"


@pytest.mark.skipif(
    ProcessPoolExecutor()._mp_context.get_start_method() != "fork",  # type: ignore[attr-defined]
    reason="the stand-in reaches the workers by fork",
)
def test_a_worker_that_dies_costs_only_its_post(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publisher.posts.collect, "PARALLEL_THRESHOLD", 4)
    monkeypatch.setattr(publisher.posts.collect, "_parse_one", _killing_parse_one)
    for n in range(6):
        site.post(f"p{n}", f"title: P{n}\ndate: 2024-01-0{n + 1}")
    site.post("killer", "title: K\ndate: 2024-01-02")
    result = read(site, jobs=2)
    assert sorted(p.id for p in result.posts) == [f"p{n}" for n in range(6)]
    (problem,) = result.problems
    assert problem.file == "posts/killer/index.md"
    assert "the process reading it stopped" in problem.message


# --- outside the site -------------------------------------------------------------------------


def test_symlinks_leading_outside_the_posts_folder_are_not_read(site: Site, tmp_path: Path) -> None:
    site.post(*GOOD)
    outside = tmp_path / "outside" / "secret"
    outside.mkdir(parents=True)
    (outside / "index.md").write_text("---\ntitle: SECRET\ndate: 2024-01-02\n---\nsecret\n")
    (site.posts / "linked-folder").symlink_to(outside)
    (site.posts / "linked-file").mkdir()
    (site.posts / "linked-file" / "index.md").symlink_to(outside / "index.md")
    (site.posts / "inside").symlink_to(site.posts / "good")  # stays inside: fine
    result = read(site)
    assert sorted(p.id for p in result.posts) == ["good", "inside"]
    assert all("SECRET" not in p.title for p in result.posts)
    for post_id in ("linked-file", "linked-folder"):
        (problem,) = problems_of(result, post_id)
        assert "symbolic link" in problem.message and "outside posts.folder" in problem.message
        assert problem.fix == "copy the post into the posts folder instead of linking to it"


def test_og_image_symlink_outside_the_site_is_refused(site: Site, tmp_path: Path) -> None:
    site.post("p", "title: T\ndate: 2024-01-02\nogImage: card.png")
    secret = tmp_path.parent / f"{tmp_path.name}-secret.png"
    secret.write_bytes(b"x")
    (site.posts / "p" / "card.png").symlink_to(secret)
    (problem,) = read(site).problems
    assert problem.message == "'card.png' points outside the site"


# --- bounded work per post --------------------------------------------------------------------


def _key_bomb(levels: int) -> str:
    """The issue's alias bomb, in mapping keys: each level is ten keys aliasing the last."""
    names = "abcdefghij"
    lines = ["a: &a [x,x,x,x,x,x,x,x,x,x]"]
    for previous, name in itertools.pairwise(names[: levels + 1]):
        lines.append(f"{name}: &{name} {{{','.join([f'? *{previous}'] * 10)}}}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "bomb",
    [
        _key_bomb(8),
        # values, the classic shape
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "\n".join(
            f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]"
            for p, c in zip("abcdefg", "bcdefgh", strict=True)
        ),
        # few values, each long: 5,000 copies of a 400-character string
        f"s: &s {'y' * 400}\nl: [{', '.join(['*s'] * 5000)}]",
    ],
    ids=["keys", "values", "characters"],
)
def test_alias_bombs_are_refused_before_they_are_built(bomb: str) -> None:
    started = time.process_time()
    record, (problem,) = parse(f"---\ntitle: T\ndate: 2024-01-02\n{bomb}\n---\n")
    assert record is None
    assert problem.field == "frontmatter"
    assert "once YAML aliases are expanded" in problem.message
    assert "remove the anchors" in (problem.fix or "")
    # Not a speed assertion: a bomb that got built would take minutes and gigabytes.
    assert time.process_time() - started < 30


def test_the_key_bomb_is_as_small_as_the_issues() -> None:
    assert len(_key_bomb(8)) < 500


@pytest.mark.parametrize(
    ("text", "limits", "words"),
    [
        ("---\ntitle: T\ndate: 2024-01-02\n---\n" + "x" * 600, {"post_bytes": 500},
         "bytes; the limit for one post is 500"),
        ("---\ntitle: T\ndate: 2024-01-02\n---\nok\n" + "x" * 101 + "\n", {"line_chars": 100},
         "line 6 is 101 characters long; the limit is 100"),
        ("---\ntitle: T\ndate: 2024-01-02\nd: " + "x" * 100 + "\n---\n",
         {"frontmatter_chars": 100}, "frontmatter is 129 characters long; the limit is 100"),
        ("---\ntitle: T\ndate: 2024-01-02\nl: [" + ", ".join("x" * 20) + "]\n---\n",
         {"frontmatter_values": 10}, "more than 10 values"),
        ("---\ntitle: T\ndate: 2024-01-02\nogImage: " + "d/" * 20 + "x.png\n---\n",
         {"file_name_bytes": 30}, "is 45 bytes; the limit is 30"),
    ],
    ids=["post", "line", "frontmatter", "values", "og-image-name"],
)  # fmt: skip
def test_caps_name_the_limit_and_the_fix(text: str, limits: dict[str, int], words: str) -> None:
    record, (problem,) = parse(text, **limits)
    assert record is None
    assert words in str(problem)
    assert problem.fix
    # The same post is fine under the default limits.
    assert parse(text)[0] is not None


@pytest.mark.parametrize(
    "meta",
    [
        f"date: [{', '.join(['1'] * 5000)}]",
        f"date: 2024-01-02\npath: 'https://elsewhere.example/{'p' * 50_000}'",
        f"date: 2024-01-02\nogImage: '/{'i' * 50_000}.png'",
        f"date: 2024-01-02\n{'k' * 50_000}: 1\n{'k' * 50_000}: 2",
        f"date: 2024-01-02\nexternalUrl: 'ftp://{'u' * 50_000}'",
        f"date: 2024-01-02\nupdated: '{'2024 ' * 1000}'",
    ],
    ids=["date-list", "path", "og-image", "duplicate-key", "external-url", "updated"],
)
def test_a_long_value_is_shortened_in_its_message(site: Site, meta: str) -> None:
    site.post("p", f"title: T\n{meta}")
    (problem,) = read(site).problems
    assert len(str(problem)) < 400, str(problem)[:500]


def test_a_long_mojibake_word_is_shortened_in_the_warning(site: Site) -> None:
    site.post("p", "title: T\ndate: 2024-01-02", "Ã©" * 20_000 + "\n")
    (problem,) = read(site).problems
    assert problem.message.startswith("had mojibake, repaired ('Ã©Ã©")
    assert len(problem.message) < 200


def test_a_file_far_over_the_cap_is_not_read_whole(site: Site) -> None:
    site.post(*GOOD)
    site.post("huge", "title: H\ndate: 2024-01-02", "x\n" * 1_000_000)  # 2 MB
    result = read(site)
    (problem,) = problems_of(result, "huge")
    assert problem.message == "is 524,289 bytes; the limit for one post is 524,288"
    assert [p.id for p in result.posts] == ["good"]


def test_deep_nesting_is_a_problem() -> None:
    record, (problem,) = parse("---\ntitle: T\ndate: 2024-01-02\nx: " + "[" * 5000 + "\n---\n")
    assert record is None
    assert problem.field == "frontmatter"


# --- every formerly slow pass grows linearly --------------------------------------------------


def _growth(run: Callable[[str], object], make: Callable[[int], str], base: int) -> list[float]:
    """Time of ``run`` on inputs of 1x, 2x, 4x and 8x ``base``, relative to 1x (min of 3)."""
    times = []
    for factor in (1, 2, 4, 8):
        text = make(base * factor)
        best = float("inf")
        for _ in range(3):
            # CPU time: a busy machine or the other `-n auto` worker pauses us uncounted.
            started = time.process_time()
            run(text)
            best = min(best, time.process_time() - started)
        times.append(best)
    return [t / times[0] for t in times]


#: (name, pass, input of size n, base n): bases give ~10-20 ms at 1x, so that timer noise
#: does not decide the ratio.
SLOW_PASSES: list[tuple[str, Callable[[str], object], Callable[[int], str], int]] = [
    ("mdx-open-tags", body.strip_mdx, lambda n: "<b " * n, 3_000),
    ("mdx-open-braces", body.strip_mdx, lambda n: "<b {" * n, 6_000),
    ("mdx-broken-attributes", body.strip_mdx, lambda n: "<b x / " * n, 8_000),
    ("mdx-unclosed-quote", body.strip_mdx, lambda n: "<b x=" * n + '" =' + "y" * 5 * n, 2_000),
    ("mdx-code-spans", body.strip_mdx, lambda n: "".join("`" * (k % 50 + 1) + "x" for k in range(n)), 30_000),
    ("author-spaces", fields.author_from_body, lambda n: "Author: x" + " " * n + "y", 2_000_000),
    ("author-brackets", fields.author_from_body, lambda n: "Author: " + "[" * n, 2_000_000),
    ("author-links", fields.author_from_body, lambda n: "Author: " + "[](" * n, 500_000),
    ("author-and", fields.author_from_body, lambda n: "Author: x" + " \t" * n + "andy, Org", 1_000_000),
    ("frontmatter-alias-keys", lambda t: frontmatter.parse(t, "f", 2, UNLIMITED),
     lambda n: "k: &k [" + ", ".join(["x"] * 9) + "]\n" + "\n".join(f"? *k\n: {i}" for i in range(n)), 1_000),
]  # fmt: skip

#: Caps out of the way, to time the passes themselves.
UNLIMITED = Limits(
    frontmatter_chars=10**9, frontmatter_values=10**9, frontmatter_expanded_chars=10**9
)


@pytest.mark.parametrize(
    ("run", "make", "base"),
    [p[1:] for p in SLOW_PASSES],
    ids=[p[0] for p in SLOW_PASSES],
)
def test_formerly_slow_passes_grow_linearly(
    run: Callable[[str], object], make: Callable[[int], str], base: int
) -> None:
    # Linear: 8x the input is ~8x the time. Quadratic would be ~64x; the slack (and one
    # more try) absorbs a busy machine.
    tries = [_growth(run, make, base)]
    if tries[0][3] >= 20:
        tries.append(_growth(run, make, base))
    assert min(t[3] for t in tries) < 20, tries


def test_feed_lint_reports_a_malformed_ipv6_link_instead_of_crashing() -> None:
    from publisher.feeds.lint import lint_feed

    rss = (
        b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        b"<link>https://[::1/x</link><description>d</description></channel></rss>"
    )
    problems = lint_feed("rss.xml", rss, "https://blog.example.org/rss.xml")
    assert any("https://[::1/x" in p and "absolute" in p for p in problems), problems
