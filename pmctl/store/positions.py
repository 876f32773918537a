"""Rows of ``active_positions``, always scoped to one account.

Every statement names the account: no code path reads or writes another
account's rows. Batches go through ``executemany``, which psycopg pipelines
into one round trip, so a cycle's database cost does not grow with the book.
"""

from collections.abc import Collection
from dataclasses import fields
from datetime import datetime
from decimal import Decimal

import psycopg

from pmctl.core.market import as_utc
from pmctl.core.edit import PLAN_FIELDS
from pmctl.core.model import Row
from pmctl.core.vocabulary import PlanSource
from pmctl.core.plan import Adopt, ChangeQuantity, FollowEntry, MarkClosed, Refresh, Reopen, TakePlan

#: The columns of a Row, named as the Row's fields are: a row is built from its columns by name.
ROW_COLUMNS = ", ".join(field.name for field in fields(Row))
#: Legacy TIMESTAMP columns among them come back naive; they hold UTC.
_TIMES = ("entry_time", "close_submitted_at", "last_checked_at", "price_at")


def live_rows(conn: psycopg.Connection, account: str, symbols: Collection[str] | None = None) -> tuple[Row, ...]:
    """The account's open and closing rows, oldest first; ``symbols``: only the rows of those symbols."""
    only = " AND symbol = ANY(%s)" if symbols is not None else ""
    cursor = conn.cursor(row_factory=_rows).execute(
        f"SELECT {ROW_COLUMNS} FROM active_positions "
        f"WHERE account_name = %s AND status IN ('open', 'closing'){only} ORDER BY id",
        (account, list(symbols)) if symbols is not None else (account,),
    )
    return tuple(cursor.fetchall())


def _rows(cursor: psycopg.Cursor):
    """A psycopg row factory: each record becomes a Row as it is read (a cycle reads thousands)."""
    names = [column.name for column in cursor.description or ()]

    def make(values) -> Row:
        return row_from(dict(zip(names, values)))

    return make


def row_from(record: dict) -> Row:
    """A Row from a record of its columns by name (extra columns are the caller's to take out first)."""
    for name in _TIMES:
        if record[name] is not None:
            record[name] = as_utc(record[name])
    return Row(**record)


def refresh(conn: psycopg.Connection, account: str, refreshes: list[Refresh], now: datetime,
            stamp: tuple[str, tuple] | None = None) -> bool:
    """Every open row's price, P&L and trailing levels in one statement, whatever the size of the book; with
    ``stamp`` (``accounts.cycle_stamp``), the cycle's stamp in the same statement. False when there was nothing to
    refresh, so nothing was sent."""
    if not refreshes:
        return False
    before, given = (f"WITH stamped AS ({stamp[0]}) ", stamp[1]) if stamp else ("", ())
    conn.execute(
        before + "UPDATE active_positions AS ap SET current_price = v.price, current_pnl_dollars = v.dollars, "
        "current_pnl_percent = v.percent, peak_price = COALESCE(v.peak, ap.peak_price), "
        "trailing_stop_price = COALESCE(v.trail, ap.trailing_stop_price), price_source = v.source, "
        "price_at = v.at, last_checked_at = %s, check_count = COALESCE(ap.check_count, 0) + 1, updated_at = %s "
        "FROM unnest(%s::int[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[], "
        "%s::text[], %s::timestamptz[]) AS v(id, price, dollars, percent, peak, trail, source, at) "
        "WHERE ap.id = v.id AND ap.account_name = %s AND ap.status = 'open'",
        (*given, now, now, *_columns(refreshes, "row_id", "current_price", "pnl_dollars", "pnl_percent", "peak_price",
                                     "trailing_stop_price", "price_source", "price_at"), account),
    )
    return True


def adopt(conn: psycopg.Connection, account: str, adoptions: list[Adopt]) -> dict[str, int]:
    """Insert rows for untracked positions; a row another run inserted first wins (no error, no duplicate).

    The same holds for an execution of the desk's ledger another writer has given a row meanwhile (the unique
    index on ``execution_uuid``): the position is left to that row.
    """
    if not adoptions:
        return {}
    option_symbols = [a.symbol if a.instrument_type != "STOCK" else None for a in adoptions]
    cursor = conn.execute(
        "INSERT INTO active_positions (account_name, ticker, option_symbol, instrument_type, strategy_type, side, "
        "quantity, original_quantity, entry_price, entry_time, strike_price, expiration_date, stop_loss, "
        "take_profit, trailing_stop_percent, max_hold_minutes, current_price, tracked_as, plan_source, "
        "underlying_stop, underlying_target, execution_uuid, stop_order_id, target_order_id, status, "
        "created_at, updated_at) "
        "SELECT %s, v.ticker, v.option_symbol, v.instrument_type, v.strategy_type, v.side, v.quantity, v.quantity, "
        "v.entry_price, v.entry_time, v.strike_price, v.expiration_date, v.stop_loss, v.take_profit, "
        "v.trailing_stop_percent, v.max_hold_minutes, v.current_price, v.tracked_as, v.plan_source, "
        "v.underlying_stop, v.underlying_target, v.execution_uuid, v.stop_order_id, v.target_order_id, 'open', "
        "v.entry_time, v.entry_time "
        "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::numeric[], %s::numeric[], "
        "%s::timestamptz[], %s::numeric[], %s::date[], %s::numeric[], %s::numeric[], %s::numeric[], %s::int[], "
        "%s::numeric[], %s::text[], %s::text[], %s::numeric[], %s::numeric[], %s::uuid[], %s::text[], %s::text[]) "
        "AS v(ticker, option_symbol, instrument_type, strategy_type, side, quantity, entry_price, entry_time, "
        "strike_price, expiration_date, stop_loss, take_profit, trailing_stop_percent, max_hold_minutes, "
        "current_price, tracked_as, plan_source, underlying_stop, underlying_target, execution_uuid, stop_order_id, "
        "target_order_id) "
        "ON CONFLICT DO NOTHING RETURNING id, symbol",
        (account, _column(adoptions, "ticker"), option_symbols,
         *_columns(adoptions, "instrument_type", "strategy_type", "side", "quantity", "entry_price", "entry_time",
                   "strike_price", "expiration_date", "stop_loss", "take_profit", "trailing_stop_percent",
                   "max_hold_minutes", "current_price", "tracked_as", "plan_source", "underlying_stop",
                   "underlying_target", "execution_uuid", "stop_order_id", "target_order_id")),
    )
    return {symbol: row_id for row_id, symbol in cursor.fetchall()}


def take_plans(conn: psycopg.Connection, account: str, plans: list[TakePlan], now: datetime) -> set[int]:
    """Rows take their trades' plans from the desk's ledger, in one statement; the ids of those that did.

    A row changed meanwhile (its plan source or execution no longer what the plan was decided on, say an
    operator's edit) is left as it is, and so is one whose execution another row took first: the unique index
    on ``execution_uuid`` refuses the second, and a race that reaches it undoes this batch alone (a savepoint);
    the next cycle decides again.
    """
    if not plans:
        return set()
    try:
        with conn.transaction():
            cursor = conn.execute(
                "UPDATE active_positions AS ap SET execution_uuid = v.execution, strategy_type = v.strategy, "
                "stop_loss = v.stop, take_profit = v.target, underlying_stop = v.ustop, underlying_target = v.utarget, "
                "trailing_stop_percent = v.trail, max_hold_minutes = v.hold, stop_order_id = v.stop_order, "
                "target_order_id = v.target_order, entry_time = v.entered, tracked_as = v.tracked, "
                "plan_source = v.source, updated_at = %s "
                "FROM unnest(%s::int[], %s::uuid[], %s::text[], %s::numeric[], %s::numeric[], %s::numeric[], "
                "%s::numeric[], %s::numeric[], %s::int[], %s::text[], %s::text[], %s::timestamptz[], %s::text[], "
                "%s::text[], %s::text[], %s::uuid[]) AS v(id, execution, strategy, stop, target, ustop, utarget, "
                "trail, hold, stop_order, target_order, entered, tracked, source, was_source, was_execution) "
                "WHERE ap.id = v.id AND ap.account_name = %s AND ap.status = 'open' "
                "AND ap.plan_source IS NOT DISTINCT FROM v.was_source "
                "AND ap.execution_uuid IS NOT DISTINCT FROM v.was_execution "
                "AND NOT EXISTS (SELECT 1 FROM active_positions AS o WHERE o.execution_uuid = v.execution "
                "AND o.id <> ap.id) "
                "RETURNING ap.id",
                (now, *_columns(plans, "row_id", "execution_uuid", "strategy_type", "stop_loss", "take_profit",
                                "underlying_stop", "underlying_target", "trailing_stop_percent", "max_hold_minutes",
                                "stop_order_id", "target_order_id", "entry_time", "tracked_as", "plan_source",
                                "was_plan_source", "was_execution_uuid"), account),
            )
            return {row_id for (row_id,) in cursor.fetchall()}
    except psycopg.errors.UniqueViolation:
        return set()


def change_quantities(conn: psycopg.Connection, account: str, changes: list[ChangeQuantity], now: datetime) -> set[int]:
    """The ids of the rows changed: a row another run closed meanwhile is not."""
    if not changes:
        return set()
    cursor = conn.execute(
        "UPDATE active_positions AS ap SET quantity = v.new, original_quantity = COALESCE(ap.original_quantity, "
        "v.original), updated_at = %s FROM unnest(%s::int[], %s::numeric[], %s::numeric[]) AS v(id, new, original) "
        "WHERE ap.id = v.id AND ap.account_name = %s AND ap.status IN ('open', 'closing') RETURNING ap.id",
        (now, *_columns(changes, "row_id", "new", "original"), account),
    )
    return {row_id for (row_id,) in cursor.fetchall()}


def follow_entries(conn: psycopg.Connection, account: str, follows: list[FollowEntry], now: datetime) -> None:
    """New entry prices; the levels only where the policy still owns them (an operator's edit meanwhile wins)."""
    if not follows:
        return
    conn.execute(
        "UPDATE active_positions AS ap SET entry_price = v.entry, "
        "stop_loss = CASE WHEN ap.plan_source = %s THEN v.stop ELSE ap.stop_loss END, "
        "take_profit = CASE WHEN ap.plan_source = %s THEN v.target ELSE ap.take_profit END, updated_at = %s "
        "FROM unnest(%s::int[], %s::numeric[], %s::numeric[], %s::numeric[]) AS v(id, entry, stop, target) "
        "WHERE ap.id = v.id AND ap.account_name = %s AND ap.status = 'open'",
        (PlanSource.POLICY, PlanSource.POLICY, now, *_columns(follows, "row_id", "new", "stop_loss", "take_profit"), account),
    )


def _column(items: list, name: str) -> list:
    return [getattr(item, name) for item in items]


def _columns(items: list, *names: str) -> list[list]:
    """Plain-data batches as one array per column, for a single ``unnest`` statement."""
    return [_column(items, name) for name in names]


def mark_closing(
    conn: psycopg.Connection, account: str, row_id: int, expected_status: str, client_order_id: str,
    qty: Decimal, reason: str, now: datetime, trigger_price: Decimal | None = None,
    trigger_source: str | None = None,
) -> bool:
    """Claim a row for a close before the order is sent, with the price the close fired on; False when another
    run changed it first."""
    cursor = conn.execute(
        "UPDATE active_positions SET status = 'closing', close_client_order_id = %s, close_quantity = %s, "
        "close_reason = %s, close_submitted_at = %s, close_trigger_price = %s, close_trigger_source = %s, "
        "updated_at = %s "
        "WHERE id = %s AND account_name = %s AND status = %s "
        "AND (close_client_order_id IS NULL OR close_client_order_id = %s)",
        (client_order_id, qty, reason[:50], now, trigger_price, trigger_source, now, row_id, account,
         expected_status, client_order_id),
    )
    return cursor.rowcount == 1


def record_order(conn: psycopg.Connection, account: str, row_id: int, order_id: str) -> None:
    conn.execute(
        "UPDATE active_positions SET close_order_id = %s WHERE id = %s AND account_name = %s",
        (order_id, row_id, account),
    )


def mark_closed(conn: psycopg.Connection, account: str, action: MarkClosed, now: datetime) -> bool:
    cursor = conn.execute(
        "UPDATE active_positions SET status = 'closed', close_reason = %s, exit_price = %s, exit_time = %s, "
        "close_order_id = COALESCE(%s, close_order_id), closed_at = %s, updated_at = %s "
        "WHERE id = %s AND account_name = %s AND status IN ('open', 'closing')",
        (action.reason[:50], action.exit_price, action.exit_time, action.order_id, now, now, action.row_id, account),
    )
    return cursor.rowcount == 1


def reopen(conn: psycopg.Connection, account: str, action: Reopen, now: datetime) -> bool:
    """Back to open after a close that did not close; the next attempt gets a new client order id.

    A partial exit that filled as sent leaves no backoff behind (its submission time is cleared) and a
    scale-out step counts as taken.
    """
    cursor = conn.execute(
        "UPDATE active_positions SET status = 'open', close_client_order_id = NULL, close_order_id = NULL, "
        "close_quantity = NULL, close_trigger_price = NULL, close_trigger_source = NULL, "
        "close_attempts = close_attempts + 1, close_submitted_at = CASE WHEN %s THEN NULL ELSE close_submitted_at END, "
        "scale_out_done = scale_out_done + %s, updated_at = %s "
        "WHERE id = %s AND account_name = %s AND status = 'closing'",
        (action.exited, int(action.scaled_out), now, action.row_id, account),
    )
    return cursor.rowcount == 1


def clear_brackets(conn: psycopg.Connection, account: str, row_id: int, order_ids: list[str]) -> None:
    conn.execute(
        "UPDATE active_positions SET "
        "stop_order_id = CASE WHEN stop_order_id = ANY(%s) THEN NULL ELSE stop_order_id END, "
        "target_order_id = CASE WHEN target_order_id = ANY(%s) THEN NULL ELSE target_order_id END "
        "WHERE id = %s AND account_name = %s",
        (order_ids, order_ids, row_id, account),
    )


def row_account(conn: psycopg.Connection, row_id: int) -> tuple[str | None, str] | None:
    """Which account and status a row id has: for telling an operator their id belongs elsewhere."""
    return conn.execute("SELECT account_name, status FROM active_positions WHERE id = %s", (row_id,)).fetchone()


def set_exit_parameters(conn: psycopg.Connection, account: str, row_id: int, values: dict,
                        release: bool = False) -> bool:
    """Only the exit plan's fields, each named here: the keys never come from input.

    A level or strategy an operator sets is the operator's: pmctl no longer derives the row's levels again.
    ``release``: a quarantined short the operator gave a strategy is tracked by the rules from now on.
    """
    assignments = {
        "stop_loss": "stop_loss = %(stop_loss)s",
        "take_profit": "take_profit = %(take_profit)s",
        "trailing_stop_percent": "trailing_stop_percent = %(trailing_stop_percent)s, trailing_stop_price = NULL",
        "max_hold_minutes": "max_hold_minutes = %(max_hold_minutes)s",
        "underlying_stop": "underlying_stop = %(underlying_stop)s",
        "underlying_target": "underlying_target = %(underlying_target)s",
        "strategy_type": "strategy_type = %(strategy_type)s",
    }
    chosen = ", ".join(assignments[field] for field in values)
    if PLAN_FIELDS & set(values):
        chosen += ", plan_source = 'operator'"
    if release:
        chosen += ", tracked_as = 'adopted'"
    cursor = conn.execute(
        f"UPDATE active_positions SET {chosen}, updated_at = now() "
        "WHERE id = %(id)s AND account_name = %(account)s AND status = 'open'",
        {**values, "id": row_id, "account": account},
    )
    return cursor.rowcount == 1


def claim_protection(conn: psycopg.Connection, account: str, row_id: int, seq: int, now: datetime) -> bool:
    """Take counter ``seq`` for the row's next protective order before it is sent; False when the row is closed
    or the counter was taken already (another run armed it first)."""
    cursor = conn.execute(
        "UPDATE active_positions SET protect_seq = %s, updated_at = %s "
        "WHERE id = %s AND account_name = %s AND status IN ('open', 'closing') AND protect_seq < %s",
        (seq, now, row_id, account, seq),
    )
    return cursor.rowcount == 1


def record_protection(conn: psycopg.Connection, account: str, row_id: int, stop_order_id: str | None,
                      target_order_id: str | None) -> None:
    """The protective order(s) resting for the row, as the broker named them."""
    conn.execute(
        "UPDATE active_positions SET stop_order_id = %s, target_order_id = %s WHERE id = %s AND account_name = %s",
        (stop_order_id, target_order_id, row_id, account),
    )


def replace_protection(conn: psycopg.Connection, account: str, row_id: int, old: str, new: str) -> None:
    """A replaced protective order: the row names the new one where it named the old."""
    conn.execute(
        "UPDATE active_positions SET "
        "stop_order_id = CASE WHEN stop_order_id = %s THEN %s ELSE stop_order_id END, "
        "target_order_id = CASE WHEN target_order_id = %s THEN %s ELSE target_order_id END "
        "WHERE id = %s AND account_name = %s",
        (old, new, old, new, row_id, account),
    )
