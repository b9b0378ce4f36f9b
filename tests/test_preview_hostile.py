"""`publish preview` on hostile posts: no network request unless asked, no traceback."""

from __future__ import annotations

import http.server
import io
import struct
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from PIL import Image

from conftest import Site
from publisher.cli.preview import preview_command
from publisher.config import load_config
from publisher.preview import build_preview

NOW = datetime(2026, 6, 1, tzinfo=UTC)


# --- hostile posts: no network request, no traceback -------------------------------------


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        out = io.BytesIO()
        Image.linear_gradient("L").resize((1300, 700)).convert("RGB").save(out, "PNG")
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(out.getvalue())))
        self.end_headers()
        self.wfile.write(out.getvalue())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def image_server() -> Iterator[str]:
    _CountingHandler.hits = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


HOSTILE_SITE = """\
site:
  title: Test Blog
  url: https://blog.example.org
posts:
  folder: posts
output:
  folder: public
state:
  folder: state
cards:
  remote:
    allow_private_networks: true
"""


def test_the_preview_makes_no_request_unless_asked(site: Site, image_server: str) -> None:
    # Loopback is allowed by the config, so only the preview's own rule holds the fetch back.
    site.config(HOSTILE_SITE)
    site.post(
        "2026-01-01-remote", f"title: Remote\ndate: 2026-01-01\nogImageUrl: {image_server}/a.png"
    )
    config = load_config(site.config_path)
    result = build_preview(config, now=NOW, dry_run=True)
    assert _CountingHandler.hits == []
    (section,) = result.sections
    assert any("no network request" in n.message for n in section.notices), section.notices
    assert section.card is not None and section.card.layout == "text"

    asked = build_preview(config, now=NOW, dry_run=True, fetch_images=True)
    assert _CountingHandler.hits == ["/a.png"]
    (section,) = asked.sections
    assert section.card is not None and section.card.layout == "hero"


def test_the_preview_command_has_an_opt_in_for_images() -> None:
    names = {p.name for p in preview_command().params}
    assert "fetch_images" in names


def test_a_jpeg_claiming_65000_px_square_does_not_crash_the_preview(site: Site) -> None:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(out, "JPEG")
    data = bytearray(out.getvalue())
    at = data.index(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", 65000, 65000)
    site.config(HOSTILE_SITE)
    site.post("2026-01-02-bomb", "title: Bomb\ndate: 2026-01-02\nogImage: big.jpg")
    site.file("2026-01-02-bomb/big.jpg", bytes(data))
    site.post("2026-01-01-fine", "title: Fine\ndate: 2026-01-01")
    result = build_preview(load_config(site.config_path), now=NOW, dry_run=True)
    bomb, fine = result.sections
    assert fine.card is not None
    messages = [n.message for n in bomb.notices]
    assert any("too large to decode safely (65000x65000" in m for m in messages), messages
    assert result.page.is_file()
