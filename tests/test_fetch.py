"""Remote card images from untrusted posts: address checks, one deadline, a byte cap, redirects.

Every server here is real and listens on 127.0.0.1, which the default policy refuses; the
tests that need a download allow loopback with ``cards.remote.allow_private_networks``.
Slow servers drip bytes for a few seconds at most, so a broken deadline fails the test
(the download would complete) instead of hanging it.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import ipaddress
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image

from publisher.cards import CardOptions, build_cards, parse_card_options, render_one
from publisher.cards.addresses import EVERY_NETWORK, AddressPolicy, refusal
from publisher.cards.fetch import MAX_REDIRECTS, FetchLimits, fetch_image
from publisher.cards.images import SourceImageError
from publisher.config import SiteConfig
from publisher.output import OutputWriter
from publisher.posts.model import Author, Post

SITE = SiteConfig(
    title="Test Blog",
    url="https://blog.example.org",
    description="Notes",
    language="en-US",
    timezone="UTC",
    author=None,
)
LOOPBACK = AddressPolicy.from_config(("127.0.0.0/8",))
OPEN = AddressPolicy.from_config(EVERY_NETWORK)


def png(width: int = 1300, height: int = 700) -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGB").save(out, "PNG")
    return out.getvalue()


# --- which addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("100.64.0.1", "shared"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::1", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254
        ("93.184.216.34", None),
        ("8.8.8.8", None),
        ("2606:2800:220:1:248:1893:25c8:1946", None),
    ],
)
def test_refused_addresses(address: str, why: str | None) -> None:
    reason = refusal(ipaddress.ip_address(address), AddressPolicy())
    if why is None:
        assert reason is None
    else:
        assert reason is not None and why in reason, reason


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("169.254.169.254", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),  # Linux connects 0.0.0.0 to loopback: never
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("ff02::1", False),
    ],
)
def test_allowing_private_networks_never_allows_the_odd_kinds(address: str, allowed: bool) -> None:
    assert (refusal(ipaddress.ip_address(address), OPEN) is None) is allowed


def test_allowed_networks_are_exactly_those_listed() -> None:
    policy = AddressPolicy.from_config(("10.0.0.0/8",))
    assert refusal(ipaddress.ip_address("10.9.9.9"), policy) is None
    assert refusal(ipaddress.ip_address("192.168.0.1"), policy) is not None
    assert refusal(ipaddress.ip_address("127.0.0.1"), policy) is not None


@pytest.mark.parametrize(
    ("value", "networks", "problem"),
    [
        (True, EVERY_NETWORK, None),
        (False, (), None),
        (["10.0.0.0/8", "fd00::/8", "127.0.0.1"], ("10.0.0.0/8", "fd00::/8", "127.0.0.1/32"), None),
        ("yes", (), "must be true, false, or a list of networks"),
        (["10.0.0.0/33"], (), "must be true, false, or a list of networks"),
    ],
)
def test_allow_private_networks_option(
    value: object, networks: tuple[str, ...], problem: str | None
) -> None:
    options, problems = parse_card_options({"remote": {"allow_private_networks": value}})
    assert options.remote_allow_networks == networks
    if problem is None:
        assert problems == []
    else:
        (line,) = problems
        assert line.startswith("cards.remote.allow_private_networks: ") and problem in line


# --- real servers on 127.0.0.1 ----------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []
    image: ClassVar[bytes] = b""
    port: ClassVar[int] = 0

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        path = self.path
        if path in ("/ok.png", "/caf%C3%A9%20cover.png?size=big%20one"):
            self._send(200, type(self).image)
        elif path == "/drip.png":
            # Content-Length 30, one byte every 0.1 s: each read is quick, the whole is 3 s.
            self._start(200, {"Content-Length": "30"})
            for _ in range(30):
                time.sleep(0.1)
                if not self._write(b"x"):
                    return
        elif path == "/big.png":  # no Content-Length: the cap must hold while reading
            self._start(200, {})
            for _ in range(40):
                if not self._write(b"\0" * 10_000):
                    return
        elif path == "/declared.png":
            self._start(200, {"Content-Length": "900000000"})
        elif path.startswith("/hop/"):
            left = int(path.rsplit("/", 1)[1])
            target = "/ok.png" if left == 0 else f"/hop/{left - 1}"
            self._start(302, {"Location": target, "Content-Length": "0"})
        elif path == "/loop":
            self._start(301, {"Location": "/loop", "Content-Length": "0"})
        elif path == "/to-other-loopback":
            where = f"http://127.0.0.2:{type(self).port}/ok.png"
            self._start(302, {"Location": where, "Content-Length": "0"})
        elif path == "/to-zero":
            where = f"http://0.0.0.0:{type(self).port}/ok.png"
            self._start(307, {"Location": where, "Content-Length": "0"})
        elif path == "/to-file":
            self._start(302, {"Location": "file:///etc/passwd", "Content-Length": "0"})
        else:
            self._send(404, b"")

    def _start(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "image/png")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()

    def _send(self, status: int, body: bytes) -> None:
        self._start(status, {"Content-Length": str(len(body))})
        self._write(body)

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.hits = []
    _Handler.image = png()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    _Handler.port = httpd.server_address[1]
    with serving(httpd):
        yield f"http://127.0.0.1:{_Handler.port}"


def fetch(url: str, tmp_path: Path, **limits: object) -> Path:
    values: dict[str, object] = {"timeout": 5.0, "max_bytes": 1_000_000, "policy": LOOPBACK}
    values.update(limits)
    return fetch_image(url, cache_dir=tmp_path, limits=FetchLimits(**values))  # type: ignore[arg-type]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_is_refused_by_default_before_any_connection(
    tmp_path: Path, server: str, host: str
) -> None:
    port = server.rsplit(":", 1)[1]
    with pytest.raises(SourceImageError) as caught:
        fetch(f"http://{host}:{port}/ok.png", tmp_path, policy=AddressPolicy())
    assert "loopback" in caught.value.message
    assert "allow_private_networks" in caught.value.fix
    assert _Handler.hits == []


def test_allowed_loopback_is_fetched_once_and_cached(tmp_path: Path, server: str) -> None:
    first = fetch(f"{server}/ok.png", tmp_path)
    again = fetch(f"{server}/ok.png", tmp_path)
    assert first == again and first.read_bytes() == _Handler.image
    assert _Handler.hits == ["/ok.png"]


def test_raw_spaces_and_non_ascii_in_the_url_are_escaped(tmp_path: Path, server: str) -> None:
    path = fetch(f"{server}/café cover.png?size=big one", tmp_path)
    assert path.read_bytes() == _Handler.image
    assert _Handler.hits == ["/caf%C3%A9%20cover.png?size=big%20one"]


def test_the_deadline_covers_the_whole_download(tmp_path: Path, server: str) -> None:
    # Every byte arrives well within any per-read timeout; only a total deadline stops it.
    with pytest.raises(SourceImageError, match=r"took longer than 0\.5 s"):
        fetch(f"{server}/drip.png", tmp_path, timeout=0.5)
    assert not any((tmp_path / "remote").glob("*"))


class _SlowHeaders(socketserver.BaseRequestHandler):
    """Sends a status line one byte at a time: the deadline must cover headers too."""

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc":
                self.request.sendall(bytes([byte]))
                time.sleep(0.1)


class _SlowTLS(socketserver.BaseRequestHandler):
    """Answers a TLS ClientHello with a record header announcing 16 KB, then drips it."""

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            self.request.recv(4096)
            self.request.sendall(b"\x16\x03\x03\x40\x00")
            for _ in range(40):
                self.request.sendall(b"\x00")
                time.sleep(0.1)


@pytest.mark.parametrize(("handler", "scheme"), [(_SlowHeaders, "http"), (_SlowTLS, "https")])
def test_the_deadline_covers_headers_and_the_tls_handshake(
    tmp_path: Path, handler: type[socketserver.BaseRequestHandler], scheme: str
) -> None:
    tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    tcp.daemon_threads = True
    with serving(tcp):
        url = f"{scheme}://127.0.0.1:{tcp.server_address[1]}/x.png"
        with pytest.raises(SourceImageError, match=r"took longer than 0\.5 s"):
            fetch(url, tmp_path, timeout=0.5)


def test_byte_cap_while_reading_and_from_content_length(tmp_path: Path, server: str) -> None:
    with pytest.raises(SourceImageError, match="over the 100,000-byte limit"):
        fetch(f"{server}/big.png", tmp_path, max_bytes=100_000)
    with pytest.raises(SourceImageError, match="900,000,000 bytes, over the 100,000-byte"):
        fetch(f"{server}/declared.png", tmp_path, max_bytes=100_000)


def test_redirects_are_followed_and_counted(tmp_path: Path, server: str) -> None:
    path = fetch(f"{server}/hop/{MAX_REDIRECTS - 1}", tmp_path)
    assert path.read_bytes() == _Handler.image
    with pytest.raises(SourceImageError, match=f"redirected more than {MAX_REDIRECTS} times"):
        fetch(f"{server}/loop", tmp_path)
    assert _Handler.hits.count("/loop") == MAX_REDIRECTS + 1


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/to-other-loopback", "127.0.0.2 is a loopback address"),
        ("/to-zero", "0.0.0.0 is an unspecified address"),
        ("/to-file", "redirected to a non-http address"),
    ],
)
def test_every_redirect_is_checked_again(
    tmp_path: Path, server: str, path: str, expected: str
) -> None:
    # 127.0.0.1 is allowed, 127.0.0.2 is not: the redirect target is checked, not trusted.
    policy = AddressPolicy.from_config(("127.0.0.1/32",))
    with pytest.raises(SourceImageError) as caught:
        fetch(f"{server}{path}", tmp_path, policy=policy)
    assert expected in caught.value.message
    assert _Handler.hits == [path]


def test_a_closed_port_is_a_clear_failure(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceImageError, match="could not be fetched"):
        fetch(f"http://127.0.0.1:{port}/x.png", tmp_path)


# --- the cards stage: one Problem line per post, the other cards still built -----------------


def make_post(root: Path, post_id: str, url: str) -> Post:
    source = root / "posts" / post_id / "index.md"
    source.parent.mkdir(parents=True, exist_ok=True)
    return Post(
        id=post_id,
        source=source,
        url=f"https://blog.example.org/{post_id}/",
        page_url=f"https://blog.example.org/{post_id}/",
        path=None,
        external_url=None,
        title=f"Post {post_id}",
        summary="A summary.",
        date=datetime(2024, 5, 17, tzinfo=UTC),
        updated=None,
        og_image=None,
        og_image_url=url,
        categories=(),
        tags=(),
        authors=(Author(name="Ada"),),
        is_featured=False,
        is_popular=False,
        draft=False,
        body_markdown="",
        body_html="",
        frontmatter={},
    )


def test_hostile_remote_images_cost_one_problem_each(tmp_path: Path, server: str) -> None:
    posts = [
        make_post(tmp_path, "a-metadata", "http://169.254.169.254/latest/meta-data/"),
        make_post(tmp_path, "b-drip", f"{server}/drip.png"),
        make_post(tmp_path, "c-ok", f"{server}/ok.png"),
        make_post(tmp_path, "d-mapped", "http://[::ffff:10.0.0.1]/x.png"),
    ]
    options = CardOptions(
        fallback_fonts=(), remote_timeout=0.5, remote_allow_networks=("127.0.0.1/32",)
    )
    result = build_cards(
        SITE,
        posts,
        options,
        output=OutputWriter(tmp_path / "public"),
        cache_dir=tmp_path / "state",
        jobs=1,
        root=tmp_path,
    )
    assert len(result.cards) == 4  # every post still gets a card
    layouts = {c.post_id: c.layout for c in result.cards}
    assert layouts["c-ok"] == "hero"
    problems = {p.file.split("/")[1]: p for p in result.problems}
    assert sorted(problems) == ["a-metadata", "b-drip", "d-mapped"]
    assert "link-local" in problems["a-metadata"].message
    assert "took longer than 0.5 s" in problems["b-drip"].message
    assert "private address (as 10.0.0.1 inside the IPv6 address)" in problems["d-mapped"].message
    for problem in problems.values():
        assert problem.field == "ogImageUrl" and problem.severity == "warning"
        assert "\n" not in str(problem) and "Traceback" not in str(problem)
    assert "/ok.png" in _Handler.hits


def test_dry_runs_make_no_request(tmp_path: Path, server: str) -> None:
    post = make_post(tmp_path, "a-post", f"{server}/ok.png")
    options = CardOptions(fallback_fonts=(), remote_allow_networks=EVERY_NETWORK)
    dry = OutputWriter(tmp_path / "public", dry_run=True)
    planned = build_cards(
        SITE, [post], options, output=dry, cache_dir=tmp_path / "s", dry_run=True, root=tmp_path
    )
    one = render_one(SITE, post, options, output=dry, cache_dir=tmp_path / "s", root=tmp_path)
    assert _Handler.hits == []
    for result in (planned, one):
        (problem,) = result.problems
        assert problem.severity == "info" and "no network request" in problem.message
    # A real run with the same options does fetch: the dry runs held back on purpose.
    real = render_one(
        SITE,
        post,
        options,
        output=OutputWriter(tmp_path / "public"),
        cache_dir=tmp_path / "s",
        root=tmp_path,
    )
    assert real.problems == () and _Handler.hits == ["/ok.png"]


def test_remote_images_can_be_switched_off(tmp_path: Path, server: str) -> None:
    post = make_post(tmp_path, "a-post", f"{server}/ok.png")
    options = replace(CardOptions(fallback_fonts=()), remote_images=False)
    result = build_cards(
        SITE,
        [post],
        options,
        output=OutputWriter(tmp_path / "public"),
        cache_dir=tmp_path / "s",
        root=tmp_path,
    )
    assert result.problems == () and _Handler.hits == []


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 with a fresh self-signed certificate (IP SAN only),
    trusted through SSL_CERT_FILE, which the default TLS context reads."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    command += ["-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1"]
    command += ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(command, check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    _Handler.hits = []
    _Handler.image = png()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    _Handler.port = httpd.server_address[1]
    with serving(httpd):
        yield f"127.0.0.1:{_Handler.port}"


def test_https_is_verified_against_the_host_name(tmp_path: Path, tls_server: str) -> None:
    path = fetch(f"https://{tls_server}/ok.png", tmp_path / "a")
    assert path.read_bytes() == _Handler.image
    # Same server and address, but the certificate does not name "localhost".
    port = tls_server.rsplit(":", 1)[1]
    policy = AddressPolicy.from_config(("127.0.0.0/8", "::1/128"))
    with pytest.raises(SourceImageError, match="TLS: CERTIFICATE_VERIFY_FAILED"):
        fetch(f"https://localhost:{port}/ok.png", tmp_path / "b", policy=policy)


def test_announcements_never_fetch_a_card_url_inside_the_network() -> None:
    """Bluesky and Mastodon upload the card; one known only by a post's ogImageUrl is fetched
    under the same policy as the cards stage, never through the platform's session."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import requests

    from publisher.announce.http import card_bytes

    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"secret metadata")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/latest/meta-data/"
        assert requests.get(url, timeout=5).content == b"secret metadata"
        hits.clear()
        assert card_bytes(None, url, limit=1_000_000) is None
        assert hits == []
    finally:
        server.shutdown()
        server.server_close()
