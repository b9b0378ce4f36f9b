"""``publish check`` is the whole truth: what build or announce refuses, check reports first.

A table of broken configs and posts. For each: the command that refuses it (``build``,
``announce --dry-run``, ...) and the line it prints; ``check`` must print the same line and
exit as the table says, or the pull-request gate passes what the merge then breaks.
"""

from __future__ import annotations

import re
import subprocess
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from cli_run import publish as run_publish

from conftest import REPO, Site

BASE = """\
site:
  title: Test Blog
  url: https://blog.example.org
posts:
  folder: posts
output:
  folder: public
state:
  folder: state
"""
OUTBOX = """\
announce:
  targets:
    - kind: outbox
      path: outbox.jsonl
      template: {template}
"""
GOOD_POST = "---\ntitle: Good\ndate: 2024-01-02\n---\nHello.\n"
# On a first run a target records what is published as its baseline and renders nothing;
# --backfill makes announce render (and so refuse) what it would send.
ANNOUNCE = ("announce", "--dry-run", "--backfill", "5")


@dataclass(frozen=True)
class Case:
    name: str
    #: Appended to BASE.
    config: str
    #: Files relative to the site folder (posts, templates, layouts).
    files: dict[str, str]
    #: The command that refuses the case, with the exit code it refuses it with.
    refused_by: tuple[str, ...]
    refused_code: int
    #: check's exit code for it.
    check_code: int
    #: A regular expression for the line both print.
    line: str
    marks: tuple[pytest.MarkDecorator, ...] = field(default=())


def template_case(name: str, body: str, line: str, *, code: int = 2) -> Case:
    return Case(
        name=name,
        config=OUTBOX.format(template="mine.j2"),
        files={"posts/good/index.md": GOOD_POST, "mine.j2": body},
        refused_by=("build",) if code == 2 else ANNOUNCE,
        refused_code=code if code == 2 else 4,
        check_code=code,
        line=line,
    )


CASES = [
    template_case(
        "template syntax error",
        "{{ title }}\n{% if summary %}\n{{ url }\n",
        r"^config error: announce\.targets\[0\]\.template: mine\.j2:3: template syntax error: "
        r"unexpected '\}'; fix the template$",
    ),
    template_case(
        "template with an unknown variable",
        "{{ titel }}\n{{ url }}\n",
        r"^config error: announce\.targets\[0\]\.template: mine\.j2: unknown variable 'titel'; "
        r"did you mean 'title'\?$",
    ),
    Case(
        name="unknown template file",
        config=OUTBOX.format(template="templates/missing.j2"),
        files={"posts/good/index.md": GOOD_POST},
        refused_by=ANNOUNCE,
        refused_code=2,
        check_code=2,
        line=r"^config error: announce\.targets\[0\]\.template: templates/missing\.j2 does not "
        r"exist; fix the path \(it is relative to config\.yaml\)$",
    ),
    template_case(
        "SSTI template",
        "{{ cycler.__init__.__globals__.os.popen('touch pwned').read() }}\n",
        r"the template was stopped by the sandbox \(access to attribute '__init__' of 'type' "
        r"object is unsafe\.\); a template may only format the post's fields",
        code=3,
    ),
    template_case(
        "message that cannot fit the platform",
        "{{ url }} " + "x" * 5100 + "\n",
        r"post good: the message cannot fit 5000 graphemes even without its summary",
        code=3,
    ),
    Case(
        name="post with a bad date",
        config="",
        files={
            "posts/good/index.md": GOOD_POST,
            "posts/bad/index.md": "---\ntitle: Bad\ndate: next tuesday\n---\n",
        },
        refused_by=("build",),
        refused_code=3,
        check_code=3,
        line=r"^error: posts/bad/index\.md:3: date 'next tuesday' is not a date",
    ),
    Case(
        name="unknown config key",
        config="feeds:\n  tagz: true\n",
        files={"posts/good/index.md": GOOD_POST},
        refused_by=("--dry-run",),
        refused_code=2,
        check_code=2,
        line=r"^config error: feeds\.tagz: unknown key; did you mean 'tags'\?$",
    ),
    Case(
        name="over-long tag path with tag feeds on",
        config="feeds:\n  tags: true\n",
        files={
            "posts/good/index.md": GOOD_POST,
            "posts/long/index.md": f"---\ntitle: Long\ndate: 2024-01-03\ntags: [{'x' * 300}]\n---\n",
        },
        refused_by=("build",),
        refused_code=0,
        check_code=0,
        line=r"^(error|warning): posts/long/index\.md(:\d+)?: tags",
    ),
    Case(
        name="unknown card layout",
        config="cards:\n  layout: heroo\n",
        files={"posts/good/index.md": GOOD_POST},
        refused_by=("build", "--dry-run"),
        refused_code=2,
        check_code=2,
        line=r"card layout 'heroo' not found; did you mean 'hero'\?",
    ),
    Case(
        name="card layout with a bad key",
        config="cards:\n  layout: mine\n  layouts_folder: layouts\n",
        files={
            "posts/good/index.md": GOOD_POST,
            "layouts/mine.yaml": (REPO / "templates/cards/text.yaml").read_text() + "colour: red\n",
        },
        refused_by=("build", "--dry-run"),
        refused_code=2,
        check_code=2,
        line=r"mine\.yaml: colour: unknown key",
    ),
    Case(
        name="unknown ogLayout",
        config="",
        files={"posts/good/index.md": "---\ntitle: Good\ndate: 2024-01-02\nogLayout: nope\n---\n"},
        refused_by=("build", "--dry-run"),
        refused_code=0,
        check_code=0,
        line=r"^warning: posts/good/index\.md: ogLayout card layout 'nope' does not exist",
    ),
    Case(
        name="SVG ogImage",
        config="",
        files={
            "posts/good/index.md": "---\ntitle: Good\ndate: 2024-01-02\nogImage: card.svg\n---\n",
            "posts/good/card.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
        },
        refused_by=("build",),
        refused_code=0,
        check_code=0,
        line=r"^warning: posts/good/index\.md: ogImage 'card\.svg' is an SVG drawing",
    ),
]


Run = subprocess.CompletedProcess[str]
Publish = Callable[..., Run]


@pytest.fixture
def publish(site: Site) -> Publish:
    """``publish ARGS`` in this process, in the site's folder (tests/cli_run.py)."""

    def run(*args: str) -> Run:
        return run_publish(*args, cwd=site.root)

    return run


def matching(pattern: str, result: Run) -> list[str]:
    """The text of each line matching ``pattern``, from where the match starts."""
    lines = (result.stderr + result.stdout).splitlines()
    found = (re.search(pattern, line) for line in lines)
    return [m.string[m.start() :] for m in found if m]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=c.marks) for c in CASES])
def test_check_reports_what_a_run_refuses(site: Site, publish: Publish, case: Case) -> None:
    site.config(BASE + textwrap.dedent(case.config))
    for relative, text in case.files.items():
        path = site.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    refused = publish(*case.refused_by)
    assert "Traceback" not in refused.stderr
    assert refused.returncode == case.refused_code, refused.stderr
    refused_lines = matching(case.line, refused)
    assert refused_lines, f"{' '.join(case.refused_by)} did not say it:\n{refused.stderr}"

    checked = publish("check")
    assert "Traceback" not in checked.stderr
    assert checked.returncode == case.check_code, checked.stderr
    checked_lines = matching(case.line, checked)
    assert checked_lines, f"check did not say it:\n{checked.stderr}"
    # The same words, from where the problem starts (each command has its own prefix).
    assert set(checked_lines) <= set(refused_lines)
    assert not (site.root / "public").exists() or "build" in case.refused_by
    assert not (site.root / "pwned").exists()


def test_check_writes_nothing_and_sends_nothing(site: Site, publish: Publish) -> None:
    site.config(BASE + OUTBOX.format(template="mine.j2") + "feeds:\n  tags: true\n")
    (site.root / "mine.j2").write_text("{{ title }} {{ url }}\n", encoding="utf-8")
    (site.posts / "good").mkdir()
    (site.posts / "good" / "index.md").write_text(GOOD_POST, encoding="utf-8")
    result = publish("check")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in site.root.iterdir()) == ["config.yaml", "mine.j2", "posts"]


def test_a_template_failing_on_every_post_is_one_problem(site: Site, publish: Publish) -> None:
    site.config(BASE + OUTBOX.format(template="mine.j2"))
    (site.root / "mine.j2").write_text("{{ ''.__class__ }}\n", encoding="utf-8")
    for n in range(3):
        (site.posts / f"p{n}").mkdir()
        (site.posts / f"p{n}" / "index.md").write_text(GOOD_POST, encoding="utf-8")
    result = publish("check")
    assert result.returncode == 3
    problems = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(problems) == 1, result.stderr
    assert problems[0].startswith("error: posts/p0/index.md: announce.targets[0] (outbox) post p0:")
    assert problems[0].endswith("(and 2 more posts)")
