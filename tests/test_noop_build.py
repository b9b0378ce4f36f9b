"""The no-op check of the CLI (publisher/inputs.py): a build with nothing changed stats its inputs,
opens no post, starts no process and writes nothing; any change makes a full build.

Each build runs in a fresh interpreter, with an audit hook that lists every file it opens
and every process it starts (work counted, not timed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import Site

_PROBE = textwrap.dedent(
    """
    import json, sys
    opened, forked = [], []
    def hook(event, args):
        if event == "open" and isinstance(args[0], str):
            opened.append(args[0])
        elif event in ("os.fork", "os.posix_spawn", "subprocess.Popen"):
            forked.append(event)
    sys.addaudithook(hook)
    sys.argv = ["publish", *json.loads(sys.argv[1])]
    from publisher.cli.entry import main  # the CLI itself: fastpath.py is tests/test_fastpath.py's
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    print(json.dumps({"code": code, "opened": opened, "forked": forked, "modules": sorted(sys.modules)}))
    """
)

POST = "title: Post {i}\ndate: 2024-01-{day:02d}\ntags: [t{i}]"


class Run:
    def __init__(
        self, code: int, opened: list[str], forked: list[str], modules: list[str], stderr: str
    ) -> None:
        self.code = code
        self.opened = opened
        self.forked = forked
        self.modules = modules
        self.stderr = stderr

    @property
    def noop(self) -> bool:
        return "nothing changed since the last build" in self.stderr


def build(site: Site, *args: str, measured: bool = True) -> Run:
    # measured=False: coverage, when it runs, would load its own modules (sqlite3) first.
    env = None if measured else {**os.environ, "COVERAGE_PROCESS_CONFIG": ""}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(["build", *args])],
        cwd=site.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout, done.stderr
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(data["code"], data["opened"], data["forked"], data["modules"], done.stderr)


def age(site: Site) -> None:
    """Every file under the site as if written a minute ago: past the 'recent' window."""
    for root, _, files in os.walk(site.root):
        for name in files:
            path = Path(root, name)
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 60 * 10**9))


@pytest.fixture
def built(site: Site) -> Site:
    site.config(
        """\
        site: {title: T, url: 'https://blog.example.org', timezone: UTC}
        posts: {folder: posts}
        output: {folder: public}
        state: {folder: state}
        cards: {enabled: false}
        """
    )
    for i in range(3):
        site.post(f"p{i}", POST.format(i=i, day=i + 1), f"Body {i}.\n")
    site.file("p0/cover.png", b"not really a png")
    age(site)
    first = build(site)
    assert first.code == 0 and not first.noop, first.stderr
    return site


def test_a_build_with_nothing_changed_reads_and_writes_nothing(built: Site) -> None:
    feed = (built.root / "public" / "rss.xml").stat()
    run = build(built)
    assert run.noop and run.code == 0, run.stderr
    assert "3 posts: 3 published" in run.stderr
    # No post opened (the posts folder itself is, for stats relative to it: snapshot.py).
    posts = str(built.posts) + os.sep
    assert not [p for p in run.opened if p.startswith(posts)]
    assert not [p for p in run.opened if p.endswith(".sqlite")]  # no cache decoded
    assert run.forked == []  # no worker pool
    assert (built.root / "public" / "rss.xml").stat().st_mtime_ns == feed.st_mtime_ns


#: What only reading posts or writing feeds and cards needs: a no-op loads none of it.
NOT_FOR_A_NO_OP = (
    "publisher.posts.collect",
    "publisher.posts.reader",
    "publisher.posts.body",
    "publisher.feeds.generate",
    "publisher.cards.build",
    "publisher.cards.render",
    "cmarkgfm",
    "lxml",
    "nh3",
    "feedgen",
    "sqlite3",
    "ftfy",
    "dateutil",
)


def test_a_build_with_nothing_changed_imports_no_stage(built: Site) -> None:
    run = build(built, measured=False)
    assert run.noop, run.stderr
    loaded = [m for m in run.modules if m.startswith(NOT_FOR_A_NO_OP)]
    if "coverage" in run.modules:
        # Measured under `pytest --cov`: coverage itself stores its data with sqlite3.
        loaded = [m for m in loaded if not m.startswith("sqlite3")]
    assert loaded == []
    # The other half of the check: a real build does load them.
    (built.posts / "p1" / "index.md").write_text("---\ntitle: New\ndate: 2024-01-02\n---\nx\n")
    full = build(built)
    assert not full.noop
    assert {"publisher.posts.reader", "publisher.feeds.generate", "lxml"} <= set(full.modules)


@pytest.mark.parametrize(
    "change",
    [
        "edit-post",
        "add-post",
        "remove-post",
        "touch-image",
        "delete-output",
        "edit-output",
        "edit-config",
    ],
)
def test_any_change_makes_a_full_build(built: Site, change: str) -> None:
    assert build(built).noop
    root = built.root
    if change == "edit-post":
        built.post("p1", POST.format(i=1, day=2), "Body 1, edited.\n")
    elif change == "add-post":
        built.post("p9", POST.format(i=9, day=9), "New.\n")
    elif change == "remove-post":
        (built.posts / "p2" / "index.md").unlink()
    elif change == "touch-image":
        (built.posts / "p0" / "cover.png").write_bytes(b"another image")
    elif change == "delete-output":
        (root / "public" / "rss.xml").unlink()
    elif change == "edit-output":
        (root / "public" / "posts.json").write_text("{}", encoding="utf-8")
    elif change == "edit-config":
        text = (root / "config.yaml").read_text(encoding="utf-8")
        (root / "config.yaml").write_text(text.replace("title: T", "title: U"), encoding="utf-8")
    age(built)  # no help from the 'recent' rule: the stat alone must tell
    run = build(built)
    assert not run.noop and run.code == 0, run.stderr
    assert (root / "public" / "rss.xml").is_file()
    assert build(built).noop  # and the full build recorded the new state


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(site: Site) -> None:
    # No aging: the files are recent when the first build stats them, so their bytes,
    # not their mtime, are what it records (a coarse clock could hide this edit).
    site.post("p0", POST.format(i=0, day=1), "Body A.\n")
    path = site.posts / "p0" / "index.md"
    # A minute ahead: still recent however long a busy machine takes to start the build.
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 60 * 10**9))
    assert build(site).code == 0
    st = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("A", "B"), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    run = build(site)
    assert not run.noop, run.stderr
    assert "Body B" in (site.root / "public" / "feed.json").read_text(encoding="utf-8")


def test_a_scheduled_post_coming_due_is_a_full_build(built: Site) -> None:
    built.post("later", "title: Later\ndate: 2030-01-01", "Soon.\n")
    age(built)
    assert not build(built, "--now", "2029-01-01T00:00:00Z").noop
    assert build(built, "--now", "2029-06-01T00:00:00Z").noop  # still scheduled
    run = build(built, "--now", "2030-01-02T00:00:00Z")
    assert not run.noop
    assert "Later" in (built.root / "public" / "rss.xml").read_text(encoding="utf-8")
    # and back before the newest published post: the published set differs again
    assert not build(built, "--now", "2029-06-01T00:00:00Z").noop


def test_a_no_op_reports_the_last_builds_problems_and_exit_code(built: Site) -> None:
    built.post("bad", "title: Bad\ndate: next tuesday", "x\n")
    age(built)
    first = build(built)
    assert first.code == 3 and not first.noop
    again = build(built)
    assert again.noop and again.code == 3
    assert "bad/index.md" in again.stderr and "date" in again.stderr


def test_dry_runs_and_detailed_exit_codes(built: Site) -> None:
    dry = build(built, "--dry-run")
    assert not dry.noop  # a dry run lists what it would write: it always reads
    assert build(built, "--detailed-exit-codes").code == 5


def test_a_damaged_record_is_a_full_build(built: Site) -> None:
    (built.root / "state" / "inputs.json").write_text("{not json", encoding="utf-8")
    run = build(built)
    assert not run.noop and run.code == 0
    assert build(built).noop
