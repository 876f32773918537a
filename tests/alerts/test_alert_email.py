"""Email against a real SMTP server (aiosmtpd) on 127.0.0.1: plain, with login, with STARTTLS."""

import logging
import time
from email.utils import parsedate_to_datetime

import pytest

from alert_samples import PASSWORD, USER, notices
from pmctl.alerts.delivery import send_email
from pmctl.alerts.model import AlertSettings
from pmctl.alerts.message import body, subject
from pmctl.secret import Secret

# The plain-text login tests need exactly the setup aiosmtpd warns about.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def settings_for(port: int, **overrides) -> AlertSettings:
    fields = {"smtp_host": "127.0.0.1", "smtp_port": port, "email_to": ("ops@example.com", "cto@example.com"),
              "email_from": "pmctl@desk.example.com", "timeout": 2.0, **overrides}
    return AlertSettings(**fields)


def test_the_alert_arrives_with_subject_recipients_and_one_line_per_notice(smtp_server):
    server = smtp_server()
    assert send_email(settings_for(server.port), notices()) is None
    [got] = server.inbox.received
    assert got.mail_from == "pmctl@desk.example.com"
    assert got.rcpt_tos == ["ops@example.com", "cto@example.com"]
    assert got.message["Subject"] == "[pmctl] CRITICAL: 2 alerts (unexpected_short, order_failed) on large"
    assert got.message["To"] == "ops@example.com, cto@example.com"
    assert got.message["Message-ID"].endswith("@desk.example.com>")
    assert parsedate_to_datetime(got.message["Date"]).utcoffset().total_seconds() == 0
    assert got.message.get_content().splitlines() == body(notices()).splitlines()
    assert not got.tls, "this server offers no STARTTLS, so the alert goes in plain text"


def test_login_is_sent_when_a_user_is_configured(smtp_server):
    server = smtp_server(login=True, auth_require_tls=False)
    settings = settings_for(server.port, smtp_user=USER, smtp_password=Secret(PASSWORD))
    assert send_email(settings, notices()) is None
    [got] = server.inbox.received
    assert got.login == USER


def test_a_wrong_password_is_reported_without_revealing_it(smtp_server, caplog):
    server = smtp_server(login=True, auth_require_tls=False)
    wrong = "not-the-" + PASSWORD
    caplog.set_level(logging.DEBUG)
    error = send_email(settings_for(server.port, smtp_user=USER, smtp_password=Secret(wrong)), notices())
    assert error is not None and "535" in error
    assert "\n" not in error
    assert wrong not in error and wrong not in caplog.text
    assert server.inbox.received == []


def test_a_server_requiring_login_refuses_an_alert_sent_without_one(smtp_server):
    server = smtp_server(login=True, auth_require_tls=False)
    error = send_email(settings_for(server.port), notices())
    assert error is not None and "530" in error
    assert server.inbox.received == []


def test_starttls_is_used_when_offered_and_login_happens_inside_it(smtp_server, server_tls, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    # This server refuses both MAIL and AUTH before STARTTLS: delivery proves the upgrade.
    server = smtp_server(login=True, tls_context=server_tls, require_starttls=True)
    settings = settings_for(server.port, smtp_user=USER, smtp_password=Secret(PASSWORD))
    assert send_email(settings, notices()) is None
    [got] = server.inbox.received
    assert got.tls and got.login == USER
    assert got.message["Subject"] == subject(notices())


def test_an_untrusted_certificate_stops_the_alert_before_the_password_is_sent(smtp_server, server_tls, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    server = smtp_server(login=True, tls_context=server_tls, auth_require_tls=False)
    error = send_email(settings_for(server.port, smtp_user=USER, smtp_password=Secret(PASSWORD)), notices())
    assert error is not None and "certificate" in error.lower()
    assert PASSWORD not in error
    assert server.inbox.received == []


def test_a_refused_recipient_is_reported_while_the_others_get_the_alert(smtp_server):
    server = smtp_server()
    error = send_email(settings_for(server.port, email_to=("ops@example.com", "nobody@example.com")), notices())
    assert error is not None and "nobody@example.com" in error and "550" in error
    [got] = server.inbox.received
    assert got.rcpt_tos == ["ops@example.com"]


def test_every_recipient_refused_is_reported(smtp_server):
    server = smtp_server()
    error = send_email(settings_for(server.port, email_to=("nobody@example.com",)), notices())
    assert error is not None and "every recipient refused: nobody@example.com (550" in error
    assert server.inbox.received == []


def test_no_server_listening_is_reported_at_once(closed_port):
    started = time.monotonic()
    error = send_email(settings_for(closed_port), notices())
    assert error is not None and f"127.0.0.1:{closed_port}" in error
    assert time.monotonic() - started < 1.5


def test_a_server_that_never_answers_is_given_up_on_after_the_timeout(silent_port):
    started = time.monotonic()
    error = send_email(settings_for(silent_port, timeout=0.5), notices())
    assert error is not None and "timed out" in error
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("host", ["no-such-host.invalid", ""])
def test_an_unusable_host_is_reported_not_raised(host):
    assert send_email(settings_for(25, smtp_host=host, timeout=1.0), notices()) is not None
