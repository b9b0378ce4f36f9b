"""Email: a real SMTP server (aiosmtpd), with STARTTLS and SMTPS."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from email.parser import BytesParser
from email.policy import default as email_default
from pathlib import Path
from typing import Any

import pytest

from publisher.config import TargetConfig

from ..posts import target
from ..server import FakePlatform, Fault, Request
from .common import cp, over

# -- Email (a real SMTP server: aiosmtpd) -------------------------------------------------

SMTP_USER = "blog@example.org"
SMTP_PASSWORD = "smtp-Pa55word-for-the-list-relay"
SMTP_FROM = "Lantern blog <blog@example.org>"
SMTP_TO = "announce@lists.example.org"


def check_email(p: dict[str, Any]) -> list[str]:
    """Our budgets: subject 200, text 20,000 code points (SMTP itself caps lines only)."""
    return over("subject", p["subject"], cp, 200) + over("text", p["text"], cp, 20_000)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A self-signed certificate for 127.0.0.1 (openssl), or None without openssl."""
    if shutil.which("openssl") is None:
        return None
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class SMTPFake(FakePlatform):
    """aiosmtpd on 127.0.0.1: AUTH (over TLS unless ``security='none'``), MAIL, RCPT, DATA.

    A fault applies to the next mail transaction (MAIL FROM): HTTP-style codes become the
    SMTP replies a relay gives (401 -> 530 at MAIL, 403 -> 550 at MAIL, 404 -> 550 at RCPT,
    400 -> 554 after the message, any other -> 451 at MAIL); ``timeout``/``drop``/``mangle``
    take the message, then answer late, never, or oddly."""

    name = "email"

    def __init__(self, security: str = "starttls", certificate: tuple[Path, Path] | None = None):
        super().__init__()
        self.security = security
        self.certificate = certificate
        self.port = free_port()
        self.controller: Any = None
        self.logins: list[tuple[str, str]] = []

    def start(self) -> SMTPFake:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        fake = self

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
            if not isinstance(data, LoginPassword):
                return AuthResult(success=False, handled=False)
            login, password = data.login.decode(), data.password.decode()
            fake.logins.append((login, password))
            # handled=False: aiosmtpd answers (235, or 535 on a wrong password) itself.
            ok = (login, password) == (SMTP_USER, SMTP_PASSWORD)
            return AuthResult(success=ok, handled=False)

        context = None
        if self.certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*(str(p) for p in self.certificate))
        kwargs: dict[str, Any] = {
            "authenticator": authenticator,
            "auth_required": True,
            # aiosmtpd counts only STARTTLS as TLS; under SMTPS the whole session is TLS.
            "auth_require_tls": self.security == "starttls",
        }
        if self.security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if self.security == "smtps":
            kwargs["ssl_context"] = context
        self.controller = Controller(
            _SMTPHandler(self), hostname="127.0.0.1", port=self.port, **kwargs
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def base(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def is_write(self, request: Request) -> bool:
        return request.method == "MAIL"


class _SMTPHandler:
    def __init__(self, fake: SMTPFake) -> None:
        self.fake = fake
        self.pending: dict[int, Fault | None] = {}

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        fake = self.fake
        request = Request("MAIL", "/", {}, {"from": address}, b"")
        with fake.lock:
            fake.requests.append(request)
            fault = fake.faults.popleft() if fake.faults else None
        self.pending[id(session)] = fault
        if fault is not None and fault.kind == "echo":
            return f"530 5.7.0 Not authenticated as {SMTP_USER}:{SMTP_PASSWORD}"
        if fault is not None and fault.kind == "status" and fault.code not in (400, 404):
            return {401: "530 5.7.0 Authentication required", 403: "550 5.7.1 Sender rejected"}.get(
                fault.code, "451 4.3.0 Temporary local problem, try again later"
            )
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        fault = self.pending.get(id(session))
        if fault is not None and fault.kind == "status" and fault.code == 404:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        fake = self.fake
        fault = self.pending.pop(id(session), None)
        if fault is not None and fault.kind == "status":
            return "554 5.6.0 Message refused"
        raw: bytes = envelope.original_content or envelope.content
        message = BytesParser(policy=email_default).parsebytes(raw)
        for line in raw.split(b"\r\n"):
            if len(line) > 998:
                fake.problem("email: a line over 998 octets")
        if not raw.isascii():
            fake.problem("email: 8-bit data without 8BITMIME/SMTPUTF8")
        for header in ("From", "To", "Subject", "Date", "Message-ID"):
            if not message[header]:
                fake.problem(f"email: no {header}")
        if message.get_content_type() != "multipart/alternative":
            fake.problem(f"email: {message.get_content_type()}, not multipart/alternative")
        with fake.lock:
            fake.delivered.append(message)
        fake.processed_event.set()
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind == "drop":
            server.transport.close()
            return "250 never heard"
        if fault is not None and fault.kind == "mangle":
            return "250 " + str(fault.payload)[:60].replace("\n", " ")
        return "250 2.0.0 Ok: queued as 4Bq9Kx"


def start_email(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    security = str(extra.pop("security", "none"))
    certificate = extra.pop("certificate", None)
    fake = SMTPFake(security, certificate).start()
    mp.setenv("T_SMTP_PASSWORD", SMTP_PASSWORD)
    raw = {
        "host": "127.0.0.1",
        "port": fake.port,
        "security": security,
        "username": SMTP_USER,
        "password": "${T_SMTP_PASSWORD}",
        "from": SMTP_FROM,
        "to": SMTP_TO,
        **extra,
    }
    return fake, target("email", "email", raw)
