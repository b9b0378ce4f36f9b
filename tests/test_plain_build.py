"""A plain ``publish build`` that found a change runs without click (cli/plain.py), and says
and writes exactly what the click command says and writes.

Two copies of one site get the same changes; one is built through the console entry point
(``publisher.cli.main``: the fast path, then the plain build), the other through click
(``publisher.cli.entry.main``, which never takes either). Their exit codes, stdout, stderr
(timings aside) and output files must be the same, and the plain build must have run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cli_run
import pytest

from conftest import tree_bytes
from publisher import build as build_module
from publisher import cli, fastpath, snapshot
from publisher.cli import entry, plain
from publisher.errors import ConfigError, OutputError

CONFIG = """\
site: {title: T, url: 'https://blog.example.org', timezone: UTC}
posts: {folder: posts}
output: {folder: public}
state: {folder: state}
cards: {enabled: false}
"""
TIMES = re.compile(r"\d+\.\d+ s\b")


def _post(root: Path, name: str, front: str, body: str) -> None:
    folder = root / "posts" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.md").write_text(f"---\n{front}\n---\n{body}", encoding="utf-8")


def _site(root: Path) -> Path:
    root.mkdir()
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for i in range(3):
        _post(
            root, f"p{i}", f"title: Post {i}\ndate: 2024-01-0{i + 1}\ntags: [t{i}]", f"Body {i}.\n"
        )
    return root


def _run(
    call: Callable[[], Any], args: tuple[str, ...], cwd: Path, extra: dict[str, str] | None = None
) -> tuple[Any, str, str]:
    env = {"PATH": os.environ.get("PATH", ""), **(extra or {})}
    ran = cli_run.run_entry(call, args, cwd=cwd, env=env)  # stderr a UTF-8 stream, as a terminal's
    return ran.returncode, ran.stdout, TIMES.sub("X s", ran.stderr)


class Pair:
    """The same site twice: ``lean`` built through publisher.cli.main, ``click`` through
    cli/entry.py."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lean = _site(tmp_path / "lean")
        self.click = _site(tmp_path / "click")
        self.plain_runs = 0
        real = plain.main

        def counted(parsed: dict[str, Any]) -> int:
            self.plain_runs += 1
            return real(parsed)

        monkeypatch.setattr(plain, "main", counted)
        for root in (self.lean, self.click):
            assert _run(entry.main, ("build",), root)[0] == 0

    def change(self, how: Callable[[Path], object]) -> None:
        for root in (self.lean, self.click):
            how(root)

    def build(
        self, *args: str, plain_expected: bool = True, env: dict[str, str] | None = None
    ) -> tuple[Any, str, str]:
        before = self.plain_runs
        lean = _run(cli.main, args, self.lean, env)
        slow = _run(entry.main, args, self.click, env)
        assert lean == slow
        assert tree_bytes(self.lean / "public") == tree_bytes(self.click / "public")
        assert self.plain_runs == before + plain_expected
        assert fastpath.handed is None and fastpath.plain is None
        return lean


@pytest.fixture(autouse=True)
def _no_recent_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # Files here were written a moment ago; with the window at 0 their stat decides, and
    # the config file counts as old enough for the record's fast section.
    monkeypatch.setattr(snapshot, "RECENT_NS", 0)


@pytest.fixture
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Pair:
    return Pair(tmp_path, monkeypatch)


def _edit(root: Path) -> None:
    _post(root, "p1", "title: Post 1\ndate: 2024-01-02\ntags: [t1]", "Body 1, edited.\n")


@pytest.mark.parametrize(
    "args",
    [
        ("build",),
        ("build", "-q"),
        ("build", "-v"),
        ("-vv", "build", "--jobs", "1"),
        ("build", "--jobs=2", "-qv"),
        ("build", "--detailed-exit-codes"),
        ("--config", "config.yaml", "build"),
    ],
)
def test_a_post_edited_is_built_as_click_builds_it(pair: Pair, args: tuple[str, ...]) -> None:
    pair.change(_edit)
    code, _, stderr = pair.build(*args)
    assert code == 0
    assert ("wrote public/rss.xml" in stderr) == ("-q" not in args and "-qv" not in args)
    code, _, stderr = pair.build(*args, plain_expected=False)  # then: nothing to do
    assert code == (5 if "--detailed-exit-codes" in args else 0)


def test_posts_added_removed_with_problems_and_outputs_deleted(pair: Pair) -> None:
    pair.change(lambda r: _post(r, "bad", "title: Bad\ndate: next tuesday", "x\n"))
    pair.change(lambda r: _post(r, "warn", "title: W\ndate: 2024-02-01\nogImage: no.png", "x\n"))
    code, _, stderr = pair.build("build")
    assert code == 3 and "bad/index.md" in stderr and "warning" in stderr
    code, _, stderr = pair.build("build", "-q", "--detailed-exit-codes", plain_expected=False)
    assert code == 3 and "warning" not in stderr  # answered by the fast path: no change
    pair.change(lambda r: shutil.rmtree(r / "posts" / "bad"))
    pair.change(lambda r: (r / "public" / "rss.xml").unlink())
    code, _, stderr = pair.build("build", "-v")
    assert code == 0 and "wrote public/rss.xml" in stderr
    pair.change(lambda r: shutil.rmtree(r / "posts" / "p2"))
    assert pair.build("build")[0] == 0


def _write_config(text: str) -> Callable[[Path], object]:
    return lambda root: (root / "config.yaml").write_text(text, encoding="utf-8")


def _posts_elsewhere(root: Path) -> None:
    # The config's text is the same; the folder it names resolves elsewhere now.
    shutil.copytree(root / "posts", root / "real-posts")
    shutil.rmtree(root / "posts")
    (root / "posts").symlink_to(root / "real-posts", target_is_directory=True)


def _outputs_record_damaged(root: Path) -> None:
    # The fast path fails after vouching for the config: the CLI's check decides.
    path = root / "state" / "inputs.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    # Sealed again (as a writer with a bug would seal it): the damage is in its meaning.
    path.write_text(json.dumps(snapshot.seal({**data, "outputs": 7})), encoding="utf-8")


#: Config changes, each with the environment the builds after it run in.
CONFIG_CHANGES: dict[str, tuple[Callable[[Path], object], dict[str, str]]] = {
    "text": (_write_config(CONFIG.replace("T,", "U,")), {}),
    "state-folder": (_write_config(CONFIG.replace("folder: state", "folder: moved")), {}),
    "variable-named": (_write_config(CONFIG.replace("title: T", "title: '${T}'")), {"T": "a"}),
    "posts-folder-relinked": (_posts_elsewhere, {}),
    "record-damaged": (_outputs_record_damaged, {}),
}


@pytest.mark.parametrize("change", list(CONFIG_CHANGES))
def test_a_config_not_vouched_for_is_loaded_as_click_loads_it(
    pair: Pair, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed: list[bool] = []
    real = plain.run_build

    def noting(*args: Any, **kwargs: Any) -> int:
        handed.append(fastpath.handed is not None)  # the fast path's stat pass, to reuse
        return real(*args, **kwargs)

    monkeypatch.setattr(plain, "run_build", noting)
    how, env = CONFIG_CHANGES[change]
    pair.change(how)
    pair.change(_edit)
    assert pair.build("build", env=env)[0] == 0
    pair.change(_edit)
    assert pair.build("build", env=env)[0] == 0
    if env:  # the variable's value is part of the config
        pair.change(_edit)
        assert pair.build("build", env={"T": "b"})[0] == 0
    # Only a config the fast path vouches for hands its stat pass over: not the changed
    # one, then the new config's record (a damaged record is vouched for, then fails).
    assert handed == [change == "record-damaged", True, *([False] if env else [])]


def test_a_first_build_and_config_mistakes_are_as_clicks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No record yet, a config that is not YAML, one that names no folder, a --config
    that is not there, no config at all: the plain build says what click says."""
    runs: list[dict[str, Any]] = []
    real = plain.main
    monkeypatch.setattr(plain, "main", lambda parsed: runs.append(parsed) or real(parsed))
    for name in ("lean", "click"):
        _site(tmp_path / name)

    def both(*args: str, cwd: str = "", expect: int | None = None) -> str:
        def run(call: Callable[[], Any], name: str) -> tuple[Any, str, str]:
            code, out, err = _run(call, args, tmp_path / name / cwd)
            return code, out, err.replace(str(tmp_path / name), "SITE")  # its own folder

        lean, slow = run(cli.main, "lean"), run(entry.main, "click")
        assert lean == slow
        assert expect is None or lean[0] == expect, lean
        return str(lean[2])

    assert "wrote public/rss.xml" in both("build", expect=0)  # cold: no record yet
    for name in ("lean", "click"):
        (tmp_path / name / "bad.yaml").write_text("site: [", encoding="utf-8")
        (tmp_path / name / "odd.yaml").write_text(CONFIG.replace("posts}", "gone}"))
        (tmp_path / name / "empty").mkdir()
        (tmp_path / name / "other").mkdir()
        (tmp_path / name / "other" / "notes.txt").write_text("mine", encoding="utf-8")
    assert "not valid YAML" in both("build", "--config", "bad.yaml", expect=2)
    assert "config error" in both("build", "--config=odd.yaml", expect=2)
    assert "no such file" in both("build", "--config", "absent.yaml", expect=2)
    assert "no config.yaml" in both("build", cwd="other", expect=2)
    assert "built-in example site" in both("build", "-v", cwd="empty")
    assert len(runs) == 6  # each through the plain build


def _fails_with(error: BaseException) -> Callable[..., Any]:
    def build_site(*args: Any, **kwargs: Any) -> Any:
        raise error

    return build_site


@pytest.mark.parametrize(
    "error",
    [
        ConfigError(["posts.folder: gone; put it back", "site.url: no"]),
        OutputError("public/rss.xml: cannot be written (disk full); free some space"),
        KeyboardInterrupt(),
    ],
    ids=["config", "output", "interrupt"],
)
def test_errors_give_clicks_lines_and_exit_codes(
    pair: Pair, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    monkeypatch.setattr(build_module, "build_site", _fails_with(error))
    pair.change(_edit)
    code, _, stderr = pair.build("build")
    assert code in (2, 130) and stderr.strip()


def test_a_broken_pipe_is_exit_1(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    error = BrokenPipeError(32, "Broken pipe")
    monkeypatch.setattr(build_module, "build_site", _fails_with(error))
    pair.change(_edit)
    with contextlib.ExitStack() as undo:
        # Both entries swap the streams for quiet ones: put them back afterwards.
        undo.enter_context(contextlib.redirect_stdout(sys.stdout))
        undo.enter_context(contextlib.redirect_stderr(sys.stderr))
        assert pair.build("build")[0] == 1


def test_a_one_post_build_imports_no_click(tmp_path: Path) -> None:
    """Which modules a one-post build loads, read in a fresh interpreter (unmeasured by
    coverage, whose own imports would count): an import creeping back fails here."""
    root = _site(tmp_path / "site")
    probe = textwrap.dedent(
        """
        import json, sys
        sys.argv = ["publish", "build"]
        from publisher.cli import main
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
        """
    )
    env = {**os.environ, "COVERAGE_PROCESS_CONFIG": ""}

    def run() -> tuple[int, list[str], str]:
        import json

        done = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        data = json.loads(done.stdout.strip().splitlines()[-1])
        return data["code"], data["modules"], done.stderr

    _age(root)
    assert run()[0] == 0  # cold, through click (no record yet)
    _age(root)
    _post(root, "p1", "title: Post 1\ndate: 2024-01-02\ntags: [t1]", "Body 1, [edited](x).\n")
    _age(root)
    code, modules, stderr = run()
    assert code == 0 and "wrote public/rss.xml" in stderr, stderr
    assert "publisher.cli.plain" in modules  # the plain build ran...
    loaded = [m for m in modules if m.split(".")[0] in NOT_FOR_ONE_POST or m in NOT_FOR_ONE_POST]
    assert loaded == []  # ...and loaded none of these


#: What a build of one changed post must not load (each was loaded once, for nothing).
NOT_FOR_ONE_POST = (
    "click",
    "importlib.metadata",
    "concurrent.futures.process",
    "multiprocessing",
    "tomllib",  # a generator's config files only
    "PIL",  # cards are off
    "jinja2",
    "requests",
    "publisher.cli.entry",
    "publisher.cli.announce",
    "publisher.announce",
    "publisher.preview",
    "publisher.automation",
)


def _age(root: Path) -> None:
    """Every file a minute older: past the 2-second window in which a stat is not trusted
    (these runs are fresh processes, without the fixture's window of 0)."""
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 60 * 10**9))


def test_the_plain_build_reads_the_record_once(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher import inputs

    parsed: list[int] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(json, name)

        def loads(self, text: str) -> Any:
            parsed.append(len(text))
            return json.loads(text)

    monkeypatch.setattr(inputs, "json", Counting())
    pair.change(_edit)
    pair.build("build")
    assert len(parsed) == 1  # the click build's: the plain one takes the fast path's
    assert fastpath.record is None
