"""What each kind of build imports: a one-post build of a site whose heads are cached
loads no library only a cold build or an unusual post needs, so that a later change
cannot silently bring a heavy module back into every build (issue 12: imports are most of
a one-post build at 1,000 posts).

Each build runs in a fresh interpreter and reports ``sys.modules`` (import work counted,
not timed); an audit hook reports what was loaded when the read's worker pool forked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import FEEDS_CONFIG, fresh_probe

_PROBE = textwrap.dedent(
    """
    import json, sys
    at_fork = []
    def hook(event, args):
        if event == "os.fork" and not at_fork:
            at_fork.extend(sorted(sys.modules))
    sys.addaudithook(hook)
    sys.argv = ["publish", *json.loads(sys.argv[1])]
    from publisher.cli import main
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    print(json.dumps({"code": code, "modules": sorted(sys.modules), "at_fork": at_fork}))
    """
)

#: Loaded by no one-post build whose post has a YYYY-MM-DD date: dateutil, only for
#: other dates; the worker pool, the config loader and its suggestions, the link
#: checker's lxml.html, tempfile (atomic.py names its own temporary files) and the stages
#: that are off; dataclasses (publisher/dataclass.py makes the classes: dataclasses would
#: load inspect, which only lxml.etree still does); PyYAML, for posts whose frontmatter is
#: plain ``key: value`` lines (posts/plainyaml.py resolves their values itself); lxml.etree
#: (and the inspect it loads), for a post with no link, image or raw HTML: the body is not
#: parsed, and the feed cache names libxml2 without it (feeds/libxml.py); the MDX
#: components, for a body with no tag; the html package (its 2,200 named references:
#: posts/text.escape is html.escape); nh3, for a body feeds/prose.py answers for; feedgen
#: (feeds/xml_heads.py writes the heads); the URL patterns of generators, for a site
#: whose posts name their path; hashlib (OpenSSL's libcrypto: the build's few KB are
#: hashed by CPython's own modules, publisher/digests.py), ctypes (cmark's free functions
#: come through cffi, publisher/cfunctions.py) and pickle (only the worker pool's results
#: are pickled); typing (3.5 to 4 ms: the modules a one-post build loads import it for the
#: type checker only, under ``TYPE_CHECKING = False``); zoneinfo with sysconfig (about 3 ms),
#: for a site in UTC (publisher/zones.py).
NOT_FOR_ONE_POST = (
    "typing",
    "zoneinfo",
    "sysconfig",
    "hashlib",
    "_hashlib",
    "ctypes",
    "pickle",
    "dataclasses",
    "lxml.etree",
    "inspect",
    "publisher.posts.mdx",
    "publisher.posts.components",
    "html",
    "nh3",
    "feedgen",
    "publisher.posts.sources.slugs",
    "unicodedata",
    "yaml",
    "publisher.posts.fullyaml",
    "dateutil",
    "feedgen.feed",
    "feedgen.entry",
    "tempfile",
    "shutil",
    "multiprocessing",
    "concurrent.futures",
    "publisher.config.loader",
    "publisher.schema",
    "difflib",
    "lxml.html",
    "publisher.announce",
    "publisher.preview",
    "publisher.automation",
    "publisher.cards.render",
    "PIL",
)


#: Loaded by no cold build of a site under the pool's threshold (200 posts) whose config
#: is valid and whose posts have YYYY-MM-DD dates: difflib only suggests a key for a
#: mistyped one; the feed heads are written without feedgen (feeds/xml_heads.py), so
#: neither it nor what it loaded is imported (dateutil, the tempfile of dateutil's zone
#: data, lxml.etree and the inspect lxml.etree loads); PyYAML, for a config of plain
#: mappings, lists and values (config/plainconfig.py) and plain frontmatter.
NOT_FOR_A_SMALL_COLD_BUILD = (
    "dataclasses",  # publisher/dataclass.py makes the classes
    "zoneinfo",  # a site in UTC (publisher/zones.py; the loader checks no other name)
    "sysconfig",
    "yaml",
    "feedgen",
    "dateutil",
    "tempfile",
    "lxml.etree",
    "inspect",
    "difflib",
    "multiprocessing",
    "concurrent.futures",
    "lxml.html",
    "publisher.announce",
    "publisher.preview",
    "publisher.automation",
    "publisher.cards.render",
    "PIL",
)


def _build(root: Path, *args: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(["build", *args])],
        cwd=root,
        # Unmeasured: coverage, when it runs, loads its own modules first.
        env={**os.environ, "COVERAGE_PROCESS_CONFIG": "", "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    data: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    assert data["code"] == 0, done.stderr
    return data


def _loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if m in names or m.startswith(tuple(f"{n}." for n in names))]


def _post(root: Path, i: int, date: str, body: str) -> None:
    folder = root / "posts" / f"post-{i:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.md").write_text(
        f"---\ntitle: Post {i}\ndate: {date}\ntags: [t{i % 3}]\n---\n{body}\n", encoding="utf-8"
    )


def _age(root: Path) -> None:
    """Every file a minute older: past the window in which a file is hashed, not judged by
    its stat, as a real site's files are."""
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 60 * 10**9))


def test_a_one_post_build_loads_no_library_it_does_not_use(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "config.yaml").write_text(FEEDS_CONFIG, encoding="utf-8")
    for i in range(6):
        _post(root, i, f"2024-01-{i + 1:02d}", f"Body of *post* {i}.")
    cold = _build(root)["modules"]
    assert "publisher.feeds.xml_heads" in cold  # the heads are rendered
    # A small site's cold build: no pool; a config without a mistake needs no suggestion.
    assert _loaded(cold, NOT_FOR_A_SMALL_COLD_BUILD) == []
    _age(root)
    _build(root)  # the record of a build past the window, as on a real site
    _post(root, 2, "2024-01-03", "Body of post 2, edited.")
    edited = _build(root)["modules"]
    assert "publisher.incremental.quick" in edited  # the build read the one post
    assert _loaded(edited, NOT_FOR_ONE_POST) == []
    # The probe sees an import: the same build of a post dated with a time loads dateutil
    # (the oldest post: no feed's newest date, so no head, changes).
    _post(root, 0, "2024-01-01T10:30:00+02:00", "Body of post 0, edited.")
    timed = _build(root)["modules"]
    assert "dateutil.parser" in timed
    assert _loaded(timed, ("feedgen.feed", "publisher.config.loader")) == []
    rss = (root / "public" / "rss.xml").read_text(encoding="utf-8")
    assert "Body of post 2, edited." in rss
    assert "Mon, 01 Jan 2024 10:30:00 +0200" in rss  # dateutil read the date it loaded for
    # And PyYAML, for frontmatter that is not plain lines (a comment here).
    folder = root / "posts" / "post-004"
    (folder / "index.md").write_text(
        "---\ntitle: Post 4 # renamed\ndate: 2024-01-05\ntags: [t1]\n---\nBody 4.\n",
        encoding="utf-8",
    )
    assert "yaml" in _build(root)["modules"]
    assert "<title>Post 4</title>" in (root / "public" / "rss.xml").read_text(encoding="utf-8")
    # And lxml.etree for a body with a link, made absolute against the post's page.
    _post(root, 3, "2024-01-04", "See [the notes](notes/) of post 3.")
    assert "lxml.etree" in _build(root)["modules"]
    rss = (root / "public" / "rss.xml").read_text(encoding="utf-8")
    assert "https://blog.example.org/post-003/notes/" in rss
    # And the MDX components for a body with a tag: an embed becomes a link.
    _post(root, 1, "2024-01-02", '<YouTube id="dQw4w9WgXcQ" />')
    assert "publisher.posts.mdx" in _build(root)["modules"]
    rss = (root / "public" / "rss.xml").read_text(encoding="utf-8")
    assert "https://www.youtube.com/watch?v=dQw4w9WgXcQ" in rss


def test_the_read_pool_forks_with_dateutil_loaded(tmp_path: Path) -> None:
    # fields.py imports dateutil on first use; a cold build's read workers share one copy,
    # imported before the fork, rather than each importing it for a date with a time.
    root = tmp_path / "site"
    root.mkdir()
    (root / "config.yaml").write_text(FEEDS_CONFIG, encoding="utf-8")
    for i in range(240):
        _post(root, i, f"2024-02-01T{i // 60:02d}:{i % 60:02d}:00Z", f"Body {i}.")
    data = _build(root, "--jobs", "2")
    assert data["at_fork"], "no read worker was forked"
    assert "dateutil.parser" in data["at_fork"]
    # Not lxml.etree and the MDX components: bodies of plain prose (their frontmatter's
    # tag lists are no links) are not parsed as HTML, and the fork does not wait for them.
    assert _loaded(data["at_fork"], ("lxml.etree", "publisher.posts.mdx")) == []
    # Not feedgen: the main process no longer loads it for the heads while it waits.
    assert _loaded(data["modules"], ("feedgen",)) == []


def test_the_read_pool_forks_with_lxml_loaded_for_posts_with_links(tmp_path: Path) -> None:
    # posts/body.py imports lxml.etree on first use: for posts that link, each worker
    # would import it again, so it is imported before the fork.
    root = tmp_path / "site"
    root.mkdir()
    (root / "config.yaml").write_text(FEEDS_CONFIG, encoding="utf-8")
    for i in range(240):
        body = f"Body {i}." if i % 20 else f"Body {i}, see [the notes](notes-{i}/)."
        _post(root, i, "2024-02-01", body)
    data = _build(root, "--jobs", "2")
    assert data["at_fork"], "no read worker was forked"
    assert "lxml.etree" in data["at_fork"]
    assert "publisher.posts.mdx" in data["at_fork"]
    assert "dateutil.parser" not in data["at_fork"]  # every date a day
    rss = (root / "public" / "rss.xml").read_text(encoding="utf-8")
    assert "https://blog.example.org/post-000/notes-0/" in rss


def test_fields_loads_dateutil_only_for_a_date_that_needs_it() -> None:
    probe = textwrap.dedent(
        """
        import json, sys
        from datetime import timezone
        from publisher.posts import fields
        seen = ["dateutil" in sys.modules]
        day = fields.parse_date("2024-05-01", timezone.utc)
        seen.append("dateutil" in sys.modules)
        timed = fields.parse_date("2024-05-01T17:00:00+02:00", timezone.utc)
        spelled = fields.parse_date("Wed, 01 May 2024 17:00:00 GMT", timezone.utc)
        seen.append("dateutil.parser" in sys.modules)
        print(json.dumps([seen, day.isoformat(), timed.isoformat(), spelled.isoformat()]))
        """
    )
    seen, day, timed, spelled = fresh_probe(probe)
    assert seen == [False, False, True]
    assert day == "2024-05-01T00:00:00+00:00"
    assert timed == "2024-05-01T17:00:00+02:00"
    assert spelled == "2024-05-01T17:00:00+00:00"


def test_a_plain_build_runs_with_what_it_had_loaded_frozen(tmp_path: Path) -> None:
    # cli/plain.py freezes what is alive when the build starts (modules, the fast path's
    # stat pass): the collector walks none of it again. With the default thresholds, so
    # that this small build collects at all, every collection during the build sees the
    # frozen objects; once the build returns they are thawed.
    root = tmp_path / "site"
    root.mkdir()
    (root / "config.yaml").write_text(FEEDS_CONFIG, encoding="utf-8")
    for i in range(6):
        _post(root, i, f"2024-01-{i + 1:02d}", f"Body of post {i}.")
    probe = textwrap.dedent(
        """
        import gc, json, sys
        import publisher.cli
        publisher.cli.GC_THRESHOLDS = gc.get_threshold()
        frozen = []
        gc.callbacks.append(lambda phase, info: phase == "start" and frozen.append(gc.get_freeze_count()))
        sys.argv = ["publish", "-q", "build"]
        try:
            publisher.cli.main()
        except SystemExit as exc:
            code = exc.code
        print(json.dumps({"code": code, "frozen": frozen, "after": gc.get_freeze_count()}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=root,
        env={**os.environ, "COVERAGE_PROCESS_CONFIG": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    assert data["code"] == 0, done.stderr
    during = [count for count in data["frozen"] if count]
    assert len(during) >= 3  # the build collected, with its start frozen
    assert min(during) > 5_000  # the interpreter's and the fast path's objects at least
    assert data["after"] == 0


def test_marked_up_guesses_from_the_body_alone(tmp_path: Path) -> None:
    from publisher.posts.workers import heads_of, marked_up

    prose = b"---\ntitle: A [draft]\ntags: [a, b]\n---\nJust *prose*, | a | table |.\n"
    assert not marked_up([prose, prose])
    assert marked_up([prose, b"---\ntitle: T\n---\nSee [this](x/).\n"])
    assert marked_up([b"---\ntitle: T\n---\nA <br> tag.\n"])
    assert marked_up([b"No frontmatter, [a link][1].\n"])
    assert not marked_up([])
    # A file the main process did not read: its first bytes are read here.
    linked = tmp_path / "index.md"
    linked.write_bytes(b"---\ntitle: T\n---\n" + b"word " * 5000 + b"![cover](c.png)\n")
    assert marked_up(heads_of([(str(linked), "posts/a/index.md", 0)]))
    assert not marked_up(heads_of([(str(tmp_path / "gone.md"), "posts/b/index.md", 0)]))
