"""Alerts delivered to a real local SMTP server and HTTP receiver with the cooldown honoured; JSON logs;
Prometheus metrics for cron."""

import email
import email.policy
import http.server
import json
import socket
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller

from helpers import NOON, insert_row

CALL = "GOOGL260220C00340000"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def webhook():
    posts = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield posts, f"http://127.0.0.1:{server.server_port}/hooks/desk"
    server.shutdown()
    server.server_close()


@pytest.fixture
def alerting(smtp, webhook):
    inbox, port = smtp
    posts, url = webhook
    env = {"PMCTL_SMTP_HOST": "127.0.0.1", "PMCTL_SMTP_PORT": str(port), "PMCTL_ALERT_EMAIL_TO": "desk@example.com",
           "PMCTL_ALERT_WEBHOOK_URL": url, "PMCTL_ALERT_TIMEOUT": "3"}
    return inbox, posts, env


def test_an_exit_and_an_unexpected_short_are_alerted_once_within_the_cooldown(desk, state, database_url, alerting):
    inbox, posts, env = alerting
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
               entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
    state.set_position("a", "ORCL", Decimal("-12"), Decimal("160"))
    state.set_price("ORCL", Decimal("158"))

    assert desk("check", "-a", "a", env=env).exit_code == 0

    [message] = inbox.messages
    assert message["To"] == "desk@example.com"
    assert "CRITICAL" in message["Subject"]
    text = message.get_content()
    assert "exit_triggered" in text and "stop_loss: sell 10 GOOGL260220C00340000" in text
    assert "unexpected_short" in text and "ORCL" in text
    [post] = posts
    assert "exit_triggered" in post["text"] and "unexpected_short" in post["text"]

    for _ in range(2):
        assert desk("check", "-a", "a", env=env).exit_code == 0
    assert len(inbox.messages) == 1 and len(posts) == 1

    assert desk("check", "-a", "a", env={**env, "PMCTL_ALERT_COOLDOWN_MINUTES": "0"}).exit_code == 0
    assert len(inbox.messages) == 2
    assert "unexpected_short" in inbox.messages[1].get_content()


def test_a_failed_delivery_is_logged_and_never_fails_the_cycle(desk, state, database_url):
    state.set_position("a", "ORCL", Decimal("-12"), Decimal("160"))
    env = {"PMCTL_SMTP_HOST": "127.0.0.1", "PMCTL_SMTP_PORT": "1", "PMCTL_ALERT_EMAIL_TO": "desk@example.com",
           "PMCTL_ALERT_TIMEOUT": "2"}
    result = desk("check", "-a", "a", env=env)
    assert result.exit_code == 0
    assert "pmctl: warning:" in result.stderr and "127.0.0.1" in result.stderr


def test_a_refused_account_is_alerted(desk, state, alerting, keys):
    inbox, posts, env = alerting
    assert desk("check").exit_code == 0
    crossed = {**env, "PMCTL_B_API_KEY": keys["a"][0], "PMCTL_B_SECRET_KEY": keys["a"][1]}
    assert desk("check", env=crossed).exit_code == 1
    [message] = inbox.messages
    assert "account_refused" in message.get_content() and "PA-A" in message.get_content()
    assert keys["a"][1] not in message.get_content() + json.dumps(posts)


def test_json_logs_are_one_object_per_line_with_account_position_and_event(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
    result = desk("--log-format", "json", "-v", "check", "-a", "a")
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stderr.splitlines()]
    [exit_] = [r for r in records if r.get("event") == "exit_triggered"]
    assert (exit_["level"], exit_["account"], exit_["position"], exit_["symbol"]) == ("info", "a", row, CALL)
    assert exit_["time"].endswith("+00:00")
    failed = desk("--log-format", "json", "check", "-a", "zz")
    assert failed.exit_code == 2
    assert json.loads(failed.stderr)["message"].startswith("unknown account 'zz'")


def test_quiet_and_default_levels(desk, state, database_url):
    insert_row(database_url, ticker="QCOM", quantity=5, entry_price=Decimal("150"), entry_time=NOON - timedelta(hours=1))
    default = desk("check", "-a", "a")
    assert "pmctl: warning: [a] ALERT warning phantom_found on row 1 QCOM" in default.stderr
    assert "already alerted" not in desk("check", "-a", "a").stderr
    insert_row(database_url, ticker="AMD", quantity=5, entry_price=Decimal("150"), entry_time=NOON - timedelta(hours=1))
    assert desk("-q", "check", "-a", "a").stderr == ""
    assert desk("--log-format", "yaml", "check").exit_code == 2


def test_metrics_file_for_the_textfile_collector(desk, state, database_url, tmp_path):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
               entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
    metrics = tmp_path / "collector" / "pmctl.prom"
    assert desk("check", "--metrics-file", str(metrics)).exit_code == 0
    text = metrics.read_text()
    assert 'pmctl_exits_total{account="a",reason="stop_loss"} 1' in text
    assert 'pmctl_cycle_success{account="a"} 1' in text and 'pmctl_cycle_success{account="b"} 1' in text
    assert 'pmctl_positions_open{account="a"} 1' in text
    assert "# TYPE pmctl_exits_total counter" in text
    success = [line for line in text.splitlines() if line.startswith('pmctl_last_success_timestamp_seconds{account="a"}')]
    state.inject_fault("/v2/positions", "error", count=10, status=500)
    assert desk("check", "-a", "a", "--metrics-file", str(metrics)).exit_code == 1
    after = metrics.read_text()
    assert 'pmctl_cycle_success{account="a"} 0' in after
    assert success[0] in after
    assert 'pmctl_exits_total{account="a",reason="stop_loss"} 1' in after


def test_the_metrics_file_is_readable_by_the_collector(desk, tmp_path):
    metrics = tmp_path / "pmctl.prom"
    assert desk("check", "--metrics-file", str(metrics)).exit_code == 0
    assert metrics.stat().st_mode & 0o777 == 0o644
