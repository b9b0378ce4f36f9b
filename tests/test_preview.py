"""`publish preview`: truncation rules, the page's content, and the page in a real browser.

The browser test drives headless Chromium over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: no websocket library needed) against the example site's
preview served on 127.0.0.1, and skips when no Chromium is installed.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import fcntl
import http.server
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import REPO, Site
from publisher.config import Config, load_config
from publisher.preview import PLATFORMS, Cut, build_preview, crop, truncate
from publisher.preview.cli import make_server, preview_command
from publisher.preview.page import PER_PAGE
from publisher.preview.sections import excerpt
from publisher.preview.thumbs import WIDTH
from publisher.preview.unfurl import Picture, read_meta, unfurl

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PLATFORM = {p.key: p for p in PLATFORMS}


# --- truncation and crops -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cut", "expected", "was_cut"),
    [
        ("short", Cut(max=10), "short", False),
        ("exactly10!", Cut(max=10), "exactly10!", False),
        ("eleven chars", Cut(max=10), "eleven ch…", True),
        # Discord: 67 bytes kept, then "..." (70 in all), counted in UTF-8 bytes
        ("a" * 71, Cut(max=70, unit="bytes", ellipsis="..."), "a" * 67 + "...", True),
        ("a" * 70, Cut(max=70, unit="bytes", ellipsis="..."), "a" * 70, False),
        # "·" is two bytes: 35 of them are 70 bytes and fit; 36 do not
        ("·" * 35, Cut(max=70, unit="bytes", ellipsis="..."), "·" * 35, False),
        ("·" * 36, Cut(max=70, unit="bytes", ellipsis="..."), "·" * 33 + "...", True),
        # graphemes: a family emoji and an accented letter are never split
        ("👨‍👩‍👧" * 4, Cut(max=3), "👨‍👩‍👧" * 2 + "…", True),
        ("e\u0301" * 5, Cut(max=4), "e\u0301" * 3 + "…", True),
        ("anything", None, "anything", False),
    ],
)
def test_truncate(text: str, cut: Cut | None, expected: str, was_cut: bool) -> None:
    assert truncate(text, cut) == (expected, was_cut)


@pytest.mark.parametrize(
    ("size", "ratio", "lost"),
    [
        ((1200, 630), 2.0, (0, 15)),  # X: 2:1 takes 15 px off the top and the bottom
        ((1200, 630), 1200 / 627, (0, 1)),  # LinkedIn's 1200x627
        ((1200, 600), 1.91, (0, 0)),  # wider than 1.91: sides
        ((1000, 1000), 2.0, (0, 250)),
        ((2000, 500), 2.0, (500, 0)),
        ((1200, 630), None, (0, 0)),
    ],
)
def test_crop(size: tuple[int, int], ratio: float | None, lost: tuple[int, int]) -> None:
    result = crop(*size, ratio)
    if size == (1200, 600):
        assert result.lost_y == 0 and result.lost_x > 0
    else:
        assert (result.lost_x, result.lost_y) == lost


META = """\
<meta property="og:title" content="Cats &amp; Dogs: a very long title that goes on and on past seventy characters">
<meta property="og:description" content="{desc}">
<meta property="og:url" content="https://www.blog.example.org/cats/">
<meta property="og:site_name" content="Test Blog">
<meta property="og:image" content="https://blog.example.org/og/cats.abc.jpg">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="Short X title">
"""


def picture(**changes: Any) -> Picture:
    values: dict[str, Any] = {
        "src": "og/cats.abc.jpg",
        "width": 1200,
        "height": 630,
        "bytes": 90_000,
        "mime": "image/jpeg",
        "alt": "Cats",
    }
    return Picture(**{**values, **changes})


def test_read_meta_decodes_entities_and_keeps_the_first_value() -> None:
    meta = read_meta(META.format(desc="d") + '<meta property="og:title" content="second">')
    assert meta["og:title"].startswith("Cats & Dogs")
    assert meta["twitter:title"] == "Short X title"


def test_each_platform_cuts_as_it_does() -> None:
    meta = read_meta(META.format(desc="word " * 100))
    discord = unfurl(meta, picture(), PLATFORM["discord"])
    assert discord.title.endswith("...") and len(discord.title.encode()) == 70
    assert discord.description_cut and len(discord.description.encode()) <= 350
    x = unfurl(meta, picture(), PLATFORM["x"])
    assert x.title == "Short X title"  # X reads twitter:title first
    assert x.description == ""  # and shows no description
    assert x.crop.lost_y == 15
    assert x.domain == "blog.example.org"
    linkedin = unfurl(meta, picture(), PLATFORM["linkedin"])
    assert linkedin.title.startswith("Cats & Dogs") and not linkedin.title_cut
    slack = unfurl(meta, picture(), PLATFORM["slack"])
    assert slack.description_cut and slack.image_mode == "large" and slack.crop.none


def test_picture_rules() -> None:
    meta = read_meta(META.format(desc="d"))
    webp = unfurl(meta, picture(mime="image/webp"), PLATFORM["linkedin"])
    assert webp.picture is None and "does not show image/webp" in webp.image_notes[0]
    heavy = unfurl(meta, picture(bytes=1_200_000), PLATFORM["bluesky"])
    assert heavy.picture is None and "1,000,000-byte" in heavy.image_notes[0]
    assert unfurl(meta, picture(bytes=1_200_000), PLATFORM["x"]).picture is not None
    small = unfurl(meta, picture(width=500, height=262), PLATFORM["facebook"])
    assert small.image_mode == "small" and "600x315" in small.image_notes[0]
    assert unfurl(meta, None, PLATFORM["facebook"]).image_mode == "none"


def test_excerpt() -> None:
    html = "<p>One <b>two</b></p><pre>three</pre>" + "<p>w</p>" * 80
    assert excerpt(html, 3) == "One two three …"
    assert excerpt("<p>a b</p>", 3) == "a b"
    assert excerpt(None) == ""


# --- the page ---------------------------------------------------------------------------


def example_config(root: Path) -> Config:
    """The shipped example site, writing into ``root``."""
    config = load_config(REPO / "config.yaml")
    return dataclasses.replace(config, output=root / "public", state=root / "state")


@pytest.fixture(scope="module")
def example_preview(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Any]:
    root = tmp_path_factory.mktemp("example")
    config = example_config(root)
    return config, build_preview(config, now=NOW, dry_run=True)


def test_dry_run_writes_the_preview_folder_and_nothing_else(
    example_preview: tuple[Config, Any],
) -> None:
    config, result = example_preview
    assert result.page == config.output / "preview" / "index.html"
    assert sorted(p.name for p in config.output.iterdir()) == ["preview"]
    assert not config.state.exists()
    assert all(w.path == "index.html" or w.path.startswith("thumbs/") for w in result.writes)


def test_every_post_has_a_section_newest_first(example_preview: tuple[Config, Any]) -> None:
    config, result = example_preview
    html = result.page.read_text(encoding="utf-8")
    ids = re.findall(r'<section class="post" id="post-([^"]+)"', html)
    posts = sorted(config.posts.folder.glob("*/index.md"))
    assert sorted(ids) == sorted(p.parent.name for p in posts)
    dates = [s.post.date for s in result.sections]
    assert dates == sorted(dates, reverse=True)
    assert ids[0] == "2027-06-01-lantern-2-0-preview"


def test_cards_are_copied_beside_the_page_and_linked_relatively(
    example_preview: tuple[Config, Any],
) -> None:
    _config, result = example_preview
    html = result.page.read_text(encoding="utf-8")
    sources = set(re.findall(r'<img src="([^"]+)"', html))
    assert sources
    for src in sources:
        assert not urlsplit(src).scheme and not src.startswith("/"), src
        assert (result.folder / src).is_file(), src
    for section in result.sections:
        assert section.card is not None, section.post.id
        attached = sum(a.picture for a in section.announcements)  # messages carrying the card
        assert html.count(f'src="{section.card.picture.src}"') == 1 + len(PLATFORMS) + attached


def test_no_external_reference_in_the_page(example_preview: tuple[Config, Any]) -> None:
    _, result = example_preview
    html = result.page.read_text(encoding="utf-8")
    assert not re.search(r'\b(src|href)="(https?:)?//', html)
    assert "@import" not in html and "url(" not in html


def test_the_warnings_of_each_stage(example_preview: tuple[Config, Any]) -> None:
    _, result = example_preview
    by_id = {s.post.id: s for s in result.sections}
    scheduled = by_id["2027-06-01-lantern-2-0-preview"]
    assert scheduled.status == "scheduled"
    assert any(
        "goes out on the first run at or after 2027-06-01" in n.message for n in scheduled.notices
    )
    assert by_id["2026-04-14-roadmap-draft"].status == "draft"
    small = by_id["2025-09-16-lantern-on-the-wire-podcast"]
    assert any("150 px wide" in n.message for n in small.notices)
    mojibake = by_id["2025-10-28-community-cafe-night"]
    assert any(n.stage == "post" and "mojibake" in n.message for n in mojibake.notices)
    html = result.page.read_text(encoding="utf-8")
    assert "150 px wide, smaller than 600 px" in html


def test_announcements_as_they_would_be_sent(example_preview: tuple[Config, Any]) -> None:
    _, result = example_preview
    section = result.sections[1]
    (outbox,) = section.announcements
    assert outbox.target == "outbox" and outbox.text and section.post.url in outbox.text
    assert outbox.length is not None and outbox.limit == 5000
    payload = json.loads(outbox.payload or "{}")
    assert payload["post_id"] == section.post.id
    # The message carries the card (its URL is in the payload), so its mock-up shows it.
    assert section.card is not None and outbox.picture
    assert section.card.url in (outbox.payload or "")


def test_feed_reader_view(example_preview: tuple[Config, Any]) -> None:
    _, result = example_preview
    feed = result.sections[1].feed
    assert feed is not None and feed.title == result.sections[1].post.title
    assert feed.excerpt and feed.note.startswith("in rss.xml")
    assert feed.enclosure is not None and feed.enclosure.url.startswith("https://")


def test_a_real_build_then_nothing_changes(tmp_path: Path) -> None:
    config = example_config(tmp_path)
    first = build_preview(config, now=NOW)
    assert (config.output / "rss.xml").is_file() and (config.output / "og").is_dir()
    second = build_preview(config, now=NOW)
    assert {w.status for w in second.writes} == {"unchanged"}
    assert first.page.read_bytes() == second.page.read_bytes()


def test_cut_summaries_and_missing_alt_text_are_warned(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BSKY_PASSWORD", raising=False)
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
        cards:
          alt: "{summary}"
        announce:
          targets:
            - kind: bluesky
              handle: blog.example.org
              app_password: ${BSKY_PASSWORD}
        """
    )
    site.post(
        "2026-01-01-long",
        f"title: A post\ndate: 2026-01-01\nogSummary: '{'many words here ' * 40}'",
        "Body text.\n",
    )
    site.post("2025-01-01-bare", "title: No summary\ndate: 2025-01-01", "Body.\n")
    config = load_config(site.config_path)
    result = build_preview(config, now=NOW, dry_run=True)
    section, bare = result.sections
    messages = [n.message for n in section.notices]
    assert any("bluesky: summary cut to fit 300" in m for m in messages), messages
    bare_messages = [n.message for n in bare.notices]
    assert any("no alt text" in m for m in bare_messages), bare_messages
    assert any("no summary" in m for m in bare_messages), bare_messages
    (view,) = section.announcements
    assert view.length is not None and view.length <= 300 and view.shortened
    assert "https://blog.example.org/2026-01-01-long/" in (view.text or "")


def test_the_command(tmp_path: Path) -> None:
    config_text = (REPO / "config.yaml").read_text(encoding="utf-8")
    config_text = config_text.replace(
        "folder: examples/blog/posts", f"folder: {REPO}/examples/blog/posts"
    )
    (tmp_path / "config.yaml").write_text(config_text, encoding="utf-8")
    result = CliRunner().invoke(
        preview_command(),
        ["--config", str(tmp_path / "config.yaml"), "--dry-run", "--json", "--now", "2026-06-01"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert Path(report["page"]).is_file()
    assert len(report["posts"]) == 11
    assert not (tmp_path / ".publisher").exists()


def test_the_cilium_sample_previews_without_a_traceback(corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        f"""\
site:
  title: Cilium
  url: https://cilium.io
posts:
  folder: {corpus}
output:
  folder: public
state:
  folder: state
cards:
  remote:
    enabled: false
announce:
  targets:
    - kind: mastodon
      instance: https://fosstodon.org
      token: ${{MASTODON_TOKEN}}
    - kind: bluesky
      handle: cilium.io
      app_password: ${{BSKY_PASSWORD}}
""",
        encoding="utf-8",
    )
    config = load_config(tmp_path / "config.yaml")
    result = build_preview(config, now=NOW, dry_run=True)
    assert len(result.sections) > 10
    html = "".join(page.read_text(encoding="utf-8") for page in result.pages)
    assert html.count('<section class="post"') == len(result.sections)
    assert len(result.pages) == -(-len(result.sections) // PER_PAGE)


# --- the page in a real browser -------------------------------------------------------

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
