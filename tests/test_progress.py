"""Progress: a bar on a terminal, plain periodic lines in CI, nothing with -q; and how long
each stage took in the --json report (the "read N posts" line times the reading only)."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import publish

from conftest import REPO
from publisher.progress import StageProgress, display_mode

POSTS = 120  # over MIN_TOTAL (100): a stage this long is shown


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_display_mode_follows_ci_the_terminal_and_quiet() -> None:
    assert display_mode(quiet=False, stream=Terminal(), environ={}) == "bar"
    assert display_mode(quiet=False, stream=Terminal(), environ={"CI": "true"}) == "lines"
    assert display_mode(quiet=False, stream=Terminal(), environ={"CI": "false"}) == "bar"
    assert display_mode(quiet=False, stream=io.StringIO(), environ={}) == "lines"  # a log file
    assert display_mode(quiet=True, stream=Terminal(), environ={"CI": "true"}) == "off"


def test_lines_every_tenth_or_every_interval_with_counts_and_time_left() -> None:
    clock, out = Clock(), io.StringIO()
    stages = StageProgress("lines", out, clock=clock, line_every=10.0)
    with stages(200, "reading posts") as step:
        assert step is not None
        for _ in range(200):
            clock.now += 0.25  # 50 s in all, 5 s per 10%: lines come from the 10% steps
            step(1)
    lines = out.getvalue().splitlines()
    assert lines[0] == "reading posts: 20/200 (10%), 5.0 s, about 45.0 s left"
    assert lines[-2] == "reading posts: 180/200 (90%), 45.0 s, about 5.0 s left"
    assert lines[-1] == "reading posts: 200/200 done in 50.0 s"
    assert len(lines) == 10
    assert stages.report() == {"reading posts": 50.0}

    slow, out = Clock(), io.StringIO()
    stages = StageProgress("lines", out, clock=slow, line_every=10.0)
    with stages(1000, "rendering cards") as step:
        assert step is not None
        for _ in range(30):  # 3% in 90 s: no tenth crossed, a line every 10 s instead
            slow.now += 3.0
            step(1)
    lines = out.getvalue().splitlines()
    # At 12, 24, ... 84 s (the first step at or past 10 s after the last line), then the end.
    assert [line.split(", ")[1] for line in lines[:-1]] == [
        "12.0 s",
        "24.0 s",
        "36.0 s",
        "48.0 s",
        "1 min 00 s",
        "1 min 12 s",
        "1 min 24 s",
    ]
    assert lines[-1] == "rendering cards: done in 1 min 30 s"  # stopped short of 1000
    assert lines[0] == "rendering cards: 4/1000 (0%), 12.0 s, about 49 min 48 s left"


def test_small_stages_and_quiet_show_nothing_but_are_timed() -> None:
    clock, out = Clock(), io.StringIO()
    for mode in ("lines", "bar", "off"):
        stages = StageProgress(mode, out, clock=clock)  # type: ignore[arg-type]
        with stages(99, "reading posts") as step:
            assert step is None
            clock.now += 2.5
        with stages(0, "building feeds"):
            clock.now += 0.5
        assert stages.report() == {"reading posts": 2.5, "building feeds": 0.5}
    assert out.getvalue() == ""
    quiet = StageProgress("off", out, clock=clock)
    with quiet(10_000, "reading posts") as step:
        assert step is None
    assert out.getvalue() == ""


def test_a_stage_that_fails_is_timed_and_not_reported_done() -> None:
    clock, out = Clock(), io.StringIO()
    stages = StageProgress("lines", out, clock=clock)
    with pytest.raises(RuntimeError), stages(100, "rendering cards") as step:
        assert step is not None
        clock.now += 1.0
        step(5)
        raise RuntimeError("boom")
    assert "done" not in out.getvalue()
    assert stages.report() == {"rendering cards": 1.0}


def test_a_quick_stage_gets_its_closing_line_only() -> None:
    clock, out = Clock(), io.StringIO()
    stages = StageProgress("lines", out, clock=clock)
    with stages(300, "reading posts") as step:
        assert step is not None
        for _ in range(300):
            clock.now += 0.001
            step(1)
    assert out.getvalue() == "reading posts: 300/300 done in 0.3 s\n"
    with stages(300, "rendering cards"):  # a dry run: no card needed rendering
        clock.now += 0.2
    assert out.getvalue().splitlines()[-1] == "rendering cards: done in 0.2 s"


# -- the command, end to end -------------------------------------------------------------


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big")
    for n in range(POSTS):
        folder = root / "posts" / f"2024-01-01-post-{n:03d}"
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(
            f"---\ntitle: Post {n}\ndate: '2024-01-01T10:{n % 60:02d}:00Z'\n---\n\nBody {n}.\n",
            encoding="utf-8",
        )
    (root / "config.yaml").write_text(
        "site:\n  title: T\n  url: https://blog.example.org\ncards:\n  enabled: false\n",
        encoding="utf-8",
    )
    return root


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PUBLISHER_CONFIG")}
    return {**env, "PYTHONPATH": str(REPO), **extra}


def run(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """In this process (tests/cli_run.py): stderr is not a terminal, as in a CI log."""
    return publish("--dry-run", *args, cwd=site, env={"PATH": os.environ.get("PATH", ""), **env})


def test_ci_gets_plain_progress_lines_and_json_timings(big_site: Path) -> None:
    done = run(big_site, "build", "--json", CI="true")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # stdout is the report alone
    timings = report["timings"]
    assert set(timings) == {"reading posts", "building feeds", "total"}
    assert 0 <= timings["reading posts"] <= timings["total"]
    lines = done.stderr.splitlines()
    assert f"reading posts: {POSTS}/{POSTS} done in " in done.stderr
    assert all("\r" not in line and "\x1b" not in line for line in lines)
    # The summary line gives the reading time, not the whole build's.
    (summary,) = [line for line in lines if line.startswith(f"read {POSTS} posts in ")]
    shown = float(summary.split(" posts in ")[1].split(" s:")[0])
    assert abs(shown - timings["reading posts"]) <= 0.006


def test_quiet_prints_no_progress(big_site: Path) -> None:
    done = run(big_site, "build", "-q", CI="true")
    assert done.returncode == 0 and done.stderr == ""


def test_check_reports_progress_and_timings_too(big_site: Path) -> None:
    done = run(big_site, "check", "--json", CI="true")
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)["timings"]) == {"reading posts", "checking", "total"}
    assert f"reading posts: {POSTS}/{POSTS} done in " in done.stderr


def test_a_terminal_gets_a_bar_with_count_and_eta(big_site: Path) -> None:
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "publisher", "--dry-run", "build"],
            cwd=big_site,
            env=_env(TERM="dumb", COLUMNS="100"),
            stdout=subprocess.DEVNULL,
            stderr=secondary,
        )
        os.close(secondary)
        chunks: list[bytes] = []
        while True:
            ready, _, _ = select.select([primary], [], [], 60)
            if not ready:
                break
            try:
                data = os.read(primary, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(primary)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert "reading posts" in text and f"{POSTS}/{POSTS}" in text
    assert "done in" not in text  # the bar, not the CI lines
