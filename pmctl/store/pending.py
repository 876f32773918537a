"""Plans ``pmctl track`` keeps for positions the broker does not hold yet (``pending_plans``)."""

from datetime import datetime

import psycopg
from psycopg.rows import class_row

from pmctl.core.model import PendingPlan

_COLUMNS = ("id, symbol, expires_at, strategy_type, stop_loss, take_profit, trailing_stop_percent, max_hold_minutes, "
            "underlying_stop, underlying_target")
_PLAN_FIELDS = ("strategy_type", "stop_loss", "take_profit", "trailing_stop_percent", "max_hold_minutes",
                "underlying_stop", "underlying_target")


def waiting(conn: psycopg.Connection, account: str, now: datetime) -> tuple[PendingPlan, ...]:
    """The account's plans not yet taken and not expired, by the broker's clock."""
    cursor = conn.cursor(row_factory=class_row(PendingPlan))
    return tuple(cursor.execute(
        f"SELECT {_COLUMNS} FROM pending_plans WHERE account_name = %s AND applied_to IS NULL AND expires_at > %s "
        "ORDER BY id", (account, now)).fetchall())


def keep(conn: psycopg.Connection, account: str, symbol: str, plan: dict, expires_at: datetime, actor: str) -> int:
    """Record a plan for ``symbol``, replacing one that still waits for it: the operator's latest word stands."""
    conn.execute("DELETE FROM pending_plans WHERE account_name = %s AND symbol = %s AND applied_to IS NULL",
                 (account, symbol))
    values = {field: plan.get(field) for field in _PLAN_FIELDS}
    return conn.execute(
        "INSERT INTO pending_plans (account_name, symbol, expires_at, actor, strategy_type, stop_loss, take_profit, "
        "trailing_stop_percent, max_hold_minutes, underlying_stop, underlying_target) VALUES (%(account)s, "
        "%(symbol)s, %(expires_at)s, %(actor)s, %(strategy_type)s, %(stop_loss)s, %(take_profit)s, "
        "%(trailing_stop_percent)s, %(max_hold_minutes)s, %(underlying_stop)s, %(underlying_target)s) RETURNING id",
        {**values, "account": account, "symbol": symbol, "expires_at": expires_at, "actor": actor},
    ).fetchone()[0]


def taken(conn: psycopg.Connection, account: str, rows_by_plan: dict[int, int]) -> None:
    """The plans the adoption just used, each marked with the row it became."""
    if rows_by_plan:
        conn.execute(
            "UPDATE pending_plans AS p SET applied_to = v.row_id FROM unnest(%s::int[], %s::int[]) AS v(id, row_id) "
            "WHERE p.id = v.id AND p.account_name = %s",
            (list(rows_by_plan), list(rows_by_plan.values()), account))
