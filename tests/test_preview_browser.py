"""`publish preview`: the page in a real browser.

The test drives headless Chromium over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: no websocket library needed) against the example site's
preview served on 127.0.0.1, and skips when no Chromium is installed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from test_preview import NOW, example_config

from publisher.cli.preview import make_server
from publisher.config import Config
from publisher.preview import PLATFORMS, build_preview
from publisher.preview.thumbs import WIDTH


@pytest.fixture(scope="module")
def example_preview(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Any]:
    config = example_config(tmp_path_factory.mktemp("example"))
    return config, build_preview(config, now=NOW, dry_run=True)


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # Belt and braces: any name but 127.0.0.1 fails to resolve, so nothing can leave.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def find_chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _high_fd(fd: int) -> int:
    """A copy of ``fd`` numbered 10 or above (the original is closed)."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (fd 3 in, fd 4 out)."""

    def __init__(self, binary: str) -> None:
        self.profile = tempfile.TemporaryDirectory(prefix="chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Chromium's ends go above fd 10, so putting one on fd 3 cannot overwrite the other.
        to_browser_r, from_browser_w = _high_fd(to_browser_r), _high_fd(from_browser_w)
        self.process = self._spawn(binary, to_browser_r, from_browser_w)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]

    def _spawn(self, binary: str, read_end: int, write_end: int) -> subprocess.Popen[bytes]:
        # Chromium reads commands on fd 3 and writes answers on fd 4: a tiny Python
        # trampoline puts our pipe ends there, then becomes Chromium.
        trampoline = (
            "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
            "os.execv(sys.argv[3], sys.argv[3:])"
        )
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                trampoline,
                str(read_end),
                str(write_end),
                binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile.name}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(read_end, write_end),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _read(self, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        data: dict[str, Any] = json.loads(message)
        return data

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False
    ) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self.send(method, params, session=True)

    def wait_for(self, method: str, timeout: float = 60) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self._read(deadline - time.monotonic())
            self.events.append(event)
            if event.get("method") == method:
                return event
        raise TimeoutError(method)

    def open(self, url: str, width: int, height: int, *, mobile: bool = False) -> None:
        self.call("Network.enable")
        self.call("Page.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def screenshot(self, path: Path, *, full: bool = False, height: int | None = None) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full or height:
            width = self.evaluate("document.documentElement.scrollWidth")
            total = self.evaluate("document.documentElement.scrollHeight")
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": width,
                "height": min(total, height or total),
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError, TimeoutError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self.profile.cleanup()


@pytest.fixture
def chromium() -> Iterator[Chromium]:
    binary = find_chromium()
    if binary is None:
        pytest.skip(
            "no Chromium installed: the browser test needs `chromium` on PATH "
            "(Debian: apt-get install chromium; or set CHROMIUM=/path/to/chrome)"
        )
    browser = Chromium(binary)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def served(example_preview: tuple[Config, Any]) -> Iterator[str]:
    _, result = example_preview
    server = make_server(result.folder, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


PAGE_FACTS = """
(() => {
  const visible = (el) => { const r = el.getBoundingClientRect();
    return !!el.offsetParent && r.width > 0 && r.height > 0
      && getComputedStyle(el).visibility !== 'hidden'; };
  return [...document.querySelectorAll('section.post')].map((s) => ({
    id: s.id.replace(/^post-/, ''),
    visible: visible(s),
    card: [...s.querySelectorAll('figure.card img')].map((i) => ({
      visible: visible(i), loaded: i.complete && i.naturalWidth > 0, natural: i.naturalWidth })),
    unfurls: [...s.querySelectorAll('article.unfurl')].map((u) => ({
      platform: u.dataset.platform, visible: visible(u),
      images: [...u.querySelectorAll('img')].map((i) => i.complete && i.naturalWidth > 0) })),
  }));
})()
"""


# Wait (up to 2 s) for the first card on screen, then count the pictures fetched.
LOADED = """(async () => { const all = [...document.querySelectorAll('img')];
  const ok = (i) => i.complete && i.naturalWidth > 0;
  for (let i = 0; i < 100 && !ok(all[0]); i++) await new Promise((done) => setTimeout(done, 20));
  return {all: all.length, loaded: all.filter(ok).length}; })()"""

# Scroll each post into view and wait (up to 2 s each) for its lazy pictures.
SCROLL_THROUGH = """
(async () => {
  for (const s of document.querySelectorAll('section.post')) {
    s.scrollIntoView();
    const images = [...s.querySelectorAll('img')];
    for (let i = 0; i < 100 && !images.every((m) => m.complete && m.naturalWidth > 0); i++)
      await new Promise((done) => setTimeout(done, 20));
  }
  window.scrollTo(0, 0);
})()
"""


def test_the_preview_in_headless_chromium(
    chromium: Chromium, served: str, example_preview: tuple[Config, Any], tmp_path: Path
) -> None:
    _, result = example_preview
    chromium.open(served, 1280, 900)
    # Lazy loading: the pictures of the posts far below the first screen are not fetched yet.
    first = chromium.evaluate(LOADED)
    assert 0 < first["loaded"] < first["all"], first
    chromium.evaluate(SCROLL_THROUGH)
    facts = chromium.evaluate(PAGE_FACTS)
    assert [f["id"] for f in facts] == [s.post.id for s in result.sections]
    for post in facts:
        assert post["visible"], post["id"]
        (card,) = post["card"]
        assert card["visible"] and card["loaded"] and card["natural"] == WIDTH, post["id"]
        assert [u["platform"] for u in post["unfurls"]] == [p.key for p in PLATFORMS]
        for shown in post["unfurls"]:
            assert shown["visible"], (post["id"], shown["platform"])
            assert shown["images"] and all(shown["images"]), (post["id"], shown["platform"])

    # Nothing but 127.0.0.1 was asked for, and nothing failed to load.
    requested = [
        e["params"]["request"]["url"]
        for e in chromium.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requested
    outside = [u for u in requested if urlsplit(u).hostname not in ("127.0.0.1", None)]
    assert outside == []
    failed = [e["params"] for e in chromium.events if e.get("method") == "Network.loadingFailed"]
    assert failed == []

    # The filter box hides what does not match.
    shown = chromium.evaluate(
        """(() => { const box = document.getElementById('filter'); box.value = 'podcast';
        box.dispatchEvent(new Event('input'));
        return [...document.querySelectorAll('section.post')].filter((s) => !s.hidden).length; })()"""
    )
    assert shown == 1

    # The kind filter: the overview's rows and the sections with errors or warnings only.
    shown = chromium.evaluate(
        """(() => { const box = document.getElementById('filter'); box.value = '';
        box.dispatchEvent(new Event('input'));
        const which = document.getElementById('which'); which.value = 'warning';
        which.dispatchEvent(new Event('change'));
        const on = (q) => [...document.querySelectorAll(q)].filter((e) => !e.hidden).length;
        return [on('tr[data-search]'), on('section.post'), document.getElementById('rows').textContent]; })()"""
    )
    warned = sum(s.level != "ok" for s in result.sections)
    assert 0 < warned < len(result.sections)
    assert shown == [warned, warned, str(warned)]

    shot = chromium.screenshot(tmp_path / "preview-desktop.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")


def test_the_preview_fits_a_phone(chromium: Chromium, served: str, tmp_path: Path) -> None:
    chromium.open(served, 390, 844, mobile=True)
    chromium.evaluate("document.querySelector('details.overview').open = true")
    overflow = chromium.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px on a phone"
    shot = chromium.screenshot(tmp_path / "preview-phone.png")
    assert shot.stat().st_size > 0
