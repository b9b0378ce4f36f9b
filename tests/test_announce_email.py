"""Email over SMTP against a real SMTP server (aiosmtpd) on 127.0.0.1: the shared table
(tests/announce_table.py), then TLS, refusals, Message-ID and line lengths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from announce_table import TABLE, by_kind, rows
from fakes.harness import Platform, announce, baseline, running
from fakes.platforms_more import (
    SMTP_FROM,
    SMTP_PASSWORD,
    SMTP_TO,
    SMTP_USER,
    SMTPFake,
    check_email,
    make_certificate,
)
from fakes.posts import make_post, target
from fakes.server import Fault

from publisher.announce import Card
from publisher.announce.adapters.email import message_id as email_message_id

# aiosmtpd warns about AUTH without TLS: the table runs SMTP in the clear to stay fast;
# STARTTLS and SMTPS have tests of their own.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning",
    "ignore:Session.login_data is deprecated:DeprecationWarning",
)

ROWS = rows("email")


@pytest.fixture(params=ROWS, ids=[row.kind for row in ROWS])
def platform(request: pytest.FixtureRequest) -> Platform:
    return request.param


# The shared table, run here over ROWS.
globals().update(TABLE)


# -- Email -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    made = make_certificate(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("openssl is not installed")
    return made


@pytest.mark.parametrize("security", ["starttls", "smtps"])
def test_email_over_tls_sends_text_and_html_with_a_stable_message_id(
    security: str,
    certificate: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = tmp_path / "state"
    posts = [make_post(1, title="<script>x</script> & Grüße 漢字"), make_post(2)]
    card = Card(url="https://blog.example.org/cards/1.jpg", alt='A "card"')
    extra = {"security": security, "certificate": certificate, "ca_file": str(certificate[0])}
    with running(by_kind("email"), monkeypatch, **extra) as (fake, config):
        assert isinstance(fake, SMTPFake)
        baseline([config], state)
        report = announce([config], posts, state, cards={posts[0].id: card})
    assert fake.problems == [] and report.sent == 2
    assert fake.logins == [(SMTP_USER, SMTP_PASSWORD)] * 2
    first, second = fake.delivered
    assert first["Subject"] == posts[0].title and first["To"] == SMTP_TO
    plain = first.get_body(("plain",)).get_content()
    html = first.get_body(("html",)).get_content()
    assert posts[0].title in plain and plain.rstrip().endswith(posts[0].url)
    assert "&lt;script&gt;x&lt;/script&gt; &amp; Grüße 漢字" in html and "<script>" not in html
    assert f'<img src="{card.url}" alt="A &#34;card&#34;"' in html
    assert first["Message-ID"] != second["Message-ID"]
    assert report.decisions[0].remote_id == first["Message-ID"]
    # The id belongs to the post and the list, not to the attempt.
    assert first["Message-ID"] == email_message_id(posts[0].id, [SMTP_TO], SMTP_USER)
    assert (
        email_message_id(posts[0].id, ["other@lists.example.org"], SMTP_USER)
        != (first["Message-ID"])
    )


def test_email_certificate_not_trusted_fails_the_target_without_sending(
    certificate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    extra = {"security": "starttls", "certificate": certificate}
    with running(by_kind("email"), monkeypatch, **extra) as (fake, config):
        baseline([config], state)
        report = announce([config], [make_post(1), make_post(2)], state)
    assert [d.result for d in report.decisions] == ["failed", "deferred"]
    assert "TLS failed" in (report.decisions[0].error or "") and fake.delivered == []


@pytest.mark.parametrize(
    ("fault", "status", "results"),
    [
        (Fault.status(401), 401, ["failed", "deferred"]),
        (Fault.status(404), 404, ["failed", "deferred"]),
        (Fault.status(400), 400, ["failed", "sent"]),
    ],
    ids=["auth-required", "recipient-unknown", "message-refused"],
)
def test_email_refusals_are_permanent_and_say_the_smtp_reply(
    fault: Fault,
    status: int,
    results: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = tmp_path / "state"
    with running(by_kind("email"), monkeypatch) as (fake, config):
        baseline([config], state)
        fake.fail_next(fault)
        report = announce([config], [make_post(1), make_post(2)], state)
    assert [d.result for d in report.decisions] == results
    decision = report.decisions[0]
    assert decision.http_status == status and "SMTP 5" in (decision.error or "")
    assert len(fake.delivered) == results.count("sent")


def test_email_wrong_password_stops_the_target_and_is_not_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("email"), monkeypatch) as (fake, config):
        baseline([config], state)
        monkeypatch.setenv("T_SMTP_PASSWORD", "a-wrong-password-123")
        raw = {k: v for k, v in config.options.items() if k in ("host", "port", "security")}
        wrong = target(
            "email",
            "email",
            {**raw, "username": SMTP_USER, "password": "${T_SMTP_PASSWORD}", "from": SMTP_FROM}
            | {"to": SMTP_TO},
        )
        report = announce([wrong], [make_post(1), make_post(2)], state)
    assert [d.result for d in report.decisions] == ["failed", "deferred"]
    assert report.decisions[0].http_status == 401
    assert "a-wrong-password-123" not in json.dumps(report.as_dict())
    assert fake.delivered == []


def test_email_resend_in_doubt_carries_the_same_message_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("email"), monkeypatch, timeout=0.4) as (fake, config):
        baseline([config], state)
        fake.fail_next(Fault.drop())
        first = announce([config], [make_post(1)], state)
        again = announce([config], [make_post(1)], state, retry_in_doubt=True)
    assert first.in_doubt == 1 and again.sent == 1
    one, two = fake.delivered
    assert one["Message-ID"] == two["Message-ID"]
    # Date is the first attempt's time, kept in the ledger: the same on the resend.
    assert one["Date"] == two["Date"]


def test_email_long_unbroken_text_keeps_lines_within_998_octets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    post = make_post(1, title="漢" * 3000, summary="x" * 30000)
    with running(by_kind("email"), monkeypatch) as (fake, config):
        baseline([config], state)
        report = announce([config], [post], state)
    assert report.sent == 1 and fake.problems == []
    (message,) = fake.delivered
    assert len(message["Subject"]) <= 200
    # The part as sent: CRLF line ends and a final line end added by MIME.
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip("\n")
    assert check_email({"subject": message["Subject"], "text": text}) == []


def test_email_port_that_is_not_a_number_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("T_SMTP_PASSWORD", "a-password-for-nothing")
    raw = {"host": "127.0.0.1", "port": "smtp", "username": SMTP_USER}
    config = target(
        "email",
        "email",
        {**raw, "password": "${T_SMTP_PASSWORD}", "from": SMTP_FROM, "to": SMTP_TO},
    )
    baseline([config], state)
    report = announce([config], [make_post(1)], state)
    (decision,) = report.decisions
    assert decision.result == "failed"
    assert "port 'smtp' is not a port number; write it like 587" in (decision.error or "")
