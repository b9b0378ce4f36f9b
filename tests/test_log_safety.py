"""Untrusted text in what publish prints: one line per problem, no CI workflow commands.

GitHub Actions runs a stdout line as a command when it starts with ``::`` (after leading
whitespace) or holds ``##[``; a newline in a post's title or folder name must not be able
to write such a line, nor split one problem over two lines.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from cli_run import publish
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import Site
from publisher.automation.summary import markdown
from publisher.errors import ConfigError, Problem, dump_json, printable

LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
NAME_CHARS = st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",))
HOSTILE_CHARS = st.sampled_from([*LINE_BREAKS, *BIDI, "::", "##[", "error::", "\t", "\x1b"])
HOSTILE_TEXT = st.lists(st.one_of(HOSTILE_CHARS, st.text(NAME_CHARS, max_size=3)), max_size=8)
HOSTILE_TITLE = "Hello\n::error::x"
HOSTILE_FOLDER = "evil\r::stop-commands::t"


def runs_a_command(line: str) -> bool:
    return line.lstrip().startswith("::") or "##[" in line


def output_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    # splitlines() splits wherever any line reader might: U+2028, NEL, FS/GS/RS too.
    return result.stdout.splitlines() + result.stderr.splitlines()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("\r::stop-commands::t", "\\r::stop-commands::t"),
        ("::error::x", "\\x3a:error::x"),
        ("   ::warning::x", "   \\x3a:warning::x"),
        ("see ##[error]x", "see ##\\x5berror]x"),
        ("tab\there", "tab\\there"),
        ("esc \x1b[31mred", "esc \\x1b[31mred"),
        ("nel\x85 ls\u2028 ps\u2029", "nel\\x85 ls\\u2028 ps\\u2029"),
        ("rlo \u202eevil", "rlo \\u202eevil"),
        ("fine: C++ & ATT&CK, café ✓", "fine: C++ & ATT&CK, café ✓"),
    ],
)
def test_printable_escapes_visibly(text: str, shown: str) -> None:
    assert printable(text) == shown


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet=st.sampled_from([*LINE_BREAKS, *BIDI, ":", "#", "[", " ", "a", "\x00"])))
def test_printable_is_always_one_inert_line(text: str) -> None:
    shown = printable(text)
    assert len(shown.splitlines()) <= 1
    assert not runs_a_command(shown)
    assert not set(shown) & set(LINE_BREAKS + BIDI + "\x00")


@settings(max_examples=200, derandomize=True)
@given(st.text() | HOSTILE_TEXT.map("".join))
def test_dump_json_keeps_the_value_and_splits_no_line(text: str) -> None:
    dumped = dump_json({"title": text})
    assert json.loads(dumped) == {"title": text}
    assert not set(dumped) & set("\x85\u2028\u2029" + BIDI)
    assert not [line for line in dumped.splitlines() if runs_a_command(line)]


def test_problem_and_config_error_render_as_one_line() -> None:
    problem = Problem(
        file=f"posts/{HOSTILE_FOLDER}/index.md",
        field="title",
        message=f"'{HOSTILE_TITLE}' is too long",
        fix="shorten\nit",
    )
    assert str(problem).splitlines() == [str(problem)]
    assert problem.as_dict()["message"] == f"'{HOSTILE_TITLE}' is too long"  # data stays raw
    error = ConfigError(["::error::from a key\nsecond"])
    assert error.problems == ["\\x3a:error::from a key\\nsecond"]


@pytest.fixture
def hostile(site: Site) -> Site:
    site.config(
        """\
        site:
          title: Test Blog
          url: https://blog.example.org
        posts:
          folder: posts
        output:
          folder: public
        state:
          folder: state
        announce:
          targets:
            - kind: outbox
              path: outbox.jsonl
        """
    )
    # The title starts a template line ("{{ title }}"). The folder name is the post's id:
    # the reader refuses it, and that refusal must itself be one escaped line.
    site.post("hostile-title", f"title: {json.dumps(HOSTILE_TITLE)}\ndate: 2024-01-02")
    site.post(HOSTILE_FOLDER, 'title: "Folder"\ndate: 2024-01-02')
    site.post("command", 'title: "::error::t"\ndate: 2024-01-04')
    site.post("bad-date", 'title: Bad\ndate: "2024\\n::error::injected\\r::stop-commands::t"')
    site.post("bidi", 'title: "Right \\u202e txt.exe"\ndate: 2024-01-03\ncategories: [1, {a: b}]')
    return site


@pytest.mark.parametrize(
    "args",
    [
        ("check",),
        ("build", "--dry-run"),
        ("announce", "--dry-run", "--backfill", "5"),
        ("--dry-run", "-vv"),
        ("cards", "--post", "nope", "--dry-run"),  # a usage error listing post ids
    ],
)
def test_no_output_line_is_a_workflow_command(hostile: Site, args: tuple[str, ...]) -> None:
    result = publish(*args, cwd=hostile.root)
    assert "Traceback" not in result.stderr
    lines = output_lines(result)
    assert lines, "the command printed nothing: the test would prove nothing"
    assert [line for line in lines if runs_a_command(line)] == []
    assert not set(result.stdout + result.stderr) & set(LINE_BREAKS.replace("\n", "") + BIDI)


def test_the_ledger_listing_escapes_post_ids(hostile: Site) -> None:
    # A ledger may hold such an id (an older version read any folder name): seed it directly.
    from datetime import UTC, datetime

    from publisher.announce.ledger import open_ledger

    refused = publish("state", "mark-sent", HOSTILE_FOLDER, cwd=hostile.root)
    assert refused.returncode == 2
    assert [line for line in output_lines(refused) if runs_a_command(line)] == []
    assert "evil\\r::stop-commands::t" in refused.stderr and "\r" not in refused.stderr
    ledger = open_ledger(hostile.root / "state" / "announce.sqlite")
    ledger.mark_sent(HOSTILE_FOLDER, "outbox", "outbox", datetime(2024, 1, 5, tzinfo=UTC))
    ledger.close()
    for args in (("state", "list"), ("state", "list", "--json")):
        listed = publish(*args, cwd=hostile.root)
        assert listed.returncode == 0, listed.stderr
        assert "evil\\r::stop-commands::t" in listed.stdout
        assert [line for line in output_lines(listed) if runs_a_command(line)] == []
        assert "\r" not in listed.stdout
    data = json.loads(publish("state", "list", "--json", cwd=hostile.root).stdout)
    assert [entry["post_id"] for entry in data] == [HOSTILE_FOLDER]


def test_the_hostile_text_reaches_the_output_escaped(hostile: Site) -> None:
    """The escaping is shown, not silently dropped: a reader can see what the post holds."""
    announced = publish("announce", "--dry-run", "--backfill", "5", cwd=hostile.root)
    assert "evil\\r::stop-commands::t" in announced.stderr  # the refused folder, named escaped
    assert "    Hello ::error::x" in announced.stdout.splitlines()  # mid-line: inert
    assert "    \\x3a:error::t" in announced.stdout.splitlines()
    checked = publish("check", cwd=hostile.root)
    assert "date '2024\\n::error::injected\\r::stop-commands::t' is not a date" in checked.stderr


def test_every_problem_is_one_line(hostile: Site) -> None:
    report = json.loads(publish("check", "--json", cwd=hostile.root).stdout)
    problems = report["problems"]
    assert problems, "no problem reported: the test would prove nothing"
    result = publish("check", cwd=hostile.root)
    shown = [line for line in result.stderr.splitlines() if line.startswith(("error:", "warning:"))]
    assert len(shown) == len(problems)
    # Everything else on stderr is the two summary lines.
    assert len(result.stderr.splitlines()) == len(problems) + 2


def test_json_report_is_valid_and_keeps_the_raw_text(hostile: Site) -> None:
    result = publish("build", "--dry-run", "--json", cwd=hostile.root)
    report = json.loads(result.stdout)
    titles = {p["id"]: p["title"] for p in report["published"]}
    assert titles["bidi"] == "Right \u202e txt.exe"  # escaped in the text, raw in the data
    assert titles["command"] == "::error::t"
    assert [line for line in result.stdout.splitlines() if runs_a_command(line)] == []


def test_a_config_key_cannot_inject_a_line(site: Site) -> None:
    site.config(
        'site:\n  title: T\n  url: https://blog.example.org\n  "x\\n::error::k": 1\n'
        "posts:\n  folder: posts\n"
    )
    result = publish("check", cwd=site.root)
    assert result.returncode == 2
    assert "config error: site.x\\n::error::k: unknown key" in result.stderr
    assert [line for line in output_lines(result) if runs_a_command(line)] == []


@settings(max_examples=25, derandomize=True, deadline=None)
@given(
    folder=HOSTILE_TEXT.map("".join).filter(lambda n: n.strip(" .") != "" and len(n) < 60),
    title=HOSTILE_TEXT.map("".join),
    date=HOSTILE_TEXT.map("".join),
)
def test_fuzzed_posts_never_print_a_command_or_split_a_problem(
    folder: str, title: str, date: str
) -> None:
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        (root / "config.yaml").write_text(
            "site:\n  title: T\n  url: https://blog.example.org\nposts:\n  folder: posts\n"
            "state:\n  folder: state\n",
            encoding="utf-8",
        )
        post = root / "posts" / folder / "index.md"
        post.parent.mkdir(parents=True)
        front = yaml.safe_dump({"title": title, "date": date}, allow_unicode=True)
        post.write_text(f"---\n{front}---\nBody.\n", encoding="utf-8")
        done = publish("check", "--json", "--jobs", "1", cwd=root)
        report = json.loads(done.stdout)
        plain = publish("check", "--jobs", "1", cwd=root).stderr
    assert done.returncode in (0, 3)
    for text in (done.stdout, done.stderr, plain):
        assert [line for line in text.splitlines() if runs_a_command(line)] == []
    assert len(plain.splitlines()) == len(report["problems"]) + 2


def test_the_job_summary_keeps_one_table_row_per_announcement() -> None:
    report = {
        "dry_run": True,
        "published": [{"id": "p", "title": "A\r::error::x\u2028B", "url": "https://b.example/p"}],
        "announce": {
            "would_send": 1,
            "decisions": [
                {"post": "p", "target": "t\n::x", "result": "would_send", "reason": "new"}
            ],
        },
    }
    text = markdown(report, 0)
    rows = [line for line in text.splitlines() if line.startswith("| [")]
    assert len(rows) == 1
    assert "A\\\\r::error::x\\\\u2028B" in rows[0]
    assert "t\\\\n::x" in rows[0]
    assert [line for line in text.splitlines() if runs_a_command(line)] == []
