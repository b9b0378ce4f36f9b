"""Every CLI command and option, every config key and every exit code is in the README."""

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


def test_every_command_is_documented() -> None:
    assert isinstance(cli.cli, click.Group)
    for name in cli.cli.commands:
        assert f"`publish {name}`" in README or f"`publish {name} " in README, name


def test_every_option_is_documented() -> None:
    commands: list[click.Command] = [cli.cli, *cli.cli.commands.values()]
    for command in commands:
        for param in command.params:
            for opt in param.opts:
                assert f"`{opt}" in README or f"{opt}`" in README, f"{command.name}: {opt}"


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
