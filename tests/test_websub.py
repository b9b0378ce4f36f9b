"""WebSub pings wait for the deploy: the build records which feeds changed, the announce
stage pings the hub once each feed serves what was built, and keeps trying until the hub
accepts. A fake site and hub on 127.0.0.1 speak real HTTP."""

from __future__ import annotations

import json
import shutil
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from conftest import Site
from publisher import cli
from publisher.feeds.websub import MAX_WAITS, PENDING_FILE, load_pending

NOW = "--now=2024-01-05T12:00:00Z"


@dataclass
class Host:
    """The deployed site (files from ``docroot``) and a WebSub hub at ``/hub``."""

    docroot: Path
    hub_answers: list[int] = field(default_factory=list)
    pings: list[list[str]] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    url: str = ""
    #: What the hub says when it refuses.
    refusal: bytes = b"hub says no"


def _handler(host: Host) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            host.fetched.append(self.path)
            path = host.docroot / self.path.lstrip("/")
            if path.is_file():
                self._answer(200, path.read_bytes())
            else:
                self._answer(404, b"not found")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            assert self.path == "/hub" and form["hub.mode"] == ["publish"]
            host.pings.append(sorted(form["hub.url"]))
            status = host.hub_answers.pop(0) if host.hub_answers else 204
            self._answer(status, host.refusal if status >= 300 else b"")

    return Handler


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    state = Host(docroot=tmp_path / "deployed")
    state.docroot.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["publish", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def _configure(site: Site, host: Host) -> None:
    site.config(
        f"""\
        site:
          title: Test Blog
          url: {host.url}/
        posts:
          folder: posts
        output:
          folder: public
        state:
          folder: state
        cards:
          enabled: false
        feeds:
          formats: [atom]
          hub: {host.url}/hub
        """
    )
    site.post("one", "title: One\ndate: 2024-01-01", "Body.\n")


def _deploy(site: Site, host: Host) -> None:
    shutil.rmtree(host.docroot)
    shutil.copytree(site.root / "public", host.docroot)


def test_the_hub_is_pinged_after_the_deploy_and_until_it_accepts(
    site: Site, host: Host, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(site, host)
    feed = f"{host.url}/atom.xml"
    assert run(capsys, monkeypatch, "build", NOW)[0] == 0
    assert host.pings == [] and host.fetched == []  # the build pings nobody
    assert set(load_pending(site.root / "state")) == {feed}

    # Not deployed yet: the feed answers 404, so no ping.
    code, _, err = run(capsys, monkeypatch, "announce", NOW)
    assert code == 0, err
    assert host.fetched == ["/atom.xml"] and host.pings == []
    assert f"websub: {feed} is not live as built yet" in err

    # Dry run: lists the ping, asks and changes nothing.
    code, out, _ = run(capsys, monkeypatch, "announce", "--dry-run", NOW)
    assert code == 0 and f"websub: would ping {host.url}/hub for {feed}" in out
    assert host.fetched == ["/atom.xml"] and host.pings == []

    _deploy(site, host)
    host.hub_answers = [500, 204]
    code, _, err = run(capsys, monkeypatch, "announce", NOW)
    assert code == 0, err
    assert host.pings == [[feed]]
    assert "HTTP 500" in err and "stay pending" in err and "websub: websub:" not in err
    assert set(load_pending(site.root / "state")) == {feed}

    code, _, err = run(capsys, monkeypatch, "announce", NOW)
    assert code == 0, err
    assert host.pings == [[feed], [feed]]
    assert f"websub: pinged {host.url}/hub for {feed}" in err
    assert load_pending(site.root / "state") == {}

    run(capsys, monkeypatch, "announce", NOW)
    assert len(host.pings) == 2  # nothing pending: no ping

    # A build with nothing changed records nothing new.
    run(capsys, monkeypatch, "build", NOW)
    assert load_pending(site.root / "state") == {}


def test_a_stale_deploy_holds_the_ping_back_for_a_few_runs_only(
    site: Site, host: Host, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(site, host)
    run(capsys, monkeypatch, "build", NOW)
    _deploy(site, host)
    run(capsys, monkeypatch, "announce", NOW)
    assert len(host.pings) == 1
    site.post("two", "title: Two\ndate: 2024-01-02", "Body.\n")
    run(capsys, monkeypatch, "build", NOW)  # not deployed: the old feed is still served
    for _ in range(MAX_WAITS):
        run(capsys, monkeypatch, "announce", NOW)
        assert len(host.pings) == 1
    # A CDN that rewrites the feed must not hold the ping back for ever.
    code, _, err = run(capsys, monkeypatch, "announce", NOW)
    assert code == 0 and len(host.pings) == 2, err
    pending = json.loads((site.root / "state" / PENDING_FILE).read_text())
    assert pending == {"topics": {}}


def test_a_hub_refusal_is_one_line_whatever_the_hub_says(
    site: Site, host: Host, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(site, host)
    assert run(capsys, monkeypatch, "build", NOW)[0] == 0
    _deploy(site, host)
    for body, said in [
        (
            b"<html>\n<body>\n  <h1>502 Bad Gateway</h1>\n</body>\n</html>\n",
            "<h1>502 Bad Gateway</h1>",
        ),
        (b"", "refused the ping;"),
    ]:
        host.refusal = body
        host.hub_answers = [502]
        code, _, err = run(capsys, monkeypatch, "announce", NOW)
        assert code == 0, err
        (line,) = [x for x in err.splitlines() if "HTTP 502" in x]
        assert line.startswith("websub: HTTP 502: the hub ") and said in line, line
        assert "stay pending" in line and not any(x.startswith("</") for x in err.splitlines())
    assert set(load_pending(site.root / "state")) == {f"{host.url}/atom.xml"}
