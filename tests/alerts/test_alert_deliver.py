"""``deliver``: every configured channel, failures returned and logged, never raised."""

import json
import logging
from datetime import UTC, datetime

from alert_samples import PASSWORD, USER, notices
from pmctl.alerts.delivery import deliver
from pmctl.alerts.model import AlertSettings, Notice
from pmctl.secret import Secret


def both(smtp_port: int, webhook_url: str, **overrides) -> AlertSettings:
    fields = {"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "email_to": ("ops@example.com",),
              "webhook_url": webhook_url, "timeout": 2.0, **overrides}
    return AlertSettings(**fields)


def test_every_configured_channel_gets_the_alert(smtp_server, http_receiver, caplog):
    server, receiver = smtp_server(), http_receiver()
    assert deliver(both(server.port, receiver.url), notices()) == []
    assert len(server.inbox.received) == 1 and len(receiver.posts) == 1
    assert not [r for r in caplog.records if r.name == "pmctl.alerts"]


def test_nothing_configured_sends_nothing(smtp_server, http_receiver):
    server, receiver = smtp_server(), http_receiver()
    assert deliver(AlertSettings(), notices()) == []
    # A host with no recipients is not a configured channel either.
    assert deliver(AlertSettings(smtp_host="127.0.0.1", smtp_port=server.port), notices()) == []
    assert server.inbox.received == [] and receiver.posts == []


def test_no_notices_sends_nothing(smtp_server, http_receiver):
    server, receiver = smtp_server(), http_receiver()
    assert deliver(both(server.port, receiver.url), []) == []
    assert server.inbox.received == [] and receiver.posts == []


def test_failures_are_returned_and_logged_as_warnings_without_the_password(closed_port, http_receiver, caplog):
    receiver = http_receiver(status=500)
    settings = both(closed_port, f"{receiver.url}/hook", smtp_user=USER, smtp_password=Secret(PASSWORD))
    caplog.set_level(logging.DEBUG)
    errors = deliver(settings, notices())
    assert len(errors) == 2
    assert errors[0].startswith("email via 127.0.0.1") and errors[1].startswith("webhook to http://127.0.0.1")
    warnings = [r for r in caplog.records if r.name == "pmctl.alerts"]
    assert [r.levelno for r in warnings] == [logging.WARNING, logging.WARNING]
    assert all(error in record.getMessage() for error, record in zip(errors, warnings))
    assert PASSWORD not in caplog.text


def test_one_channel_failing_does_not_stop_the_other(closed_port, http_receiver):
    receiver = http_receiver()
    errors = deliver(both(closed_port, receiver.url), notices())
    assert len(errors) == 1 and errors[0].startswith("email")
    assert len(receiver.posts) == 1


def test_an_untimed_notice_shows_the_same_send_time_in_email_and_chat(smtp_server, http_receiver):
    server, receiver = smtp_server(), http_receiver()
    before = datetime.now(UTC).replace(microsecond=0)
    assert deliver(both(server.port, receiver.url), [Notice("cycle_failed", "tiny", "error", "boom")]) == []
    emailed = server.inbox.received[0].message.get_content().split()[0]
    posted = json.loads(receiver.posts[0].body)["text"].splitlines()[1].split()[0]
    assert emailed == posted
    assert before <= datetime.fromisoformat(emailed) <= datetime.now(UTC)
