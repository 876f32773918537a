"""Reading one account's snapshot: broker first, then the database.

The broker is read first so that a row the dispatcher inserts for a fresh fill
a moment later is seen with its position rather than adopted twice. The
broker's fills are read only when the snapshot needs them (a row disagrees with
its position, or reconcile settles rows the broker no longer holds): one
request for the account, from the earliest time any row needs.
"""

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import psycopg

from pmctl.broker.adapter import AlpacaBroker
from pmctl.config import AccountConfig, Settings
from pmctl.core import reconcile, rules, sync
from pmctl.core.model import CLOSING, Snapshot
from pmctl.core.plan import ALERT_KINDS
from pmctl.store import positions as store

MARKET_ZONE = ZoneInfo("America/New_York")


def read_snapshot(
    broker: AlpacaBroker, conn: psycopg.Connection, account: AccountConfig, settings: Settings, evidence: bool = False
) -> Snapshot:
    """``evidence``: also read the fills and option events that settle rows the broker no longer holds."""
    clock = broker.clock()
    held = tuple(broker.positions())
    orders = tuple(broker.open_orders())
    rows = store.live_rows(conn, account.name)
    window = rules.calendar_window(rows, clock.timestamp.astimezone(MARKET_ZONE).date(),
                                   settings.rules.expiration_lead_days)
    sessions = tuple(broker.calendar(*window)) if window else ()
    working = {order.client_order_id for order in orders}
    close_orders = {
        row.close_client_order_id: broker.order_by_client_id(row.close_client_order_id)
        for row in rows
        if row.status == CLOSING and row.close_client_order_id and row.close_client_order_id not in working
    }
    since = clock.timestamp - timedelta(minutes=settings.alert_cooldown_minutes)
    snapshot = Snapshot(
        account=account.name,
        rows=rows,
        positions=held,
        open_orders=orders,
        clock=clock,
        rules=settings.rules,
        adopt=account.adopt,
        sessions=sessions,
        close_orders=close_orders,
        recent_alerts=store.recent_alerts(conn, account.name, ALERT_KINDS, since),
        grace_seconds=settings.reconcile_grace_seconds,
    )
    gone = reconcile.evidence_since(snapshot) if evidence else None
    starts = [start for start in (gone, sync.fills_needed_since(snapshot)) if start is not None]
    if not starts:
        return snapshot
    snapshot = replace(snapshot, fills=tuple(broker.fills_since(min(starts))))
    if gone is None:
        return snapshot
    return replace(snapshot, option_events=tuple(broker.option_events_since(gone - timedelta(days=1))))
