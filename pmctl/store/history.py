"""Reading the past: the audit trail, the day's closed rows and the day's exits, for events and report."""

from dataclasses import replace
from datetime import datetime, timezone

import psycopg
from psycopg.rows import dict_row

from pmctl.core.model import Row
from pmctl.core.report import Closed, Exit
from pmctl.store.positions import ROW_COLUMNS, row_from

#: The row's columns where a query joins the exits ledger, whose own columns share some of their names.
_ROW_OF_EXIT = ", ".join(f"ap.{name.strip()}" for name in ROW_COLUMNS.split(","))


def events(
    conn: psycopg.Connection, accounts: list[str], position: int | None, since: datetime | None,
    kinds: list[str] | None, limit: int,
) -> list[tuple]:
    """Newest first. Events from before pmctl (no account recorded) show under their row's account.

    ``created_at`` is the original schema's TIMESTAMP, which holds UTC: it is returned aware.
    """
    records = conn.execute(
        "SELECT e.id, e.created_at, COALESCE(e.account_name, ap.account_name) AS account, e.position_id, "
        "ap.symbol, e.event_type, e.actor, e.event_data "
        "FROM position_events e LEFT JOIN active_positions ap ON ap.id = e.position_id "
        "WHERE COALESCE(e.account_name, ap.account_name) = ANY(%s) "
        "AND (%s::int IS NULL OR e.position_id = %s) AND (%s::timestamptz IS NULL OR e.created_at >= %s) "
        "AND (%s::text[] IS NULL OR e.event_type = ANY(%s)) "
        "ORDER BY e.created_at DESC, e.id DESC LIMIT %s",
        (accounts, position, position, since, since, kinds, kinds, limit),
    ).fetchall()
    return [(event_id, created.replace(tzinfo=timezone.utc), *rest) for event_id, created, *rest in records]


def opened_between(conn: psycopg.Connection, accounts: list[str], start: datetime, end: datetime) -> int:
    return conn.execute(
        "SELECT count(*) FROM active_positions WHERE account_name = ANY(%s) AND entry_time >= %s AND entry_time < %s",
        (accounts, start, end),
    ).fetchone()[0]


def closed_between(conn: psycopg.Connection, accounts: list[str], start: datetime, end: datetime) -> list[Closed]:
    """Rows closed in [start, end): by their exit time where the broker gave one, else when pmctl closed them."""
    rows = conn.cursor(row_factory=dict_row).execute(
        f"SELECT {ROW_COLUMNS}, exit_price, exit_time, closed_at FROM active_positions "
        "WHERE account_name = ANY(%s) AND status = 'closed' "
        "AND COALESCE(exit_time, closed_at AT TIME ZONE 'UTC') >= %s "
        "AND COALESCE(exit_time, closed_at AT TIME ZONE 'UTC') < %s ORDER BY id",
        (accounts, start, end),
    ).fetchall()
    closed = [_closed(record) for record in rows]
    ledger = _exits_of(conn, [item.row.id for item in closed])
    return [replace(item, exits=tuple(Exit(item.row, *line) for line in ledger.get(item.row.id, ()))) for item in closed]


def _closed(record: dict) -> Closed:
    """The hold time counts only from the broker's exit time: a row closed later by reconcile did not hold that long."""
    exit_price, exit_time = record.pop("exit_price"), record.pop("exit_time")
    del record["closed_at"]
    row: Row = row_from(record)
    return Closed(row, exit_price, exit_time, row.close_reason or "unknown")


def _exits_of(conn: psycopg.Connection, row_ids: list[int]) -> dict[int, list[tuple]]:
    """Every exit line of these rows, whatever its day: a closed row is judged on all of them."""
    ledger: dict[int, list[tuple]] = {}
    for row_id, quantity, price, reason in conn.execute(
        "SELECT position_id, quantity, price, reason FROM position_exits WHERE position_id = ANY(%s) ORDER BY id",
        (row_ids,),
    ).fetchall():
        ledger.setdefault(row_id, []).append((quantity, price, reason))
    return ledger


def exits_between(conn: psycopg.Connection, accounts: list[str], start: datetime, end: datetime) -> list[Exit]:
    """The exits ledger's lines in [start, end), of open rows as of closed ones: by the fill's time where the
    broker gave one, else when pmctl recorded the line."""
    records = conn.cursor(row_factory=dict_row).execute(
        f"SELECT {_ROW_OF_EXIT}, x.quantity AS exit_quantity, x.price AS exit_fill_price, x.reason AS exit_reason, "
        "x.trigger_price AS exit_trigger_price "
        "FROM position_exits x JOIN active_positions ap ON ap.id = x.position_id "
        "WHERE x.account_name = ANY(%s) AND COALESCE(x.exit_time, x.recorded_at) >= %s "
        "AND COALESCE(x.exit_time, x.recorded_at) < %s ORDER BY x.id",
        (accounts, start, end),
    ).fetchall()
    return [_exit(record) for record in records]


def _exit(record: dict) -> Exit:
    quantity, price, reason = record.pop("exit_quantity"), record.pop("exit_fill_price"), record.pop("exit_reason")
    trigger = record.pop("exit_trigger_price")
    return Exit(row_from(record), quantity, price, reason, trigger)


def event_kinds(conn: psycopg.Connection) -> set[str]:
    """The kinds the audit trail holds, the original service's own among them."""
    return {kind for (kind,) in conn.execute("SELECT DISTINCT event_type FROM position_events").fetchall()}
