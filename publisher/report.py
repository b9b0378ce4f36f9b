"""What a run comes to: its exit code and its ``--json`` report.

The library functions return result objects (:class:`~publisher.build.BuildResult`,
:class:`~publisher.check.CheckResult`, :class:`~publisher.announce.AnnounceReport`); the
functions here turn them into the numbers and the report a script reads, so that a caller
of the library gets the same answer the ``publish`` command gives.

Exit codes:
    0  done (warnings may have been printed)
    1  internal error (a bug: please report it with the traceback)
    2  configuration or usage error (or another run holds the lock): nothing was done
    3  done, but at least one post had errors and was skipped
    4  announcements: at least one failed or is in doubt (the others were sent)
    130/143  stopped by SIGINT/SIGTERM: the request in flight finished, nothing more was sent
With ``detailed`` (``--detailed-exit-codes``: cron, scripts):
    5  nothing to do: nothing new to write or announce
    6  another run holds the lock: nothing was done; try again later
"""

from __future__ import annotations

from datetime import datetime

from publisher import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

# Type names only: --version and --help import this module and must load nothing more.
if TYPE_CHECKING:
    from typing import Any

    from publisher.announce import AnnounceReport
    from publisher.build import BuildResult
    from publisher.check import CheckResult
    from publisher.config import Config
    from publisher.errors import Problem
    from publisher.inputs import Summary
    from publisher.posts import ReadResult

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_CONFIG = 2
EXIT_POSTS_SKIPPED = 3
EXIT_ANNOUNCE_FAILED = 4
EXIT_NOTHING_TO_DO = 5
EXIT_BUSY = 6


def nothing_announced(report: AnnounceReport | None, *, detailed: bool, dry_run: bool) -> bool:
    """With ``detailed``: the run sent nothing and recorded no first-run baseline."""
    if not detailed or dry_run:
        return False
    return report is None or (report.sent == 0 and not any(t.baseline for t in report.targets))


def _announce_code(code: int, report: AnnounceReport | None) -> int:
    if report is not None and not report.ok:
        code = code or EXIT_ANNOUNCE_FAILED
    if report is not None and report.interrupted:
        code = 128 + report.interrupted
    return code


def build_exit_code(
    result: BuildResult,
    announced: AnnounceReport | None = None,
    *,
    detailed: bool = False,
    dry_run: bool = False,
) -> int:
    """A build's exit code, and with ``announced`` that of the whole pipeline (``publish``)."""
    code = _announce_code(EXIT_POSTS_SKIPPED if result.failed else EXIT_OK, announced)
    quiet = code == EXIT_OK and not result.changed
    if quiet and nothing_announced(announced, detailed=detailed, dry_run=dry_run):
        return EXIT_NOTHING_TO_DO
    return code


def unchanged_exit_code(summary: Summary, *, detailed: bool = False) -> int:
    """The exit code of a build that stopped early: nothing changed since the last one."""
    if any(p.severity == "error" for p in summary.problems):
        return EXIT_POSTS_SKIPPED
    return EXIT_NOTHING_TO_DO if detailed else EXIT_OK


def announce_exit_code(
    report: AnnounceReport | None, *, detailed: bool = False, dry_run: bool = False
) -> int:
    """The exit code of ``publish announce`` (``report`` None: no targets configured)."""
    code = _announce_code(EXIT_OK, report)
    if code == EXIT_OK and nothing_announced(report, detailed=detailed, dry_run=dry_run):
        return EXIT_NOTHING_TO_DO
    return code


def check_exit_code(result: CheckResult) -> int:
    return EXIT_POSTS_SKIPPED if result.errors else EXIT_OK


def run_report(
    command: str,
    config: Config,
    now: datetime,
    read: ReadResult,
    *,
    dry_run: bool,
    build: BuildResult | None,
    exit_code: int,
    extra: tuple[Problem, ...] = (),
) -> dict[str, Any]:
    """The ``--json`` report of ``build``, ``check`` and ``publish`` (the caller adds
    ``announce`` and ``timings``)."""
    import dataclasses  # only a --json report needs it (and what it imports: inspect)

    from publisher.build import post_summary, split_by_status

    published, drafts, scheduled = split_by_status(read, now)
    return {
        "command": command,
        "version": __version__,
        "config": str(config.source),
        "dry_run": dry_run,
        "now": now.isoformat(),
        "exit_code": exit_code,
        "posts": {
            "files": read.files,
            "published": len(published),
            "drafts": len(drafts),
            "scheduled": [{"id": p.id, "date": p.date.isoformat()} for p in scheduled],
            "skipped": read.files - len(read.posts),
            "from_cache": read.cache_hits,
        },
        "problems": [p.as_dict() for p in (*read.problems, *extra)],
        "writes": [dataclasses.asdict(w) for w in build.writes] if build else [],
        "deleted": list(build.deleted) if build else [],
        "published": [post_summary(p) for p in published],
    }
