"""The no-op fast path (publisher/fastpath.py) answers exactly as the CLI would, or not at all.

Each case runs the fast path and then the normal CLI (``publisher.cli.entry.main``, which
never takes the fast path) on the same site: when the fast path answers, the CLI must find
nothing changed and print the same lines with the same exit code; after any change the
fast path must leave the answer to the CLI. Runs are in this process (the 2-second
"recent" window set to 0, so that folders and files are judged by their stat at once),
except where imports are counted or publisher's own code is edited.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
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

from conftest import Site, tree_bytes
from publisher import fastpath, loadtrail, secret, snapshot
from publisher.cli import entry

CONFIG = """\
site: {title: T, url: 'https://blog.example.org', timezone: UTC}
posts: {folder: posts}
output: {folder: public}
state: {folder: state}
cards: {enabled: false}
"""
POST = "title: Post {i}\ndate: 2024-01-{day:02d}\ntags: [t{i}]"
CHECKED = re.compile(r"checked in \d+\.\d\d s")


class Ran:
    def __init__(self, code: int | None, stdout: str, stderr: str) -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = CHECKED.sub("checked in X s", stderr)

    @property
    def noop(self) -> bool:
        return "nothing changed since the last build" in self.stderr


def _run(
    call: Callable[[], int | None], args: tuple[str, ...], cwd: Path, env: dict[str, str]
) -> Ran:
    # A UTF-8 stream, as a terminal or a CI log is (a StringIO has no encoding: the fast
    # path leaves such a stream to click).
    # What the call returns is kept as it is: None is the fast path declining.
    returned: list[int | None] = []
    ran = cli_run.run_entry(lambda: returned.append(call()), args, cwd=cwd, env=env)
    return Ran(returned[0] if returned else ran.returncode, ran.stdout, ran.stderr)


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), **(extra or {})}


def fast(site: Site, *args: str, env: dict[str, str] | None = None) -> Ran:
    """The fast path alone: code None when it leaves the run to the CLI."""
    return _run(lambda: fastpath.run(["build", *args]), args, site.root, _env(env))


def slow(site: Site, *args: str, env: dict[str, str] | None = None) -> Ran:
    """The CLI without the fast path."""
    return _run(entry.main, ("build", *args), site.root, _env(env))


def agree(site: Site, *args: str, env: dict[str, str] | None = None) -> Ran:
    """Run the fast path, then the CLI; when the fast path answered, the two must match."""
    quick = fast(site, *args, env=env)
    if quick.code is not None:
        # The fast path said "nothing changed": so does the CLI (asked without -q, which
        # would hide its saying so), and then prints what the fast path printed.
        loud = [a for a in args if a not in ("-q", "-qv")]
        assert slow(site, *loud, env=env).noop
    normal = slow(site, *args, env=env)
    if quick.code is not None:
        assert (quick.code, quick.stdout, quick.stderr) == (
            normal.code,
            normal.stdout,
            normal.stderr,
        )
    else:
        assert quick.stdout == quick.stderr == ""  # a fall-through prints nothing
    return quick


@pytest.fixture(autouse=True)
def _no_recent_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # Files and folders here were written a moment ago; a real site's are older. With the
    # window at 0 the stat alone decides, the hard case for the fast path.
    monkeypatch.setattr(snapshot, "RECENT_NS", 0)


@pytest.fixture
def built(site: Site) -> Site:
    site.config(CONFIG)
    for i in range(3):
        site.post(f"p{i}", POST.format(i=i, day=i + 1), f"Body {i}.\n")
    site.file("p0/cover.png", b"not really a png")
    first = slow(site)
    assert first.code == 0 and not first.noop, first.stderr
    assert json.loads((site.root / "state" / "inputs.json").read_text())["fast"]
    return site


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ((), 0),
        (("-q",), 0),
        (("-v",), 0),
        (("-vv", "--jobs", "2"), 0),
        (("--jobs=1", "-qv"), 0),
        (("--detailed-exit-codes",), 5),
        (("--config", "config.yaml"), 0),
    ],
)
def test_nothing_changed_is_answered_as_the_cli_answers(
    built: Site, args: tuple[str, ...], code: int
) -> None:
    ran = agree(built, *args)
    assert ran.code == code
    assert ran.noop == ("-q" not in args and "-qv" not in args)


def test_options_before_the_command_count_too(built: Site) -> None:
    quick = _run(lambda: fastpath.run(["-q", "build"]), (), built.root, _env())
    normal = _run(entry.main, ("-q", "build"), built.root, _env())
    assert quick.code == normal.code == 0
    assert quick.stderr == normal.stderr == ""


def test_problems_and_skipped_posts_are_reported_again(built: Site) -> None:
    built.post("bad", "title: Bad\ndate: next tuesday", "x\n")
    built.post("warn", "title: Warn\ndate: 2024-02-01\nogImage: missing.png", "x\n")
    assert slow(built).code == 3
    for args in ((), ("-q",), ("--detailed-exit-codes",)):
        ran = agree(built, *args)
        assert ran.code == 3
        assert "bad/index.md" in ran.stderr and "date" in ran.stderr
    assert "warning" in agree(built).stderr
    assert "warning" not in agree(built, "-q").stderr  # -q keeps errors only


def test_another_config_file_and_a_block_style_state_folder(built: Site) -> None:
    other = built.root / "other.yaml"
    other.write_text(
        CONFIG.replace(
            "state: {folder: state}", "state:\n  # kept apart\n  folder: 'other-state'\n"
        ).replace("folder: public", "folder: other-public"),
        encoding="utf-8",
    )
    assert not slow(built, "--config", "other.yaml").noop
    assert agree(built, "--config", "other.yaml").code == 0
    assert agree(built, "--config", "other.yaml").code == 0
    assert agree(built).code == 0  # the first site's record is its own
    env = {"PUBLISHER_CONFIG": str(other)}
    assert agree(built, env=env).code == 0


def test_a_state_folder_outside_or_named_by_a_variable(built: Site) -> None:
    outside = CONFIG.replace("folder: state", "folder: ../outside-state")
    built.config_path.write_text(outside, encoding="utf-8")
    assert not slow(built).noop
    assert agree(built).code == 0  # found where the text says
    named = CONFIG.replace("folder: state", "folder: '${STATE_DIR}'")
    built.config_path.write_text(named, encoding="utf-8")
    env = {"STATE_DIR": "from-env"}
    assert not slow(built, env=env).noop
    assert (built.root / "from-env" / "inputs.json").is_file()
    assert fast(built, env=env).code is None  # not guessed: the CLI decides, and finds
    assert slow(built, env=env).noop


def _edit_config(site: Site) -> None:
    site.config_path.write_text(CONFIG.replace("title: T", "title: U"), encoding="utf-8")


def _rename_post(site: Site) -> None:
    (site.posts / "p2").rename(site.posts / "p7")


def _touch_image(site: Site) -> None:
    (site.posts / "p0" / "cover.png").write_bytes(b"another image")


def _add_file_deep(site: Site) -> None:
    site.file("p1/extra/note.txt", b"x")


def _delete_output(site: Site) -> None:
    (site.root / "public" / "rss.xml").unlink()


def _edit_output(site: Site) -> None:
    (site.root / "public" / "posts.json").write_text("{}", encoding="utf-8")


def _live_until_past(site: Site) -> None:
    path = site.root / "state" / "inputs.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["live_until"] = "2001-01-01T00:00:00+00:00"
    path.write_text(json.dumps(data), encoding="utf-8")


def _damage_record(site: Site) -> None:
    (site.root / "state" / "inputs.json").write_text("{not json", encoding="utf-8")


def _empty_record(site: Site) -> None:
    # What a crash may leave of a record written without fsync (inputs.py): no record.
    (site.root / "state" / "inputs.json").write_bytes(b"")


def _truncate_record(site: Site) -> None:
    path = site.root / "state" / "inputs.json"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _drop_record(site: Site) -> None:
    (site.root / "state" / "inputs.json").unlink()


def _state_elsewhere(site: Site) -> None:
    site.config_path.write_text(CONFIG.replace("folder: state", "folder: moved"), encoding="utf-8")


def _posts_link_elsewhere(site: Site) -> None:
    # The config's text is the same; the folder it names now resolves elsewhere.
    shutil.copytree(site.posts, site.root / "real-posts")
    shutil.rmtree(site.posts / "p1")
    (site.root / "real-posts" / "p1" / "index.md").write_text(
        "---\ntitle: Other\ndate: 2024-01-05\n---\nx\n", encoding="utf-8"
    )
    shutil.rmtree(site.posts)
    site.posts.symlink_to(site.root / "real-posts", target_is_directory=True)


def _relink_post(site: Site) -> None:
    # A post folder that is a link (followed, as the posts glob follows it), pointed at
    # another folder: the posts folder's own entry changes, not the post's.
    for name in ("one", "two"):
        folder = site.root / "linked" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.md").write_text(f"---\ntitle: {name}\ndate: 2024-03-01\n---\nx\n")
    link = site.posts / "linked"
    if link.is_symlink():
        target = "two" if os.readlink(link).endswith("one") else "one"
        link.unlink()
    else:
        target = "one"
    link.symlink_to(site.root / "linked" / target, target_is_directory=True)


CHANGES: dict[str, Callable[[Site], None]] = {
    "edit-post": lambda s: s.post("p1", POST.format(i=1, day=2), "Body 1, edited.\n"),
    "add-post": lambda s: s.post("p9", POST.format(i=9, day=9), "New.\n"),
    "remove-post": lambda s: (s.posts / "p2" / "index.md").unlink(),
    "remove-folder": lambda s: shutil.rmtree(s.posts / "p2"),
    "rename-post": _rename_post,
    "touch-image": _touch_image,
    "add-file-deep": _add_file_deep,
    "delete-output": _delete_output,
    "edit-output": _edit_output,
    "edit-config": _edit_config,
    "state-elsewhere": _state_elsewhere,
    "posts-link-elsewhere": _posts_link_elsewhere,
    "relink-post": _relink_post,
    "live-until-past": _live_until_past,
    "damaged-record": _damage_record,
    "empty-record": _empty_record,
    "truncated-record": _truncate_record,
    "missing-record": _drop_record,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_is_left_to_the_cli(built: Site, change: str) -> None:
    assert agree(built).code == 0  # the fast path answers before the change...
    CHANGES[change](built)
    assert fast(built).code is None  # ...and not after it
    assert agree(built).code is None or change == "live-until-past"


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.mark.parametrize("enabled", ["true", "false"])
@pytest.mark.parametrize("change", ["logo", "layout-edited", "layout-added"])
def test_the_files_card_options_name_count_with_cards_on_or_off(
    site: Site, enabled: str, change: str
) -> None:
    # The loader checks the logo's first bytes and parses the site's own layouts even
    # with cards off: a change to either may make the config invalid.
    (site.root / "logo.png").write_bytes(PNG)
    layouts = site.root / "layouts"
    layouts.mkdir()
    shipped = Path(fastpath.__file__).parent.parent / "templates" / "cards" / "hero.yaml"
    (layouts / "mine.yaml").write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    site.config(
        CONFIG.replace(
            "cards: {enabled: false}",
            f"cards: {{enabled: {enabled}, logo: logo.png, layouts_folder: layouts}}",
        )
    )
    site.post("p0", POST.format(i=0, day=1), "Body.\n")
    assert slow(site).code == 0
    assert agree(site).code == 0
    if change == "logo":
        (site.root / "logo.png").write_text("<svg/>", encoding="utf-8")
    elif change == "layout-edited":
        (layouts / "mine.yaml").write_text("layers: [", encoding="utf-8")
    else:
        (layouts / "broken.yaml").write_text("layers: [", encoding="utf-8")
    assert fast(site).code is None
    assert slow(site).code == 2  # the config is refused now


def test_a_variable_the_config_names_is_part_of_it(built: Site) -> None:
    built.config_path.write_text(CONFIG.replace("title: T", "title: '${TITLE}'"), encoding="utf-8")
    env = {"TITLE": "One"}
    assert slow(built, env=env).code == 0
    assert agree(built, env=env).code == 0
    assert fast(built, env={"TITLE": "Two"}).code is None
    assert fast(built).code is None  # unset: the CLI reports it
    assert slow(built).code == 2


def test_a_comment_naming_a_variable_counts_too(built: Site) -> None:
    # More than the loader reads, never less: the CLI then finds nothing changed and the
    # record is brought up to date for the next run.
    built.config_path.write_text(CONFIG + "# ${UNUSED}\n", encoding="utf-8")
    assert not slow(built).noop
    assert agree(built).code == 0
    assert fast(built, env={"UNUSED": "b"}).code is None
    assert slow(built, env={"UNUSED": "b"}).noop
    assert agree(built, env={"UNUSED": "b"}).code == 0


def test_the_stat_pass_lists_only_folders_that_changed(
    built: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed: list[str] = []
    scandir = os.scandir

    def counting(path: str) -> object:
        listed.append(os.path.basename(path))
        return scandir(path)

    assert agree(built).code == 0
    monkeypatch.setattr(os, "scandir", counting)
    assert fast(built).code == 0
    assert listed == []  # every folder known by its stat: none listed
    built.post("p1", POST.format(i=1, day=2), "Body 1, edited in place.\n")
    assert fast(built).code is None
    assert listed == []  # an edit in place: the file's stat tells, its folder is the same
    built.post("p9", POST.format(i=9, day=9), "New.\n")
    assert fast(built).code is None
    assert sorted(listed) == ["p9", "posts"]  # the folder that gained one, and the new one


def test_a_build_after_the_fast_path_does_not_stat_everything_again(
    built: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    passes: list[int] = []
    take = snapshot.take

    def counting(*args: Any) -> snapshot.Snapshot:
        passes.append(1)
        return take(*args)

    monkeypatch.setattr(snapshot, "take", counting)
    built.post("p1", POST.format(i=1, day=2), "Body 1, edited.\n")
    ran = _run(cli_run.main, ("build",), built.root, _env())
    assert ran.code == 0 and not ran.noop
    assert len(passes) == 1  # the fast path's, handed to the build
    assert fastpath.handed is None
    assert agree(built).code == 0  # and what it recorded is right


def test_a_record_out_of_date_is_brought_up_to_date(built: Site) -> None:
    path = built.root / "state" / snapshot.TREE_FILE
    kept = path.read_bytes()
    assert snapshot.read_tree(str(path.parent))
    # A tree without the folders' listings (as when they changed just before the build).
    path.write_bytes(snapshot.tree_bytes({}))
    record = (built.root / "state" / "inputs.json").read_bytes()
    assert fast(built).code == 0  # the folders are listed, and the tree written again
    assert path.read_bytes() == kept
    assert (built.root / "state" / "inputs.json").read_bytes() == record  # unchanged
    assert agree(built).code == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["build", "--dry-run"],
        ["build", "--json"],
        ["build", "--now", "2030-01-01"],
        ["build", "--live-wait", "0"],
        ["build", "--help"],
        ["build", "--unknown"],
        ["build", "extra"],
        ["build", "build"],
        ["build", "--jobs", "0"],
        ["build", "--jobs", "65"],
        ["build", "--jobs", "007"],
        ["build", "--jobs"],
        ["build", "--config"],
        ["build", "--config", "-q"],
        ["build", "--config="],
        ["build", "--quiet=1"],
        ["build", "-x"],
        ["build", "--"],
        ["--backfill", "1", "build"],
        ["-V"],
        ["announce"],
        [],
        ["check"],
    ],
)
def test_other_command_lines_are_left_to_the_cli(argv: list[str]) -> None:
    assert fastpath.parse(argv) is None


def test_the_options_are_merged_as_the_cli_merges_them() -> None:
    assert fastpath.parse(["-v", "--config", "a.yaml", "build", "--config=b.yaml", "-vv"]) == {
        "verbose": 2,
        "config": "b.yaml",
    }
    assert fastpath.parse(["-q", "build", "--detailed-exit-codes"]) == {
        "quiet": True,
        "detailed": True,
    }


def test_the_variable_pattern_is_the_configs() -> None:
    assert loadtrail.ENV_REF.pattern == secret.ENV_REF.pattern


def test_the_fast_path_imports_no_click_yaml_or_config(built: Site) -> None:
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
    _age(built.root)  # files past the recent window (2 s) of a real run
    for _ in range(2):  # the first records them so
        done = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=built.root,
            # Unmeasured: coverage, when it runs, loads its own modules first.
            env={**os.environ, "COVERAGE_PROCESS_CONFIG": ""},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    assert data["code"] == 0
    assert "nothing changed since the last build" in done.stderr
    heavy = ("click", "yaml", "publisher.config", "publisher.inputs", "publisher.errors")
    assert [m for m in data["modules"] if m.startswith(heavy)] == []
    # Nor what the standard library would load for the stat pass and its digest: OpenSSL
    # (hashlib), importlib.util, typing, dataclasses, pathlib.
    light = ("hashlib", "_hashlib", "importlib.util", "typing", "dataclasses", "pathlib")
    assert [m for m in data["modules"] if m in light] == []
    assert {"publisher.fastpath", "publisher.snapshot"} <= set(data["modules"])


def test_edited_publisher_code_is_left_to_the_cli(built: Site, tmp_path: Path) -> None:
    # A copy of the package, so that its code can be edited; each run a fresh process.
    code = tmp_path / "code"
    package = Path(fastpath.__file__).parent
    shutil.copytree(package, code / "publisher")
    for data in ("assets", "templates"):  # beside the package, as in a checkout
        shutil.copytree(package.parent / data, code / data)
    env = {**os.environ, "PYTHONPATH": str(code)}

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "publisher", "build"],
            cwd=built.root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return done.stderr

    assert "nothing changed" not in run()  # another publisher folder: a full build
    _age(built.root)
    _age(code)
    run()  # records with files past the recent window
    assert "nothing changed" in run()
    module = code / "publisher" / "feeds" / "items.py"
    module.write_text(module.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    _age(code)
    assert "nothing changed" not in run()


def _age(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 60 * 10**9))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_random_sequence_of_changes_builds_what_a_cold_build_builds(
    built: Site, seed: int
) -> None:
    rng = random.Random(seed)
    steps = [
        "edit-post",
        "add-post",
        "touch-image",
        "add-file-deep",
        "edit-output",
        "delete-output",
        "rename-post",
        "relink-post",
        "edit-config",
    ]
    for _ in range(8):
        change = rng.choice([*steps, "nothing", "nothing"])
        if change != "nothing":
            with contextlib.suppress(FileNotFoundError, FileExistsError):
                CHANGES[change](built)
        ran = _run(cli_run.main, ("build",), built.root, _env())
        assert ran.code in (0, 3), ran.stderr
        cold = built.root.parent / f"cold-{seed}"
        shutil.rmtree(cold, ignore_errors=True)
        shutil.copytree(
            built.root, cold, symlinks=True, ignore=shutil.ignore_patterns("public", "state")
        )
        assert _run(entry.main, ("build",), cold, _env()).code in (0, 3)
        assert tree_bytes(built.root / "public") == tree_bytes(cold / "public"), change


def test_the_record_format_is_the_one_inputs_writes() -> None:
    from publisher import inputs

    assert fastpath.FORMAT == inputs._FORMAT
    assert fastpath.INPUTS_FILE == inputs.INPUTS_FILE


def test_a_config_changed_after_loading_gets_no_fast_section(built: Site) -> None:
    import dataclasses

    from publisher import inputs
    from publisher.config import load_config

    config = load_config(built.config_path)
    taken = inputs.take_snapshot(config)
    assert inputs._fast(config, taken, []) is not None
    moved = dataclasses.replace(config, output=built.root / "elsewhere")
    assert inputs._fast(moved, inputs.take_snapshot(moved), []) is None
