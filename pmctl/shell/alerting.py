"""Sending a run's alerts: the notices its results call for, less those sent within the cooldown."""

import logging

from pmctl.alerts.delivery import deliver
from pmctl.alerts.model import Notice
from pmctl.config import Settings
from pmctl.errors import PmctlError
from pmctl.store import alerts as store
from pmctl.store.connection import connection

log = logging.getLogger("pmctl")


def send(settings: Settings, database_url: str, notices: list[Notice], actor: str) -> list[str]:
    """Deliver what is new; returns delivery errors. Never raises: an alert must not fail the cycle."""
    if not notices or not settings.alerts.enabled:
        return []
    try:
        with connection(database_url, autocommit=True) as conn:
            sent = store.recently_sent(conn, sorted({n.account for n in notices}), settings.alert_cooldown_minutes)
            fresh = _unique([n for n in notices if (n.account, n.kind, n.symbol) not in sent])
            if not fresh:
                return []
            errors = deliver(settings.alerts, fresh)
            if len(errors) < settings.alerts.channels:
                store.record_sent(conn, fresh, actor)
            return errors
    except PmctlError as error:
        log.warning(f"alerts not sent: {error}", extra={"event": "alert_failed"})
        return [str(error)]


def _unique(notices: list[Notice]) -> list[Notice]:
    seen, kept = set(), []
    for notice in notices:
        key = (notice.account, notice.kind, notice.symbol)
        if key not in seen:
            seen.add(key)
            kept.append(notice)
    return kept

