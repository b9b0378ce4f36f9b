"""Every command and option at every level, every config key and every exit code is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from conftest import REPO
from publisher import cli
from publisher.announce import kinds
from publisher.config import ConfigError, parse_config

README = (REPO / "README.md").read_text(encoding="utf-8")


DOCS = {
    path.relative_to(REPO).as_posix(): path.read_text(encoding="utf-8")
    for path in (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))
}


def every_command() -> list[tuple[str, click.Command]]:
    """(`publish automation save`, its command) for the root and every command below it,
    asked through click's own listing so lazily imported groups are walked too."""
    found: list[tuple[str, click.Command]] = []

    def walk(command: click.Command, name: str, parent: click.Context | None) -> None:
        found.append((name, command))
        if isinstance(command, click.Group):
            ctx = click.Context(command, info_name=name.split()[-1], parent=parent)
            for sub in command.list_commands(ctx):
                child = command.get_command(ctx, sub)
                assert child is not None, f"{name} lists {sub} but cannot load it"
                walk(child, f"{name} {sub}", ctx)

    walk(cli.cli, "publish", None)
    return found


def sections(text: str) -> list[str]:
    """A page cut at its headings."""
    return re.split(r"^(?=#{1,6} )", text, flags=re.MULTILINE)


def sections_naming(name: str) -> list[str]:
    """Each section of the README and docs/*.md that names the command in code
    (`publish x y` or `publish x y ...`): where its options must be explained."""
    return [
        section
        for text in DOCS.values()
        for section in sections(text)
        if f"`{name}`" in section or f"`{name} " in section
    ]


def test_the_walk_reaches_every_level() -> None:
    """Guards the walk itself: a nested group and its subcommands are in it."""
    names = {name for name, _ in every_command()}
    assert {"publish", "publish build", "publish state list"} <= names
    assert {"publish automation restore", "publish automation save"} <= names
    assert {"publish automation summary", "publish preview"} <= names


@pytest.mark.parametrize("name", [name for name, _ in every_command()])
def test_every_command_is_documented(name: str) -> None:
    assert sections_naming(name), f"{name}: named in no section of the README or docs/*.md"


@pytest.mark.parametrize("name, command", every_command())
def test_every_option_of_every_command_is_documented(name: str, command: click.Command) -> None:
    """Every option, at every level, in a section of the README or docs that names the
    command: a `--config` explained for `publish` does not document another command's."""
    named = sections_naming(name)
    options = [opt for param in command.params for opt in [*param.opts, *param.secondary_opts]]
    missing = [
        opt
        for opt in options
        if opt.startswith("-")  # not an argument: those are in the usage line
        and not any(f"`{opt}" in text or f"{opt}`" in text for text in named)
    ]
    assert not missing, f"{name}: no section of the docs that names it explains {missing}"


def known_keys(section: str) -> set[str]:
    """Ask the validator itself which keys a section accepts (from its 'known keys' hint)."""
    data: dict[str, object] = {"site": {"title": "T", "url": "https://x.org"}}
    data[section] = {**(data.get(section) or {}), "zzzqqq": 1}  # type: ignore[dict-item]
    with pytest.raises(ConfigError) as caught:
        parse_config(data, Path("/x/config.yaml"))
    (line,) = [p for p in caught.value.problems if "zzzqqq" in p]
    return set(re.search(r"known keys: (.*)$", line).group(1).split(", "))  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "section", ["site", "posts", "output", "state", "feeds", "cards", "announce"]
)
def test_every_config_key_is_documented(section: str) -> None:
    """In the README's table, or in the section's own page docs/<section>.md."""
    page = REPO / "docs" / f"{section}.md"
    own = page.read_text(encoding="utf-8") if page.is_file() else ""
    for key in known_keys(section):
        text = README + own
        documented = (
            f"`{section}.{key}`" in text  # a key
            or f"`{section}.{key}." in text  # a mapping documented key by key
            or f"| `{key}` |" in own
        )
        assert documented, f"{section}.{key}"


def test_every_target_kind_is_in_the_readme() -> None:
    for kind in kinds():
        assert f"`{kind}`" in README, kind


def test_every_exit_code_is_documented() -> None:
    codes = {v for k, v in vars(cli).items() if k.startswith("EXIT_")}
    for code in codes:
        assert re.search(rf"^\| {code} \|", README, re.MULTILINE), code


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run is the README's test command, step by step (pip may be told to be quiet)."""
    block = re.search(r"Install the test extras.*?```sh\n(.*?)\n```", README, re.DOTALL)
    assert block, "README.md: the test command's ```sh block after 'Install the test extras'"
    steps = [step.strip() for step in block.group(1).split("&&")]
    assert steps[-1].startswith("python -m pytest --cov -n auto"), steps[-1]
    ci = [line.replace(" --quiet", "") for line in (REPO / ".ci" / "run").read_text().splitlines()]
    missing = [step for step in steps if step not in ci]
    assert not missing, f".ci/run does not run these README steps as lines: {missing}"
