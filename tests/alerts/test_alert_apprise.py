"""apprise URLs (PMCTL_ALERT_APPRISE_URLS) against a real HTTP receiver on 127.0.0.1, through apprise's json://
service: the alert arrives, failures are one line without the URL's tokens, a bad URL ends start-up with exit 2."""

import json
import logging
import time
from decimal import Decimal

import pytest

from alert_samples import notices
from pmctl.alerts.delivery import deliver
from pmctl.alerts.message import line, subject
from pmctl.alerts.model import AlertSettings
from pmctl.alerts.services import parse_urls
from pmctl.errors import ConfigError

TOKEN = "T0KEN5ECRET"
VARIABLE = "PMCTL_ALERT_APPRISE_URLS"


def json_url(base: str, path: str = f"hooks/{TOKEN}") -> str:
    return base.replace("http://", "json://") + "/" + path


def through(*urls: str, timeout: float = 2.0, **channels) -> AlertSettings:
    return AlertSettings(apprise_urls=parse_urls(VARIABLE, ", ".join(urls)), timeout=timeout, **channels)


def test_the_alert_text_arrives_through_a_json_url(http_receiver, caplog):
    receiver = http_receiver()
    assert deliver(through(json_url(receiver.url)), notices()) == []
    [post] = receiver.posts
    assert post.path == f"/hooks/{TOKEN}" and post.content_type == "application/json"
    sent = json.loads(post.body)
    assert sent["title"] == subject(notices())
    assert sent["message"].splitlines() == [line(n) for n in reversed(notices())]
    assert sent["type"] == "failure"
    assert not [r for r in caplog.records if r.name == "pmctl.alerts"]


def test_a_refusing_service_is_one_line_naming_its_host_but_not_its_token(http_receiver, caplog):
    receiver = http_receiver(status=500)
    caplog.set_level(logging.DEBUG)
    [error] = deliver(through(json_url(receiver.url)), notices())
    assert error.startswith(f"apprise {receiver.url.replace('http://', 'json://')} failed") and "500" in error
    shown = [r.getMessage() for r in caplog.records if r.name.startswith("pmctl")]
    assert TOKEN not in error and not [message for message in shown if TOKEN in message]
    assert [r.getMessage() for r in caplog.records if r.name == "pmctl.alerts"] == [f"alert delivery failed: {error}"]


def test_a_service_that_never_answers_is_given_up_on_after_the_timeout(silent_port):
    started = time.monotonic()
    [error] = deliver(through(f"json://127.0.0.1:{silent_port}/{TOKEN}", timeout=0.5), notices())
    assert error.startswith(f"apprise json://127.0.0.1:{silent_port} failed") and TOKEN not in error
    assert time.monotonic() - started < 2.5


def test_one_url_failing_does_not_stop_the_webhook_or_the_next_url(http_receiver, closed_port):
    webhook, chat = http_receiver(), http_receiver()
    settings = through(f"json://127.0.0.1:{closed_port}/{TOKEN}", json_url(chat.url), webhook_url=webhook.url)
    [error] = deliver(settings, notices())
    assert error.startswith(f"apprise json://127.0.0.1:{closed_port} failed")
    assert len(webhook.posts) == 1 and len(chat.posts) == 1


def test_urls_are_split_on_commas_and_spaces_but_not_inside_a_url():
    urls = parse_urls(VARIABLE, f" json://127.0.0.1:9/a?x=1,2 ,slack://{TOKEN}/B0/C0,\n tgram://123456789:{TOKEN}/42 ")
    assert [url.reveal() for url in urls] == [
        "json://127.0.0.1:9/a?x=1,2", f"slack://{TOKEN}/B0/C0", f"tgram://123456789:{TOKEN}/42"]
    assert TOKEN not in repr(AlertSettings(apprise_urls=urls))
    assert parse_urls(VARIABLE, None) == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{TOKEN}", "URL 1 is not a service URL"),
        (f"json://127.0.0.1/x {TOKEN}", "URL 2 is not a service URL"),
        (f"json://127.0.0.1/x, nosuch://{TOKEN}", "URL 2: nosuch:// is not a service apprise knows"),
        (f"slack://{TOKEN}", "URL 1 is not a slack:// URL apprise can use"),
    ],
)
def test_a_url_apprise_cannot_use_is_named_by_place_and_scheme_only(text, message):
    with pytest.raises(ConfigError, match=f"^{VARIABLE}: ") as refused:
        parse_urls(VARIABLE, text)
    assert message in str(refused.value) and TOKEN not in str(refused.value)


def test_a_bad_url_ends_start_up_with_exit_2_and_never_shows_the_token(pmctl):
    result = pmctl("migrate", env={VARIABLE: f"json://127.0.0.1/ok slack://{TOKEN}"})
    assert result.exit_code == 2
    assert result.stderr == f"pmctl: error: {VARIABLE}: URL 2 is not a slack:// URL apprise can use\n"


def test_a_cycle_pages_through_apprise_once_within_the_cooldown(desk, state, http_receiver):
    receiver = http_receiver()
    env = {VARIABLE: json_url(receiver.url), "PMCTL_ALERT_TIMEOUT": "3"}
    state.set_position("a", "ORCL", Decimal("-12"), Decimal("160"))
    assert desk("check", "-a", "a", env=env).exit_code == 0
    [post] = receiver.posts
    assert "unexpected_short" in json.loads(post.body)["message"]
    assert desk("check", "-a", "a", env=env).exit_code == 0
    assert len(receiver.posts) == 1


def test_a_failed_page_is_a_warning_and_never_fails_the_cycle(desk, state, closed_port):
    state.set_position("a", "ORCL", Decimal("-12"), Decimal("160"))
    result = desk("check", "-a", "a", env={VARIABLE: f"json://127.0.0.1:{closed_port}/{TOKEN}"})
    assert result.exit_code == 0
    assert f"pmctl: warning: alert delivery failed: apprise json://127.0.0.1:{closed_port} failed" in result.stderr
    assert TOKEN not in result.stderr + result.stdout
