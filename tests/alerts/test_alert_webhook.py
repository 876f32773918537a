"""The chat webhook against a real HTTP receiver on 127.0.0.1."""

import json
import time

import pytest

from alert_samples import notices
from pmctl.alerts.delivery import post_webhook
from pmctl.alerts.model import AlertSettings
from pmctl.alerts.message import line, subject


def hook(url: str, timeout: float = 2.0) -> AlertSettings:
    return AlertSettings(webhook_url=url, timeout=timeout)


def test_the_receiver_gets_json_naming_every_notice(http_receiver):
    receiver = http_receiver()
    assert post_webhook(hook(f"{receiver.url}/services/T0/B0/token"), notices()) is None
    [post] = receiver.posts
    assert post.path == "/services/T0/B0/token"
    assert post.content_type == "application/json"
    text = json.loads(post.body)["text"]
    assert text.splitlines()[0] == subject(notices())
    for notice in notices():
        assert line(notice) in text


def test_a_server_error_is_reported_with_what_the_receiver_said_but_not_the_token(http_receiver):
    receiver = http_receiver(status=500)
    error = post_webhook(hook(f"{receiver.url}/services/T0/B0/SECRETTOKEN"), notices())
    assert error is not None and "HTTP 500" in error and "invalid_payload" in error
    assert "SECRETTOKEN" not in error


def test_a_redirect_is_a_failure_not_a_silent_get(http_receiver):
    target = http_receiver()
    receiver = http_receiver(status=302, location=f"{target.url}/elsewhere")
    error = post_webhook(hook(f"{receiver.url}/hook"), notices())
    assert error is not None and "HTTP 302" in error
    assert target.posts == []


def test_nothing_listening_is_reported_at_once(closed_port):
    started = time.monotonic()
    error = post_webhook(hook(f"http://127.0.0.1:{closed_port}/hook"), notices())
    assert error is not None and "refused" in error.lower()
    assert time.monotonic() - started < 1.5


def test_a_receiver_that_never_answers_is_given_up_on_after_the_timeout(silent_port):
    started = time.monotonic()
    error = post_webhook(hook(f"http://127.0.0.1:{silent_port}/hook", timeout=0.5), notices())
    assert error is not None and "timed out" in error
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(
    "url",
    ["not a url", "ftp://127.0.0.1/hook", "file:///etc/passwd", "http://[::1/hook/SECRETTOKEN",
     "http://127.0.0.1:99999/hook/SECRETTOKEN", "http://127.0.0.1/hook/SECRET TOKEN"],
)
def test_a_bad_url_is_reported_not_raised_and_its_path_never_shown(url):
    error = post_webhook(hook(url, timeout=1.0), notices())
    assert error is not None and error.startswith("webhook")
    assert "SECRET" not in error
