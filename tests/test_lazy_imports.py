"""What the CLI imports: `--version` and `--help` load almost nothing, a build with
announcements off loads nothing of announce/, preview/ or automation/.

Each check runs in a fresh interpreter and reads ``sys.modules`` (import work counted,
not timed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

from conftest import Site
from publisher import cli

_PROBE = textwrap.dedent(
    """
    import json, sys
    sys.argv = ["publish", *json.loads(sys.argv[1])]
    from publisher.cli import main
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
    """
)

#: Packages a build with announcements off must not load.
NOT_FOR_A_BUILD = ("publisher.announce", "publisher.preview", "publisher.automation")


def _modules(args: list[str], cwd: Path) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return data["code"], data["modules"]


def _ours(modules: list[str], *packages: str) -> list[str]:
    return [m for m in modules if m.split(".")[0] in packages or m.startswith(packages)]


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["build", "--help"]])
def test_version_and_help_load_only_the_cli(args: list[str], tmp_path: Path) -> None:
    code, modules = _modules(args, tmp_path)
    assert code == 0
    # The CLI package's modules define the commands and import their work when run;
    # publisher.progress imports click alone (the CLI's own dependency), publisher.report
    # nothing at all; publisher.lazy (errors.py's patterns, compiled on first use) only
    # what errors.py imports already.
    commands = (
        "announce",
        "build",
        "building",
        "cards",
        "check",
        "console",
        "entry",
        "init",
        "options",
    )
    assert _ours(modules, "publisher") == [
        "publisher",
        "publisher.cli",
        *(f"publisher.cli.{name}" for name in (*commands, "site", "state")),
        "publisher.dataclass",  # the options' and errors' classes (not dataclasses: inspect)
        "publisher.dataclass_inits",  # their __init__, compiled already
        "publisher.dataclass_methods",
        "publisher.errors",
        # `build` may be a build with nothing to do: its parser alone, not its checks
        *(["publisher.fastpath"] if "build" in args else []),
        "publisher.lazy",
        "publisher.progress",
        "publisher.report",
    ]
    heavy = ("yaml", "lxml", "PIL", "requests", "feedgen", "nh3", "cmarkgfm", "jinja2")
    assert _ours(modules, *heavy) == []


def test_a_build_without_announcements_loads_no_announce_preview_or_automation(
    site: Site,
) -> None:
    site.post("hello", "title: Hello\ndate: 2024-01-02", "Hello *world*.\n")
    code, modules = _modules(["build"], site.root)
    assert code == 0
    assert (site.root / "public" / "rss.xml").is_file()  # the build did run
    assert _ours(modules, *NOT_FOR_A_BUILD) == []
    assert "requests" not in modules  # only a WebSub ping needs it


def test_publish_with_a_target_does_load_announce(site: Site) -> None:
    # The probe can see an import: the same run with the announce stage loads it.
    site.post("hello", "title: Hello\ndate: 2024-01-02", "Hello *world*.\n")
    code, modules = _modules(["--dry-run"], site.root)
    assert code in (0, 5)
    assert "publisher.announcing" in modules


def test_lazy_commands_list_their_own_help() -> None:
    group = cli.cli
    ctx = click.Context(group)
    for name, (_, _, first_line) in cli.LAZY_COMMANDS.items():
        command = group.get_command(ctx, name)
        assert command is not None
        assert command.help is not None
        assert command.help.strip().splitlines()[0] == first_line, name


def test_every_shipped_layout_loads_without_a_problem() -> None:
    # cards/options.py takes a shipped layout as valid without reading it at each config
    # load: this is what makes that safe.
    from publisher.cards.layout import available, load_layouts
    from publisher.resources import templates

    shipped = (templates() / "cards",)
    names = tuple(available(shipped))
    assert names
    _, problems = load_layouts(names, shipped)
    assert problems == []


def test_loading_a_config_with_a_shipped_layout_loads_no_card_module(site: Site) -> None:
    probe = textwrap.dedent(
        """
        import json, sys
        from pathlib import Path
        from publisher.config import load_config
        load_config(Path("config.yaml"))
        print(json.dumps(sorted(sys.modules)))
        """
    )
    # Unmeasured: coverage, when it runs, loads its own modules (socket among them) first.
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=site.root,
        env={**os.environ, "COVERAGE_PROCESS_CONFIG": ""},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    cards = [m for m in modules if m.startswith("publisher.cards.")]
    assert cards == [
        "publisher.cards.fallbacks",
        "publisher.cards.option_files",
        "publisher.cards.option_schema",
        "publisher.cards.options",
    ]
    assert _ours(modules, "PIL", "fontTools", "socket") == []
