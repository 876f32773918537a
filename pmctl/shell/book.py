"""The open book ``pmctl status`` shows: each row beside what the broker holds.

An account the broker could not be asked for still shows its rows, the
database's view marked unconfirmed, never an empty book that reads as flat.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timezone

from pmctl.broker.errors import BrokerUnavailable, Unauthorized
from pmctl.config import Settings
from pmctl.core import status
from pmctl.core.plan import Plan
from pmctl.errors import AccountRefused
from pmctl.shell.cycle import Request, run_cycle
from pmctl.shell.database import reading
from pmctl.shell.journal import error_text
from pmctl.store import positions


@dataclass(frozen=True)
class Book:
    """``errors``: per account that could not be confirmed, the one line saying why."""

    lines: list[status.Line]
    errors: dict[str, str]


def read_book(settings: Settings, database_url: str, operator: str | None, account: str | None,
              offline: bool) -> Book:
    """``offline``: the database alone, the broker not asked."""
    if offline:
        return Book(_offline(settings, database_url, [a.name for a in settings.selected(account)]), {})
    report = run_cycle(settings, database_url, operator, Request(_nothing, account, dry_run=True, quiet=True))
    if report.error is not None:
        raise report.error
    results = report.accounts
    lines = [line for r in results if r.snapshot is not None for line in status.lines(r.snapshot)]
    unseen = {r.account: r.error for r in results if r.snapshot is None and r.error is not None}
    if unseen:
        lines += [replace(line, broker=f"UNKNOWN: {_unconfirmed(unseen[line.row.account_name])}")
                  for line in _offline(settings, database_url, list(unseen))]
    return Book(lines, {r.account: error_text(r.error) for r in results if r.error is not None})


def _nothing(snapshot) -> Plan:
    return Plan(snapshot.account)


def _offline(settings: Settings, database_url: str, names: list[str]) -> list[status.Line]:
    with reading(settings, database_url) as conn:
        rows = tuple(row for name in names for row in positions.live_rows(conn, name))
    return status.offline_lines(rows, datetime.now(timezone.utc), settings.policy)


def _unconfirmed(error) -> str:
    if isinstance(error, Unauthorized):
        return "keys refused"
    if isinstance(error, BrokerUnavailable):
        return "broker unreachable"
    if isinstance(error, AccountRefused):
        return "account refused"
    return "broker failed"
