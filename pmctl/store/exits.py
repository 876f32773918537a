"""The exits ledger, ``position_exits``: one line per exit fill of a row, always scoped to one account.

A line is keyed by its row and order: an order seen again (its answer, then
its settlement) updates its line to the order's cumulative fill instead of
adding one, so a fill is never counted twice. A line with no order id (an exit
no fill shows) is added as it comes.
"""

from datetime import datetime

import psycopg

from pmctl.core.exits import ExitFill

_REASON_WIDTH = 50


def record(conn: psycopg.Connection, account: str, lines: list[ExitFill], now: datetime) -> None:
    """Write (or update) each line; a row of another account is never written. ``now``: the broker's clock."""
    if not lines:
        return
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO position_exits (position_id, account_name, symbol, quantity, price, exit_time, reason, "
            "order_id, source, recorded_at, trigger_price) "
            "SELECT id, account_name, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM active_positions "
            "WHERE id = %s AND account_name = %s "
            "ON CONFLICT (position_id, order_id) WHERE order_id IS NOT NULL DO UPDATE SET "
            "quantity = EXCLUDED.quantity, price = COALESCE(EXCLUDED.price, position_exits.price), "
            "exit_time = COALESCE(EXCLUDED.exit_time, position_exits.exit_time), "
            "trigger_price = COALESCE(EXCLUDED.trigger_price, position_exits.trigger_price)",
            [(line.symbol, line.quantity, line.price, line.time, line.reason[:_REASON_WIDTH], line.order_id,
              line.source, now, line.trigger, line.row_id, account) for line in lines],
        )


def recorded_orders(conn: psycopg.Connection, account: str, row_ids: list[int]) -> dict[int, frozenset[str]]:
    """The order ids each row's ledger already holds: fills of those orders are not another exit."""
    if not row_ids:
        return {}
    records = conn.execute(
        "SELECT position_id, array_agg(order_id) FROM position_exits "
        "WHERE account_name = %s AND position_id = ANY(%s) AND order_id IS NOT NULL GROUP BY position_id",
        (account, row_ids),
    ).fetchall()
    return {row_id: frozenset(orders) for row_id, orders in records}
