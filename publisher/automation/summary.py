"""``publish --json`` report -> the Action's outputs and its job summary (a Markdown table).

Pure functions of the report text; the CLI writes them to ``$GITHUB_OUTPUT`` and
``$GITHUB_STEP_SUMMARY``. In Actions, ``publish`` writes ``::add-mask::`` lines on stdout
before the JSON; :func:`split_report` hands them back so they still reach the runner.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from publisher.errors import printable

#: What each exit code of ``publish`` means, for the summary's last line.
EXIT_MEANINGS: Mapping[int, str] = {
    0: "done",
    1: "internal error (a bug: the log has the traceback)",
    2: "configuration or usage error, or another run held the lock: nothing was done",
    3: "done, but at least one post had errors and was skipped",
    4: "done, but at least one announcement failed or is in doubt",
}
MAX_ROWS = 50
#: Every result that is news to a reader of the job summary; ``skipped`` (seen, baseline)
#: is not. The pending ones (paused, deadline, interrupted) go out on a later run.
SHOWN_RESULTS = (
    "sent",
    "in_doubt",
    "failed",
    "deferred",
    "paused",
    "deadline",
    "interrupted",
    "would_send",
)


@dataclass(frozen=True, kw_only=True)
class Outputs:
    posts_built: int
    files_written: int
    sent: int
    in_doubt: int
    failed: int
    exit_code: int
    #: Files an earlier build wrote that this one no longer produces (withdrawn posts).
    files_deleted: int = 0

    def lines(self) -> list[str]:
        """``name=value`` lines for ``$GITHUB_OUTPUT``."""
        return [
            f"posts-built={self.posts_built}",
            f"files-written={self.files_written}",
            f"files-deleted={self.files_deleted}",
            f"announcements-sent={self.sent}",
            f"announcements-in-doubt={self.in_doubt}",
            f"announcements-failed={self.failed}",
            f"exit-code={self.exit_code}",
        ]


def split_report(text: str) -> tuple[list[str], dict[str, Any] | None]:
    """Workflow-command lines (``::add-mask::...``) and the JSON report (None if absent)."""
    commands = [line for line in text.splitlines() if line.startswith("::")]
    body = "\n".join(line for line in text.splitlines() if not line.startswith("::")).strip()
    if not body:
        return commands, None
    try:
        data = json.loads(body)
    except ValueError:
        return commands, None
    return commands, data if isinstance(data, dict) else None


def outputs(report: Mapping[str, Any] | None, exit_code: int | None) -> Outputs:
    report = report or {}
    announce = report.get("announce") or {}
    writes = report.get("writes") or []
    return Outputs(
        posts_built=int((report.get("posts") or {}).get("published") or 0),
        files_written=sum(1 for w in writes if w.get("status") != "unchanged"),
        sent=int(announce.get("sent") or 0),
        in_doubt=int(announce.get("in_doubt") or 0),
        failed=int(announce.get("failed") or 0),
        exit_code=2 if exit_code is None else exit_code,
        files_deleted=len(report.get("deleted") or []),
    )


def _cell(text: object) -> str:
    """Safe inside a Markdown table cell: no pipes, no line breaks, no HTML."""
    value = printable(str(text if text is not None else ""))
    for old, new in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("\n", " ")):
        value = value.replace(old, new)
    return value.replace("[", "\\[").replace("]", "\\]")


def _link(label: object, url: object) -> str:
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return f"[{_cell(label)}]({url.replace(')', '%29').replace(' ', '%20')})"
    return _cell(label)


def markdown(report: Mapping[str, Any] | None, exit_code: int | None) -> str:
    """The job summary: totals, then what was announced and written, each linked.

    ``exit_code`` None: ``publish`` did not run (an earlier step failed).
    """
    if exit_code is None:
        return (
            "## publisher\n\n`publish` did not run: an earlier step failed (restoring the "
            "ledger, most often); that step's log says why. Nothing was sent.\n"
        )
    meaning = EXIT_MEANINGS.get(exit_code, "stopped")
    if report is None:
        return (
            "## publisher\n\n"
            f"`publish` exited {exit_code} ({meaning}) before writing a report; the step's "
            "log says why.\n"
        )
    out = outputs(report, exit_code)
    posts = report.get("posts") or {}
    announce = report.get("announce") or {}
    dry = " (dry run: nothing was written or sent)" if report.get("dry_run") else ""
    lines = [
        f"## publisher{dry}",
        "",
        "| | |",
        "| --- | --- |",
        f"| posts published | {out.posts_built} ({len(posts.get('scheduled') or [])} scheduled, "
        f"{posts.get('skipped') or 0} skipped with errors) |",
        f"| files written | {out.files_written} of {len(report.get('writes') or [])} |",
    ]
    if out.files_deleted:
        lines.append(f"| files deleted | {out.files_deleted} (no longer produced) |")
    if announce:
        if report.get("dry_run"):
            lines.append(f"| announcements | {announce.get('would_send', 0)} would be sent |")
        else:
            lines.append(
                f"| announcements | {out.sent} sent, {out.in_doubt} in doubt, {out.failed} failed, "
                f"{announce.get('deferred', 0)} deferred |"
            )
    lines.append(f"| exit code | {exit_code}: {meaning} |")
    by_id = {p.get("id"): p for p in report.get("published") or []}
    shown = [d for d in announce.get("decisions") or [] if d.get("result") in SHOWN_RESULTS]
    if shown:
        lines += ["", "### Announcements", "", "| post | target | result | message |"]
        lines.append("| --- | --- | --- | --- |")
        for d in shown[:MAX_ROWS]:
            post = by_id.get(d.get("post"), {})
            title = _link(post.get("title") or d.get("post"), post.get("url"))
            message = _link("open", d.get("remote_url")) if d.get("remote_url") else ""
            result = f"{d.get('result')} ({d.get('reason')})"
            if d.get("error"):
                result += f": {d['error']}"
            lines.append(f"| {title} | {_cell(d.get('target'))} | {_cell(result)} | {message} |")
        if len(shown) > MAX_ROWS:
            lines.append(f"\n… and {len(shown) - MAX_ROWS} more in the `--json` report.")
    written = [w for w in report.get("writes") or [] if w.get("status") != "unchanged"]
    if written:
        lines += ["", "### Files written", "", "| file | bytes | status |", "| --- | --- | --- |"]
        for w in written[:MAX_ROWS]:
            lines.append(
                f"| `{_cell(w.get('path'))}` | {w.get('bytes')} | {_cell(w.get('status'))} |"
            )
        if len(written) > MAX_ROWS:
            lines.append(f"\n… and {len(written) - MAX_ROWS} more.")
    deleted = [str(path) for path in report.get("deleted") or []]
    if deleted:
        lines += ["", "### Files deleted (no longer produced)", ""]
        lines += [f"- `{_cell(path)}`" for path in deleted[:MAX_ROWS]]
        if len(deleted) > MAX_ROWS:
            lines.append(f"\n… and {len(deleted) - MAX_ROWS} more.")
    return "\n".join(lines) + "\n"
