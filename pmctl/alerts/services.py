"""Alerts through apprise URLs: Slack, Teams, PagerDuty, Opsgenie, Telegram and the rest, no pmctl code per service.

An apprise URL carries its service's tokens (often where a host would be:
``tgram://BOTTOKEN/CHAT``), so URLs are held as ``Secret`` and shown only as
apprise's own privacy form of their scheme and host (``tgram://1...t``), or, for
a URL apprise cannot read, by their place in the list and their scheme. apprise
is imported on first use: it loads some two hundred service plugins that a desk
without these URLs never needs.
"""

import logging
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from pmctl.alerts import message
from pmctl.alerts.model import Notice
from pmctl.errors import ConfigError
from pmctl.secret import Secret

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,31})://")
_BETWEEN_URLS = re.compile(r"\s*,\s*(?=[A-Za-z][A-Za-z0-9+.-]{0,31}://)|\s+")
"""Spaces split the list, commas only before the next URL: a comma inside one (``?to=a,b``) stays."""

_NOTIFY_TYPES = {"info": "info", "warning": "warning", "error": "failure", "critical": "failure"}
"""Severity to apprise's notification type, which PagerDuty and Opsgenie turn into their own urgency."""


def parse_urls(variable: str, text: str | None) -> tuple[Secret, ...]:
    """Each URL as apprise reads it, so a typo ends start-up (exit 2) instead of silencing alerts later."""
    if text is None:
        return ()
    urls = [url.strip(",") for url in _BETWEEN_URLS.split(text) if url.strip(",")]
    apprise = _apprise()
    for place, url in enumerate(urls, start=1):
        if apprise.Apprise.instantiate(url) is not None:
            continue
        scheme = _SCHEME.match(url)
        if scheme is None:
            raise ConfigError(f"{variable}: URL {place} is not a service URL (service://..., e.g. slack://...)")
        if scheme[1].lower() not in apprise.NotificationManager():
            raise ConfigError(f"{variable}: URL {place}: {scheme[1]}:// is not a service apprise knows")
        raise ConfigError(f"{variable}: URL {place} is not a {scheme[1]}:// URL apprise can use")
    return tuple(Secret(url) for url in urls)


def send(urls: Sequence[Secret], timeout: float, notices: Sequence[Notice]) -> list[str]:
    """One line for each URL whose service did not take the alert; empty when all did."""
    apprise = _apprise()
    worst = max(notices, key=lambda n: n.rank)
    content = {
        "title": message.subject(notices),
        "body": message.chat_body(notices),
        "notify_type": apprise.NotifyType(_NOTIFY_TYPES[worst.severity]),
        "body_format": apprise.NotifyFormat.TEXT,
    }
    failures = (_send(apprise, url.reveal(), timeout, content) for url in urls)
    return [failure for failure in failures if failure is not None]


def _send(apprise, url: str, timeout: float, content: dict) -> str | None:
    service = apprise.Apprise.instantiate(url)
    if service is None:
        return "apprise failed: a URL it cannot read"
    privately = urlsplit(service.url(privacy=True))
    where = f"{privately.scheme}://{privately.netloc}"
    try:
        service.socket_connect_timeout = service.socket_read_timeout = timeout
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as said:
            if service.notify(**content):
                return None
        reason = (said.getvalue().strip().splitlines() or ["the service did not take it"])[-1]
    except Exception as exc:  # a failed alert must never fail the cycle
        reason = f"{type(exc).__name__}: {exc}"
    return message.error_line(f"apprise {where} failed: {reason}", *_parts(url, where))


def _parts(url: str, shown: str) -> list[str]:
    """Every piece of the URL not already shown, to blank out of anything apprise or a service said."""
    return [part for part in re.split(r"[/:@?&=#,;]+", url) if len(part) > 3 and part not in shown]


def _apprise():
    import apprise

    # Its messages can name a URL it could not read, tokens and all: only what ``_send`` keeps is shown.
    logging.getLogger(apprise.LOGGER_NAME).propagate = False
    return apprise
