"""The publish command end to end: in this process through the console entry point
(tests/cli_run.py), and a few runs as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_run import publish

from conftest import REPO, Site
from publisher import __version__, report
from publisher.build import BuildResult


def publish_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO)},
    )


def test_the_installed_command_answers_version_and_help(tmp_path: Path) -> None:
    version = publish_process("--version", cwd=tmp_path)
    assert (version.returncode, version.stdout) == (0, f"publish, version {__version__}\n")
    helped = publish_process("--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    for command in ("announce", "automation", "build", "cards", "check", "preview", "state"):
        assert f"\n  {command} " in helped.stdout, command
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_example_site_dry_run_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        (REPO / "config.yaml")
        .read_text()
        .replace("examples/blog/posts", str(REPO / "examples/blog/posts")),
        encoding="utf-8",
    )
    result = publish("--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "would write public/posts.json" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


def test_publish_twice_rewrites_nothing(site: Site) -> None:
    """A real build in a real process, twice."""
    site.post("a", "title: A\ndate: 2024-01-02")
    first = publish_process(cwd=site.root)
    assert first.returncode == 0, first.stderr
    assert "wrote public/posts.json" in first.stderr
    index = site.root / "public" / "posts.json"
    mtime = index.stat().st_mtime_ns
    second = publish_process(cwd=site.root)
    assert second.returncode == 0
    assert "wrote" not in second.stderr
    assert index.stat().st_mtime_ns == mtime


def test_json_report_and_skipped_exit_code(site: Site) -> None:
    site.post("good", "title: Good\ndate: 2024-01-02")
    site.post("bad", "title: Bad\ndate: next tuesday")
    result = publish("build", "--json", cwd=site.root)
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert report["posts"]["published"] == 1
    assert report["posts"]["skipped"] == 1
    assert [p["field"] for p in report["problems"]] == ["date"]
    assert "Traceback" not in result.stderr


def test_check_exit_codes(site: Site) -> None:
    site.post("good", "title: Good\ndate: 2024-01-02")
    assert publish("check", cwd=site.root).returncode == 0
    site.post("bad", "date: 2024-01-02")
    result = publish("check", cwd=site.root)
    assert result.returncode == 3
    assert "error: posts/bad/index.md: title is missing; add a line like title:" in result.stderr
    assert not (site.root / "public").exists()


def test_config_errors_exit_2_without_traceback(site: Site) -> None:
    site.config("site:\n  titel: X\n  url: ftp://x\nposts:\n  folder: posts\n")
    result = publish("check", cwd=site.root)
    assert result.returncode == 2
    assert "config error: site.url: 'ftp://x' is not an absolute http(s) URL" in result.stderr
    assert "config error: site.titel: unknown key; did you mean 'title'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_now_releases_a_future_post(site: Site) -> None:
    site.post("later", "title: Later\ndate: '2030-01-01T09:00:00Z'")
    before = json.loads(publish("check", "--json", "--now", "2029-12-31", cwd=site.root).stdout)
    after = json.loads(
        publish("check", "--json", "--now", "2030-01-01T09:00:00Z", cwd=site.root).stdout
    )
    assert before["posts"]["published"] == 0
    assert before["posts"]["scheduled"] == [{"id": "later", "date": "2030-01-01T09:00:00+00:00"}]
    assert after["posts"]["published"] == 1


def test_bad_now_is_a_usage_error(site: Site) -> None:
    result = publish("check", "--now", "soon", cwd=site.root)
    assert result.returncode == 2
    assert "'soon' is not a date" in result.stderr


def test_dry_run_after_a_build_leaves_state_untouched(site: Site) -> None:
    site.post("a", "title: A\ndate: 2024-01-02")
    assert publish("build", cwd=site.root).returncode == 0
    state = site.root / "state"
    before = {p.name: p.stat().st_mtime_ns for p in state.iterdir()}
    site.post("b", "title: B\ndate: 2024-01-03")
    result = publish("--dry-run", "--json", cwd=site.root)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["posts"]["from_cache"] == 1
    assert {w["path"]: w["status"] for w in report["writes"]} == {
        "atom.xml": "changed",
        "feed.json": "changed",
        "posts.json": "changed",
        "rss.xml": "changed",
    }
    assert {p.name: p.stat().st_mtime_ns for p in state.iterdir()} == before
    assert json.loads((site.root / "public" / "posts.json").read_text())["posts"][0]["id"] == "a"


def test_cards_command_renders_one_post(site: Site) -> None:
    site.post("a", "title: A card\ndate: 2024-01-02")
    site.post("b", "title: B\ndate: 2024-01-03")
    result = publish("cards", "--post", "a", "--layout", "text", cwd=site.root)
    assert result.returncode == 0, result.stderr
    assert "layout text" in result.stdout
    cards = sorted(p.name for p in (site.root / "public" / "og").glob("*.jpg"))
    assert len(cards) == 1 and cards[0].startswith("a.")
    missing = publish("cards", "--post", "zzz", cwd=site.root)
    assert missing.returncode == 2
    assert "no post with id 'zzz'" in missing.stderr


NOW = ("--now", "2024-01-05T12:00:00Z")


def test_publish_announces_to_the_outbox_once(site: Site) -> None:
    site.config(
        site.config_path.read_text()
        + "announce:\n  targets:\n    - kind: outbox\n      path: outbox.jsonl\n      backfill: 2\n"
    )
    for day in (1, 2, 3):
        site.post(f"p{day}", f"title: Post {day}\ndate: 2024-01-0{day}")
    dry = publish("--dry-run", *NOW, cwd=site.root)
    assert dry.returncode == 0, dry.stderr
    assert "outbox: p3: new -> would_send" in dry.stdout
    assert '"post_id": "p3"' in dry.stdout
    assert not (site.root / "outbox.jsonl").exists()
    first = publish(*NOW, cwd=site.root)
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in (site.root / "outbox.jsonl").read_text().splitlines()]
    assert sorted(line["post_id"] for line in lines) == ["p2", "p3"]
    second = publish("--json", *NOW, cwd=site.root)
    assert second.returncode == 0
    assert json.loads(second.stdout)["announce"]["sent"] == 0
    assert len((site.root / "outbox.jsonl").read_text().splitlines()) == 2
    site.post("p4", "title: Post 4\ndate: 2024-01-04")
    third = publish("announce", *NOW, cwd=site.root)
    assert third.returncode == 0, third.stderr
    assert "outbox: p4: new -> sent" in third.stderr
    listed = publish("state", "list", cwd=site.root)
    assert "outbox\tp4\tsent" in listed.stdout


def test_detailed_exit_codes_tell_nothing_to_do_from_done(site: Site) -> None:
    site.post("a", "title: A\ndate: 2024-01-02")
    assert publish("--detailed-exit-codes", cwd=site.root).returncode == 0
    again = publish("--detailed-exit-codes", cwd=site.root)
    assert again.returncode == 5, again.stderr
    assert publish(cwd=site.root).returncode == 0
    site.post("b", "title: B\ndate: 2024-01-03")
    assert publish("--detailed-exit-codes", cwd=site.root).returncode == 0


def test_an_in_process_run_leaves_nothing_behind(site: Site) -> None:
    """What tests/cli_run.py puts back: each would otherwise change the next run."""
    from publisher.announce.redact import registered

    site.config(
        site.config_path.read_text()
        + "announce:\n  targets:\n    - kind: slack\n      url: ${HOOK_URL}\n"
    )
    site.post("a", "title: A\ndate: 2024-01-02")
    hook = "https://hooks.example.org/services/T0KEN-in-process-42"
    folder, environ, argv = Path.cwd(), dict(os.environ), sys.argv[:]
    handlers = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)]
    loggers, secrets = logging.root.handlers[:], registered()
    env = {"HOOK_URL": hook, "GITHUB_ACTIONS": "true", "CI": "true"}
    config = ("--config", str(site.config_path))
    ran = publish("announce", "--dry-run", "--json", *config, *NOW, cwd=site.posts, env=env)
    assert ran.returncode == 0, ran.stderr
    assert f"::add-mask::{hook}" in ran.stderr  # the run did register the secret
    assert hook not in ran.stdout
    assert registered() == secrets
    assert (Path.cwd(), dict(os.environ), sys.argv) == (folder, environ, argv)
    assert [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)] == handlers
    assert logging.root.handlers == loggers
    # Nothing of the first run's environment reaches the next one.
    again = publish("announce", "--dry-run", *config, *NOW, cwd=site.posts, env={"HOOK_URL": hook})
    assert again.returncode == 0, again.stderr
    assert "::add-mask::" not in again.stderr


def _build(*, failed: bool = False, changed: bool = False) -> BuildResult:
    from publisher.errors import Problem
    from publisher.output import Write
    from publisher.posts import ReadResult

    problem = Problem(file="posts/x/index.md", field="date", message="bad", fix=None)
    return BuildResult(
        read=ReadResult(posts=(), problems=(problem,) if failed else (), files=int(failed)),
        published=(),
        drafts=(),
        scheduled=(),
        writes=(Write(path="rss.xml", status="changed" if changed else "unchanged", bytes=1),),
    )


def _announced(*results: str, baseline: bool = False, interrupted: int | None = None) -> Any:
    from publisher.announce import AnnounceReport, Decision, TargetRun

    decisions = tuple(
        Decision(post_id=f"p{i}", target="t", kind="outbox", reason="new", result=r)  # type: ignore[arg-type]
        for i, r in enumerate(results)
    )
    target = TargetRun(name="t", kind="outbox", seconds=0.0, baseline=baseline)
    return AnnounceReport(
        dry_run=False,
        decisions=decisions,
        targets=(target,),
        wall_seconds=0.0,
        interrupted=interrupted,
    )


@pytest.mark.parametrize(
    ("build", "announced", "detailed", "code"),
    [
        (_build(changed=True), None, False, report.EXIT_OK),
        (_build(), None, False, report.EXIT_OK),
        (_build(), None, True, report.EXIT_NOTHING_TO_DO),
        (_build(changed=True), None, True, report.EXIT_OK),
        (_build(failed=True), None, True, report.EXIT_POSTS_SKIPPED),
        (_build(), _announced("skipped"), True, report.EXIT_NOTHING_TO_DO),
        (_build(), _announced("sent"), True, report.EXIT_OK),
        (_build(), _announced("skipped", baseline=True), True, report.EXIT_OK),
        (_build(), _announced("sent", "failed"), False, report.EXIT_ANNOUNCE_FAILED),
        (_build(), _announced("in_doubt"), True, report.EXIT_ANNOUNCE_FAILED),
        (_build(failed=True), _announced("failed"), False, report.EXIT_POSTS_SKIPPED),
        (_build(), _announced("sent", interrupted=15), False, 143),
    ],
)
def test_a_library_caller_gets_the_exit_code_the_command_gives(
    build: BuildResult, announced: Any, detailed: bool, code: int
) -> None:
    assert report.build_exit_code(build, announced, detailed=detailed) == code
    # A dry run never says "nothing to do": it did nothing on purpose.
    dry = report.build_exit_code(build, announced, detailed=detailed, dry_run=True)
    assert dry == (report.EXIT_OK if code == report.EXIT_NOTHING_TO_DO else code)
    if not build.failed and not build.changed:  # `publish announce` decides as the rest did
        assert report.announce_exit_code(announced, detailed=detailed) == code


def test_each_in_process_run_reads_the_files_afresh(site: Site) -> None:
    """A template cached by its path in one run must not stand in for the edited file."""
    site.config(
        site.config_path.read_text()
        + "announce:\n  targets:\n    - kind: outbox\n      path: o.jsonl\n"
        + "      template: mine.j2\n"
    )
    site.post("a", "title: A\ndate: 2024-01-02")
    template = site.root / "mine.j2"
    seen = []
    for word in ("first", "second"):
        template.write_text(word + " {{ title }}\n", encoding="utf-8")
        ran = publish("announce", "--dry-run", "--backfill", "1", *NOW, cwd=site.root)
        assert ran.returncode == 0, ran.stderr
        seen.append([line.strip() for line in ran.stdout.splitlines() if "{" not in line])
    assert "first A" in seen[0] and "second A" in seen[1], seen
