"""The desk's execution ledger: ``dispatch_executions``, or the table or view ``PMCTL_EXECUTIONS_SOURCE`` names.

The ledger is the dispatcher's, not pmctl's: pmctl only reads it, and only the
columns of the contract below (README, "The execution ledger"), found once at
start-up. Each cycle then reads, in one statement, the account's executions of
real modes within the look-back that no row has taken, and none older than an
execution a row of the same symbol has taken (so an execution superseded by a
newer one is offered once, with it, and not again).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg
from psycopg import sql

from pmctl.core.ledger import REAL_MODES, execution_side, execution_symbol
from pmctl.core.market import as_utc
from pmctl.core.model import Execution
from pmctl.errors import ConfigError

DEFAULT_SOURCE = "dispatch_executions"

# PostgreSQL's type categories (pg_type.typcategory), as a column of the contract may be typed.
_TEXT, _NUMBER, _TIME = ("S",), ("N",), ("D",)
_UUID = ("U", "S")  # uuid, or text holding one
#: Every column read, and the categories its type may have. Required: the dispatcher's table has had them since
#: its options migration (008); a source without one cannot say what a trade's plan is.
REQUIRED = {
    "execution_id": _UUID, "account_name": _TEXT, "execution_mode": _TEXT, "ticker": _TEXT, "action": _TEXT,
    "instrument_type": _TEXT, "option_symbol": _TEXT, "strategy_type": _TEXT, "simulated_ts": _TIME,
    "entry_price": _NUMBER, "qty": _NUMBER, "stop_loss_price": _NUMBER, "take_profit_price": _NUMBER,
    "max_hold_minutes": _NUMBER,
}
#: Read where present (the dispatcher's migration 009 added them).
OPTIONAL = {"side": _TEXT, "executed_at": _TIME, "stop_order_id": _TEXT, "target_order_id": _TEXT}


class LedgerMismatch(ConfigError):
    """The relation exists but is not a ledger pmctl can read: a column is missing or of another kind."""


@dataclass(frozen=True)
class Ledger:
    """Where the executions are read from, and which of the optional columns it has."""

    relation: str
    optional: frozenset[str]


def locate(conn: psycopg.Connection, relation: str) -> Ledger | None:
    """The ledger at ``relation`` (looked up on the search path); None where no such table or view exists."""
    found = conn.execute(
        "SELECT a.attname, t.typcategory FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped",
        (relation,),
    ).fetchall()
    if not found:
        return None
    kinds = dict(found)
    missing = [name for name in REQUIRED if name not in kinds]
    if missing:
        raise LedgerMismatch(f"{relation} has no column {', '.join(missing)}, which the execution ledger needs")
    wrong = [name for name, allowed in (REQUIRED | OPTIONAL).items() if name in kinds and kinds[name] not in allowed]
    if wrong:
        raise LedgerMismatch(f"{relation}: column {', '.join(wrong)} is not of the kind the execution ledger needs "
                             "(README, \"The execution ledger\")")
    return Ledger(relation, frozenset(name for name in OPTIONAL if name in kinds))


def unlinked(conn: psycopg.Connection, ledger: Ledger, account: str, since: datetime) -> tuple[Execution, ...]:
    """The account's executions of real modes since ``since`` that no row has taken and that are not older than
    one a row of their symbol has taken, newest first."""
    relation = sql.Identifier(*ledger.relation.split("."))

    def optional(name: str, cast: str) -> sql.Composable:
        return sql.SQL("e.{}::" + cast).format(sql.Identifier(name)) if name in ledger.optional else sql.SQL(
            "NULL::" + cast)

    def executed(alias: str) -> sql.Composable:
        column = sql.SQL("{}.executed_at::timestamptz, ").format(sql.Identifier(alias)) \
            if "executed_at" in ledger.optional else sql.SQL("")
        return sql.SQL("COALESCE({}{}.simulated_ts::timestamptz)").format(column, sql.Identifier(alias))

    symbol = sql.SQL("CASE WHEN upper(e.instrument_type) IN ('CALL', 'PUT') THEN e.option_symbol ELSE e.ticker END")
    query = sql.SQL(
        "SELECT e.execution_id::uuid, e.ticker::text, e.action::text, e.instrument_type::text, "
        "e.option_symbol::text, e.strategy_type::text, {side}, e.qty, e.entry_price, e.stop_loss_price, "
        "e.take_profit_price, e.max_hold_minutes, {stop_order}, {target_order}, {executed} "
        "FROM {relation} AS e "
        "WHERE e.execution_mode = ANY(%(modes)s) AND e.account_name = %(account)s "
        "AND e.simulated_ts >= %(since)s "
        "AND NOT EXISTS (SELECT 1 FROM active_positions AS ap WHERE ap.execution_uuid = e.execution_id::uuid) "
        "AND NOT EXISTS (SELECT 1 FROM active_positions AS ap JOIN {relation} AS t "
        "ON t.execution_id::uuid = ap.execution_uuid "
        "WHERE ap.account_name = %(account)s AND ap.symbol = {symbol} AND {taken} >= {executed}) "
        "ORDER BY {executed} DESC"
    ).format(side=optional("side", "text"), stop_order=optional("stop_order_id", "text"),
             target_order=optional("target_order_id", "text"), executed=executed("e"), taken=executed("t"),
             relation=relation, symbol=symbol)
    records = conn.execute(query, {"modes": list(REAL_MODES), "account": account, "since": since}).fetchall()
    return tuple(execution for record in records if (execution := _execution(*record)) is not None)


def _execution(execution_id, ticker, action, instrument_type, option_symbol, strategy_type, side, qty, entry_price,
               stop_loss, take_profit, max_hold, stop_order_id, target_order_id, executed_at) -> Execution | None:
    """One execution as the core reads it; None for one that names no symbol the broker could hold."""
    symbol = execution_symbol(instrument_type, ticker, option_symbol)
    if symbol is None or execution_id is None or executed_at is None:
        return None
    return Execution(
        execution_id=execution_id,
        symbol=symbol,
        ticker=ticker or symbol,
        instrument_type=(instrument_type or "STOCK").upper(),
        strategy_type=strategy_type or None,
        side=execution_side(side, action),
        quantity=_decimal(qty) or Decimal(0),
        entry_price=_decimal(entry_price) or Decimal(0),
        executed_at=as_utc(executed_at),
        stop_loss=_decimal(stop_loss),
        take_profit=_decimal(take_profit),
        max_hold_minutes=_whole(max_hold),
        stop_order_id=stop_order_id or None,
        target_order_id=target_order_id or None,
    )


def _whole(value) -> int | None:
    number = _decimal(value)
    return int(number) if number is not None and number.is_finite() else None


def _decimal(value) -> Decimal | None:
    """A view may type its numbers as double precision: taken by their shortest text, as they print."""
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))
