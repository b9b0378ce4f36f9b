"""``publish preview``: arguments in, :func:`publisher.preview.build_preview` called, the
page shown (and with --serve, served on 127.0.0.1).

Loaded by name when ``preview`` is run (``LAZY_COMMANDS`` in entry.py), so that ``--help``
and a build load nothing of publisher/preview/, which knows nothing of the CLI.
"""

from __future__ import annotations

import functools
import webbrowser
from collections.abc import Sequence
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click

from publisher.cli.console import Console
from publisher.cli.options import common_options, merge_options
from publisher.cli.site import find_config, resolve_now
from publisher.errors import Problem, dump_json
from publisher.preview.build import PreviewResult, build_preview
from publisher.preview.page import PER_PAGE
from publisher.report import EXIT_OK, EXIT_POSTS_SKIPPED

HOST = "127.0.0.1"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No line per request on stderr."""


def make_server(folder: Path, port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server for ``folder`` on 127.0.0.1 (port 0: any free port); not started."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    return ThreadingHTTPServer((HOST, port), handler)


def preview_command() -> click.Command:
    """The ``preview`` click command, with the options every command takes."""

    @click.command("preview")
    @click.option("--open", "open_page", is_flag=True, help="Open the page in a web browser.")
    @click.option("--serve", is_flag=True, help="Serve the preview on 127.0.0.1 until interrupted.")
    @click.option(
        "--port",
        type=click.IntRange(0, 65535),
        default=8000,
        show_default=True,
        help="Port for --serve (0: any free port).",
    )
    @click.option(
        "--check-live",
        is_flag=True,
        help="Ask each post's page whether it is live yet (makes network requests).",
    )
    @click.option(
        "--fetch-images",
        is_flag=True,
        help="Download remote ogImageUrl images not yet cached (makes network requests).",
    )
    @click.option(
        "--per-page",
        type=click.IntRange(0),
        default=PER_PAGE,
        show_default=True,
        help="Post sections per page; the first page lists every post (0: all on one page).",
    )
    @common_options
    @click.pass_context
    def preview(
        ctx: click.Context,
        /,
        open_page: bool,
        serve: bool,
        port: int,
        check_live: bool,
        fetch_images: bool,
        per_page: int,
        **given: Any,
    ) -> None:
        """Write preview/index.html: every post's card, link previews, announcements and warnings.

        Runs the build first (with --dry-run, the build writes nothing and only the
        preview folder is written, e.g. as a pull request's artifact).
        """
        ctx.exit(
            run_preview(
                ctx,
                given,
                open_page=open_page,
                serve=serve,
                port=port,
                check_live=check_live,
                fetch_images=fetch_images,
                per_page=per_page,
            )
        )

    return preview


def run_preview(
    ctx: click.Context,
    given: dict[str, Any],
    *,
    open_page: bool,
    serve: bool,
    port: int,
    check_live: bool,
    fetch_images: bool = False,
    per_page: int = PER_PAGE,
) -> int:
    from publisher.announce import PageCheck

    options = merge_options(ctx, given)
    console = Console(options)
    config = find_config(options, console)
    now = resolve_now(options, config)
    live_check = None
    if check_live:
        import requests

        live_check = PageCheck(requests.Session, wait=config.announce.live_wait)
    result = build_preview(
        config,
        now=now,
        dry_run=options.dry_run,
        jobs=options.jobs,
        live_check=live_check,
        progress=console.progress,
        fetch_images=fetch_images,
        per_page=per_page,
    )
    build = result.build
    problems = tuple(dict.fromkeys((*build.read.problems, *build.problems, *result.site_problems)))
    console.problems(problems)
    warned = sum(any(n.severity != "info" for n in s.notices) for s in result.sections)
    console.say(
        f"preview: {len(result.sections)} posts ({warned} with warnings) -> {result.page}"
        + (f" and {len(result.pages) - 1} more pages" if len(result.pages) > 1 else "")
        + (" (dry run: nothing else was written)" if options.dry_run else "")
    )
    code = EXIT_POSTS_SKIPPED if build.failed else EXIT_OK
    if options.json:
        click.echo(dump_json(_report(result, problems, code)))
    if serve:
        _serve(result.folder, port, open_page, console.say)
    elif open_page:
        webbrowser.open(result.page.resolve().as_uri())
    return code


def _report(result: PreviewResult, problems: Sequence[Problem], code: int) -> dict[str, Any]:
    return {
        "command": "preview",
        "exit_code": code,
        "page": str(result.page),
        "pages": [str(p) for p in result.pages],
        "posts": [
            {
                "id": s.post.id,
                "status": s.status,
                "card": s.card.picture.src if s.card else None,
                "warnings": [
                    {"severity": n.severity, "stage": n.stage, "message": n.message, "fix": n.fix}
                    for n in s.notices
                ],
            }
            for s in result.sections
        ],
        "problems": [p.as_dict() for p in problems],
        "writes": [{"path": w.path, "status": w.status, "bytes": w.bytes} for w in result.writes],
    }


def _serve(folder: Path, port: int, open_page: bool, say: Any) -> None:
    try:
        server = make_server(folder, port)
    except OSError as exc:
        raise click.BadParameter(
            f"cannot listen on {HOST}:{port} ({exc.strerror}); pick another --port",
            param_hint="--port",
        ) from None
    url = f"http://{HOST}:{server.server_address[1]}/"
    say(f"serving {folder} on {url} (Ctrl-C stops)")
    if open_page:
        webbrowser.open(url)
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            say("stopped")
