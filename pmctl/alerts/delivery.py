"""Sending alerts: every failure comes back as one line and a WARNING, never as an exception.

An alert that cannot be delivered must not cost the cycle that raised it, so
each channel catches everything and describes it. Lines never contain the SMTP
password, the webhook URL's path and query, where chat services keep tokens, or
an apprise URL's secret parts.
"""

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from pmctl.alerts import message, services
from pmctl.alerts.model import AlertSettings, Notice

log = logging.getLogger("pmctl.alerts")


def deliver(settings: AlertSettings, notices: Sequence[Notice]) -> list[str]:
    """Send through every configured channel; the result lists what failed, empty when all arrived.

    Notices without a time are stamped now, once, so email and chat agree on it.
    """
    if not notices or not settings.enabled:
        return []
    now = datetime.now(UTC)
    stamped = [n if n.at is not None else replace(n, at=now) for n in notices]
    errors = []
    if settings.sends_email:
        errors.append(send_email(settings, stamped))
    if settings.sends_webhook:
        errors.append(post_webhook(settings, stamped))
    if settings.apprise_urls:
        errors += services.send(settings.apprise_urls, settings.timeout, stamped)
    failures = [e for e in errors if e is not None]
    for failure in failures:
        log.warning("alert delivery failed: %s", failure)
    return failures


def send_email(settings: AlertSettings, notices: Sequence[Notice]) -> str | None:
    """None once the server has accepted the message for every recipient, else why not.

    STARTTLS is used whenever the server offers it, with certificate and host
    name checked; a server that does not offer it gets plain SMTP, login included.
    """
    password = settings.smtp_password.reveal() if settings.smtp_password is not None else ""
    where = f"email via {settings.smtp_host}:{settings.smtp_port}"
    try:
        refused = _transmit(settings, _email(settings, notices), password)
    except Exception as exc:  # a failed alert must never fail the cycle
        return message.error_line(f"{where} failed: {_describe(exc)}", password)
    if refused:
        return message.error_line(f"{where}: server refused {_refusals(refused)}", password)
    return None


def post_webhook(settings: AlertSettings, notices: Sequence[Notice]) -> str | None:
    """None when the receiver answers 2xx. A redirect is a failure: following it would
    turn the POST into a GET that "succeeds" without posting anything."""
    url = settings.webhook_url or ""
    where, hidden = "webhook", [url]
    try:
        parts = urlsplit(url)
        where = f"webhook to {parts.scheme}://{parts.hostname}"
        hidden += [p for p in (parts.path, parts.query) if len(p) > 1]
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "webhook failed: URL must be http:// or https:// with a host"
        request = urllib.request.Request(
            url,
            data=json.dumps(message.slack_payload(notices)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with _OPENER.open(request, timeout=settings.timeout):
            return None
    except urllib.error.HTTPError as exc:
        return message.error_line(f"{where} failed: HTTP {exc.code} {exc.reason} {_peek(exc)}", *hidden)
    except Exception as exc:  # a failed alert must never fail the cycle
        return message.error_line(f"{where} failed: {_describe(exc)}", *hidden)


def _email(settings: AlertSettings, notices: Sequence[Notice]) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.email_from
    email["To"] = ", ".join(settings.email_to)
    email["Subject"] = message.subject(notices)
    email["Date"] = format_datetime(datetime.now(UTC), usegmt=True)
    # An explicit domain, because make_msgid's default asks DNS for this host's name.
    email["Message-ID"] = make_msgid(domain=settings.email_from.rpartition("@")[2] or "pmctl")
    email.set_content(message.body(notices))
    return email


def _transmit(settings: AlertSettings, email: EmailMessage, password: str) -> dict[str, tuple[int, bytes]]:
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, password)
        refused = smtp.send_message(email)
    except BaseException:
        smtp.close()
        raise
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()  # the message is already accepted; a rude goodbye changes nothing
    return refused


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"every recipient refused: {_refusals(exc.recipients)}"
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        return _describe(exc.reason)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{rcpt} ({code} {_text(reply)})" for rcpt, (code, reply) in sorted(recipients.items()))


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _peek(error: urllib.error.HTTPError) -> str:
    """The start of an error body: Slack says what it disliked there ("invalid_payload")."""
    try:
        return _text(error.read(200))
    except Exception:  # the status alone is enough to report
        return ""
    finally:
        error.close()
