"""The past, read for ``pmctl events`` and ``pmctl report``: the audit trail and a trading day's closes."""

from datetime import date, datetime

from pmctl.config import Settings
from pmctl.core.market import market_day
from pmctl.core.report import Report, daily_report
from pmctl.shell.database import reading
from pmctl.store import history


def events(settings: Settings, database_url: str, accounts: list[str], position: int | None,
           since: datetime | None, kinds: list[str] | None, limit: int) -> list[tuple]:
    """Newest first, at most ``limit``."""
    with reading(settings, database_url) as conn:
        return history.events(conn, accounts, position, since, kinds, limit)


def event_kinds(settings: Settings, database_url: str) -> set[str]:
    """The kinds the audit trail holds, the original service's own among them."""
    with reading(settings, database_url) as conn:
        return history.event_kinds(conn)


def day_report(settings: Settings, database_url: str, accounts: list[str], day: date) -> Report:
    """The trading day as New York counts it (``market_day``)."""
    start, end = market_day(day)
    with reading(settings, database_url) as conn:
        opened = history.opened_between(conn, accounts, start, end)
        closed = history.closed_between(conn, accounts, start, end)
        exits = history.exits_between(conn, accounts, start, end)
    return daily_report(day, tuple(accounts), opened, closed, exits)
