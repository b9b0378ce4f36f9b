"""Fitting in: the example fallback only in an empty folder, -V, shell completion, one
field name per message, `--backfill` where it belongs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, Site
from publisher import __version__
from publisher.errors import Problem


def publish(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **env},
    )


# -- the example fallback --------------------------------------------------------------


def test_the_example_site_runs_in_an_empty_folder(tmp_path: Path) -> None:
    done = publish("build", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "public" / "posts.json").is_file()


def test_the_example_site_runs_again_where_it_ran_and_then_does_nothing(tmp_path: Path) -> None:
    first = publish("--detailed-exit-codes", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = publish("--detailed-exit-codes", cwd=tmp_path)
    assert again.returncode == 5, again.stderr  # nothing written, nothing sent
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    mixed = publish(cwd=tmp_path)
    assert mixed.returncode == 2 and "runs only in an empty folder" in mixed.stderr


def test_a_folder_with_files_but_no_config_gets_a_message_not_the_example(
    tmp_path: Path,
) -> None:
    """Run in a site's folder without its config: nothing of the example lands there."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    done = publish("build", cwd=tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line == (
        f"error: no config.yaml in {tmp_path}: run `publish init` in your site's repository to "
        "write one, or create a config.yaml (see the README's Config reference), or pass "
        "--config FILE. The built-in example site runs only in an empty folder"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    # $PUBLISHER_CONFIG and --config still work from that folder.
    config = tmp_path / "site.yaml"
    config.write_text("site:\n  title: T\n  url: https://blog.example.org\n", encoding="utf-8")
    assert publish("check", "-q", cwd=tmp_path, PUBLISHER_CONFIG=str(config)).returncode == 0
    assert publish("check", "-q", "--config", str(config), cwd=tmp_path).returncode == 0


# -- small things -------------------------------------------------------------------------


def test_short_and_long_version_flags(tmp_path: Path) -> None:
    for flag in ("-V", "--version"):
        done = publish(flag, cwd=tmp_path)
        assert done.returncode == 0 and done.stdout == f"publish, version {__version__}\n"


def test_documented_shell_completion_completes_commands(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert 'eval "$(_PUBLISH_COMPLETE=bash_source publish)"' in readme
    script = Path(sys.executable).parent / "publish"  # the variable is named after the command
    if not script.exists():
        pytest.skip("the publish console script is not installed beside this Python")

    def run(**env: str) -> str:
        done = subprocess.run(
            [str(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **env},
            check=True,
        )
        return done.stdout

    assert "complete -o nosort -F _publish_completion publish" in run(
        _PUBLISH_COMPLETE="bash_source"
    )
    words = run(_PUBLISH_COMPLETE="bash_complete", COMP_WORDS="publish st", COMP_CWORD="1")
    assert "plain,state" in words.splitlines()
    assert list(tmp_path.iterdir()) == []  # completing ran nothing


def test_backfill_before_another_command_says_where_it_goes(tmp_path: Path) -> None:
    done = publish("--backfill", "3", "announce", cwd=tmp_path)
    assert done.returncode == 2
    assert "--backfill goes after the command: publish announce --backfill N" in done.stderr


def test_a_message_naming_its_field_does_not_name_it_twice() -> None:
    problem = Problem(
        file="posts/a/index.md",
        field="ogImage",
        message="ogImage 'x.png' is not an image format that can be read",
        fix="save it as PNG",
    )
    assert str(problem) == (
        "posts/a/index.md: ogImage 'x.png' is not an image format that can be read; save it as PNG"
    )
    plain = Problem(file="f", field="date", message="'x' is not a date")
    assert str(plain) == "f: date 'x' is not a date"


def test_an_unreadable_og_image_is_reported_with_one_field_name(site: Site) -> None:
    site.post("2024-01-02-a", "title: A\ndate: 2024-01-02\nogImage: x.png", "Body.\n")
    site.file("2024-01-02-a/x.png", b"this is not a PNG\n")
    done = publish("build", cwd=site.root)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "x.png" in line]
    assert lines and all("ogImage ogImage" not in line for line in lines), lines
    assert "index.md: ogImage 'x.png' is not in a supported format" in lines[0]
