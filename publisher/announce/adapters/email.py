"""Email to a list over SMTP: STARTTLS (port 587) or SMTPS (465), login from ``${ENV}``.

One ``multipart/alternative`` message: a plain-text part from ``templates/announce/
email.j2`` (the rendered announcement) and an HTML part from ``email.html.j2``
(autoescaped). ``Message-ID`` is derived from the post and the recipient list alone, so
any resend of the same announcement to the same list carries the same id (list servers,
archives and mail clients that drop repeated ids do so); ``Date`` is the first attempt's.

Delivery, step by step with :mod:`smtplib` so each failure means what it says:

* no connection, TLS or login failure, a ``4xx`` reply anywhere: nothing was accepted;
  4xx is "try again" (``retry``), 5xx at login is 401, at ``MAIL FROM`` 403, at ``RCPT
  TO`` 404 (the target is wrong: it stops) and after the message 400 (this message was
  refused: the next one still goes);
* the connection lost or timed out after the message's final ``.`` left: the server may
  have queued it (``unknown``).

SMTP has no idempotency key the server checks, so this is **at-most-once**: an ambiguous
send is in doubt, and ``--retry-in-doubt`` resends with the same ``Message-ID``. There is
no read-back (the sender cannot see the list's mailboxes).

Limits are ours (SMTP has none for a body; a line is at most 998 octets, which the MIME
encoder guarantees): subject 200 code points, text 20,000 code points.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, parseaddr
from pathlib import Path
from typing import Any, ClassVar

import jinja2
import requests

from publisher import resources
from publisher.announce.contract import (
    REQUIRED,
    SECRET,
    Announcement,
    Announcer,
    DeliveryError,
    Outcome,
    Receipt,
    SetupError,
    TextLimit,
)
from publisher.announce.redact import redact

TEXT = TextLimit(20000, "chars")
SUBJECT = TextLimit(200, "chars")
PORTS = {"starttls": 587, "smtps": 465, "none": 25}


def message_id(post_id: str, recipients: list[str], sender: str) -> str:
    """``<hash@sender-domain>``, the same for a post and a list whatever the attempt."""
    seed = post_id + "\n" + ",".join(sorted(r.lower() for r in recipients))
    digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "publisher.invalid"
    return f"<{digest}.announce@{domain}>"


class _Refused(Exception):
    def __init__(self, status: int | None, reason: str, outcome: Outcome) -> None:
        super().__init__(reason)
        self.status, self.reason, self.outcome = status, reason, outcome


def _reply(stage: str, code: int, text: bytes | str, refused_as: int) -> _Refused:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    reason = f"SMTP {code} at {stage}: {' '.join(message.split())}"[:300]
    if 400 <= code < 500:
        return _Refused(503, reason, "retry")
    return _Refused(refused_as, f"{reason} (permanent: fix the target or the post)", "refused")


class EmailAnnouncer(Announcer):
    kind = "email"
    limit = TEXT
    #: The other fields it cuts to fit (the docs' limits table lists each).
    limits: ClassVar[Mapping[str, TextLimit]] = {"subject": SUBJECT}
    idempotent = False
    options: ClassVar[Mapping[str, Any]] = {
        "host": REQUIRED,
        "port": None,
        "security": "starttls",
        "username": REQUIRED,
        "password": SECRET,
        "from": REQUIRED,
        "to": REQUIRED,
        "subject": "{title}",
        "html_template": None,
        "ca_file": None,
    }
    # -- the message -------------------------------------------------------------------

    def recipients(self) -> list[str]:
        return [addr for _, addr in getaddresses([str(self.config["to"])]) if addr]

    def sender(self) -> str:
        return parseaddr(str(self.config["from"]))[1]

    def subject(self, announcement: Announcement) -> str:
        pattern = str(self.config.get("subject") or "{title}")
        title = " ".join(announcement.title.split())
        return SUBJECT.clip(" ".join(pattern.replace("{title}", title).split())) or title[:1]

    def html(self, announcement: Announcement) -> str:
        override = self.config.get("html_template")
        if override:
            path = Path(str(override))
            path = path if path.is_absolute() else self.root / path
            try:
                source = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise SetupError(
                    self.name, f"html_template {override} cannot be read ({exc.strerror})"
                ) from None
            template = _environment(path.parent).from_string(source)
        else:
            template = _environment(resources.templates() / "announce").get_template(
                "email.html.j2"
            )
        post = announcement.post
        try:
            return template.render(
                title=announcement.title,
                summary=announcement.summary,
                text=announcement.text,
                url=announcement.url,
                image=announcement.card.url if announcement.card else None,
                alt=(announcement.card.alt if announcement.card else "") or announcement.title,
                tags=list(post.tags),
                authors=[a.name for a in post.authors],
                date=post.date,
                post=post,
            )
        except jinja2.TemplateError as exc:
            raise SetupError(self.name, f"html template error: {exc}; fix the template") from None

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        return {
            "from": str(self.config["from"]),
            "to": self.recipients(),
            "subject": self.subject(announcement),
            "message_id": message_id(announcement.post.id, self.recipients(), self.sender()),
            "date": format_datetime(announcement.created_at),
            "text": TEXT.clip(announcement.text),
            "html": self.html(announcement),
        }

    def message(self, announcement: Announcement) -> EmailMessage:
        """The MIME message exactly as it is sent."""
        body = self.payload(announcement)
        # 7-bit on the wire: quoted-printable/base64 bodies need no 8BITMIME from the relay.
        message = EmailMessage(policy=SMTP.clone(cte_type="7bit"))
        message["From"] = body["from"]
        message["To"] = ", ".join(body["to"])
        message["Subject"] = body["subject"]
        message["Date"] = body["date"]
        message["Message-ID"] = body["message_id"]
        message["X-Publisher-Post"] = announcement.post.id
        message.set_content(body["text"], subtype="plain", charset="utf-8")
        message.add_alternative(body["html"], subtype="html", charset="utf-8")
        return message

    # -- sending -----------------------------------------------------------------------

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        password = self.secret("password")
        message = self.message(announcement)
        data = message.as_bytes()
        try:
            self._send(data, password)
        except _Refused as exc:
            raise DeliveryError(
                self.name, exc.status, redact(exc.reason), outcome=exc.outcome
            ) from None
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=str(message["Message-ID"]),
            status=250,
        )

    def _context(self) -> ssl.SSLContext:
        ca_file = self.config.get("ca_file")
        if not ca_file:
            return ssl.create_default_context()
        path = Path(str(ca_file))
        return ssl.create_default_context(
            cafile=str(path if path.is_absolute() else self.root / path)
        )

    def _send(self, data: bytes, password: str) -> None:
        host = str(self.config["host"])
        security = str(self.config.get("security") or "starttls")
        port = _port(self.name, self.config.get("port"), PORTS.get(security, 587))
        timeout = self.timeout[1]
        sender, recipients = self.sender(), self.recipients()
        try:
            smtp: smtplib.SMTP
            if security == "smtps":
                smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
        except ssl.SSLError as exc:
            raise _Refused(
                403, f"SMTP: TLS failed ({exc.reason}); check ca_file (permanent)", "refused"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise _Refused(
                None, f"SMTP: could not connect ({type(exc).__name__})", "retry"
            ) from None
        try:
            self._transact(smtp, data, password, sender, recipients)
        finally:
            # close(), not quit(): after a lost answer, QUIT would wait on a dead socket.
            smtp.close()

    def _transact(
        self, smtp: smtplib.SMTP, data: bytes, password: str, sender: str, recipients: list[str]
    ) -> None:
        security = str(self.config.get("security") or "starttls")
        try:
            smtp.ehlo()
            if security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
            smtp.login(str(self.config["username"]), password)
        except smtplib.SMTPAuthenticationError as exc:
            raise _reply("login", exc.smtp_code, exc.smtp_error, 401) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise _Refused(
                401, f"SMTP: {exc}; check security and port (permanent)", "refused"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise _reply("login", exc.smtp_code, exc.smtp_error, 401) from None
        except ssl.SSLError as exc:
            raise _Refused(
                403, f"SMTP: TLS failed ({exc.reason}); check ca_file (permanent)", "refused"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise _Refused(None, f"SMTP: connection lost ({type(exc).__name__})", "retry") from None
        try:
            code, text = smtp.mail(sender)
            if code != 250:
                raise _reply("MAIL FROM", code, text, 401 if code == 530 else 403)
            for recipient in recipients:
                code, text = smtp.rcpt(recipient)
                if code not in (250, 251):
                    raise _reply(f"RCPT TO {recipient}", code, text, 404)
            code, text = smtp.docmd("DATA")
            if code != 354:
                raise _reply("DATA", code, text, 400)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise _Refused(None, f"SMTP: connection lost ({type(exc).__name__})", "retry") from None
        # From here on the server may have the message: a lost answer is "unknown".
        try:
            smtp.send(_dot_stuffed(data))
            code, text = smtp.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise _Refused(
                None,
                f"SMTP: no answer after the message was sent ({type(exc).__name__})",
                "unknown",
            ) from None
        if code != 250:
            raise _reply("end of message", code, text, 400)
        # The message was accepted: how the session ends does not matter.
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.docmd("QUIT")


def _port(target: str, value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        port = int(str(value))
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise SetupError(target, f"port {value!r} is not a port number; write it like 587")
    return port


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, leading dots doubled, ``.`` last."""
    lines = re.sub(rb"\r?\n", b"\r\n", data)
    stuffed = re.sub(rb"(?m)^\.", b"..", lines)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def _environment(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
