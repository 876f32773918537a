"""Reading one account's snapshot: broker first, then the database.

The broker is read first so that a row the dispatcher inserts for a fresh fill
a moment later is seen with its position rather than adopted twice. The
broker's fills are read only when the snapshot needs them (a row disagrees with
its position, or reconcile settles rows the broker no longer holds): one
request for the account, from the earliest time any row needs (a second
earlier: the broker's ``after`` is exclusive, and a hand sale may share the
second of the row's last check), and with them the orders the exits ledger
already holds, so no fill is counted twice. The desk's execution ledger, where
there is one, is read after the rows; the underlyings' last trades only when a
row watches an underlying level: one request for all. A protective order a row
names that no longer rests is looked up once by id: filled, the row settles at
its fill.
"""

import logging
from dataclasses import replace
from datetime import timedelta

import psycopg

from pmctl.config import AccountConfig, Settings
from pmctl.core.market import Order, Position
from pmctl.core import closing, ledger, pricing, reconcile, rules, sync, walk
from pmctl.core.exit_plan import plan_for
from pmctl.core.model import Row, Snapshot
from pmctl.core.vocabulary import RECORDED_ALERTS, Status
from pmctl.errors import ConfigError
from pmctl.shell.ports import Broker
from pmctl.store import events, executions, exits, pending, positions

log = logging.getLogger("pmctl")


def find_ledger(conn: psycopg.Connection, settings: Settings) -> executions.Ledger | None:
    """The desk's execution ledger, found once at start-up: ``PMCTL_EXECUTIONS_SOURCE``, which must exist and
    hold the contract's columns (else exit 2, naming what is wrong), or ``dispatch_executions`` where the
    database has it. Without one (or with an older dispatcher's table lacking the columns) there is no ledger,
    and nothing is read from it."""
    named = settings.executions_source
    try:
        found = executions.locate(conn, named or executions.DEFAULT_SOURCE)
    except executions.LedgerMismatch as mismatch:
        if named:
            raise ConfigError(f"PMCTL_EXECUTIONS_SOURCE={named}: {mismatch}") from None
        log.info(f"no execution ledger read: {mismatch}", extra={"event": "no_ledger"})
        return None
    if found is None and named:
        raise ConfigError(f"PMCTL_EXECUTIONS_SOURCE={named}: no such table or view in the database")
    return found


def read_snapshot(
    broker: Broker, conn: psycopg.Connection, account: AccountConfig, settings: Settings, evidence: bool = False,
    ledger_source: executions.Ledger | None = None, symbols: frozenset[str] | None = None,
) -> Snapshot:
    """``evidence``: also read the fills and option events that settle rows the broker no longer holds.
    ``ledger_source``: the desk's execution ledger (``find_ledger``), None where there is none.
    ``symbols``: only those symbols' rows, positions and orders (``pmctl run``, for what a stream update touched)."""
    clock = broker.clock()
    held = tuple(p for p in broker.positions() if symbols is None or p.symbol in symbols)
    orders = tuple(o for o in broker.open_orders() if symbols is None or o.symbol in symbols)
    rows = positions.live_rows(conn, account.name, symbols)
    lead = rules.expiry_lead(plan_for(row, settings.policy) for row in rows if row.expiration_date is not None)
    window = rules.calendar_window(rows, clock.market_date, lead)
    sessions = tuple(broker.calendar(*window)) if window else ()
    close_orders = _close_orders(broker, rows, orders, held)
    stocks, options = pricing.quoted_symbols(rows, held, settings.policy)
    quotes = broker.latest_quotes(stocks, options) if stocks or options else {}
    protect_orders = _protect_orders(broker, rows, orders, settings)
    since = clock.timestamp - timedelta(minutes=settings.alert_cooldown_minutes)
    snapshot = Snapshot(
        account=account.name,
        rows=rows,
        positions=held,
        open_orders=orders,
        clock=clock,
        rules=settings.rules,
        policy=settings.policy,
        adopt=account.adopt,
        sessions=sessions,
        close_orders=close_orders,
        recent_alerts=events.recent_alerts(conn, account.name, RECORDED_ALERTS, since),
        grace_seconds=settings.reconcile_grace_seconds,
        pending_plans=_waiting_plans(conn, account.name, rows, held, clock.timestamp),
        quotes=quotes,
        protect_orders=protect_orders,
    )
    snapshot = _with_plans(snapshot, broker, conn, ledger_source, timedelta(hours=settings.ledger_lookback_hours))
    gone = reconcile.evidence_since(snapshot) if evidence else None
    starts = [start for start in (gone, sync.fills_needed_since(snapshot)) if start is not None]
    if not starts:
        return snapshot
    snapshot = replace(snapshot, fills=tuple(broker.fills_since(min(starts) - closing.LOOKUP_MARGIN)),
                       recorded_exits=exits.recorded_orders(conn, account.name, [row.id for row in rows]))
    if gone is None:
        return snapshot
    return replace(snapshot, option_events=tuple(broker.option_events_since(gone - timedelta(days=1))))


def _with_plans(snapshot: Snapshot, broker: Broker, conn: psycopg.Connection,
                source: executions.Ledger | None, lookback: timedelta) -> Snapshot:
    """The ledger's executions no row has taken yet, and the last trade of every underlying a level watches."""
    if source is not None:
        found = executions.unlinked(conn, source, snapshot.account, snapshot.clock.timestamp - lookback)
        snapshot = replace(snapshot, executions=found)
    underlyings = ledger.underlyings_needed(snapshot)
    if not underlyings:
        return snapshot
    return replace(snapshot, underlying_prices=broker.latest_trades(underlyings))


def _waiting_plans(conn: psycopg.Connection, account: str, rows: tuple[Row, ...], held: tuple[Position, ...],
                   now) -> tuple:
    """Read only in a cycle that may adopt (a position without a row), so a steady cycle costs no statement more."""
    tracked = {row.symbol for row in rows}
    if all(position.symbol in tracked for position in held):
        return ()
    return pending.waiting(conn, account, now)


def _protect_orders(broker: Broker, rows: tuple[Row, ...], orders: tuple[Order, ...],
                    settings: Settings) -> dict[str, Order | None]:
    """What became of each protective order a protected row names that is no longer open: one request per such
    order, in the one cycle that finds it gone (the row then forgets it, or closes)."""
    working = {order.id for order in orders}
    found: dict[str, Order | None] = {}
    for row in rows:
        named = [oid for oid in (row.stop_order_id, row.target_order_id) if oid and oid not in working]
        if named and plan_for(row, settings.policy).profile.protect_at_broker:
            found.update((oid, broker.order_by_id(oid)) for oid in named)
    return found


def _close_orders(broker: Broker, rows: tuple[Row, ...], orders: tuple[Order, ...],
                  held: tuple[Position, ...]) -> dict[str, Order | None]:
    """What the broker says of each closing row's order, keyed by the row's claim, one request per row at most.

    A working order under the claim's client order id is left for the settle step
    to find among the open orders; a limit close walked since (re-priced under
    the claim's ``-wN``, or sent at market as its ``-m``) is found among them by
    those ids. An option's close is looked up by that id, and one replaced since
    among the symbol's orders from the claim on (one more request). A
    stock's close went through DELETE /v2/positions, which carries no client
    order id: by the order id recorded from its answer, or, when the answer never
    came back, among the symbol's orders since the claim.
    """
    working = {order.client_order_id for order in orders}
    working_by_id = {order.id: order for order in orders}
    walking_by_claim = walk.latest_by_claim(orders)
    positions = {position.symbol: position for position in held}
    found: dict[str, Order | None] = {}
    for row in rows:
        claim = row.close_client_order_id
        if row.status != Status.CLOSING or not claim or claim in working:
            continue
        if claim in walking_by_claim:
            found[claim] = walking_by_claim[claim]
        elif row.close_order_id in working_by_id:
            found[claim] = working_by_id[row.close_order_id]
        elif not closing.by_position(row.symbol):
            order = broker.order_by_client_id(claim)
            if order is not None and order.status == "replaced":
                order = walk.latest(claim, broker.orders_since(row.symbol, closing.lookup_start(row)))
            found[claim] = order
        elif row.close_order_id:
            found[claim] = broker.order_by_id(row.close_order_id)
        else:
            sent = broker.orders_since(row.symbol, closing.lookup_start(row))
            found[claim] = closing.sent_by_position(row, sent, positions.get(row.symbol))
    return found
