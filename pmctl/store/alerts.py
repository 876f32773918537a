"""Which alerts were sent when: one alert per account, kind and symbol within the cooldown.

Times are the database's own (``now()``), the one clock every machine running
pmctl shares.
"""

import psycopg

from pmctl.alerts.model import Notice
from pmctl.store.events import to_json


def recently_sent(conn: psycopg.Connection, accounts: list[str], cooldown_minutes: int) -> set[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT account_name, event_data->>'kind', COALESCE(event_data->>'symbol', '') FROM position_events "
        "WHERE event_type = 'alert_sent' AND account_name = ANY(%s) "
        "AND created_at >= now() - make_interval(mins => %s)",
        (accounts, cooldown_minutes),
    ).fetchall()
    return {(account, kind, symbol) for account, kind, symbol in rows}


def record_sent(conn: psycopg.Connection, notices: list[Notice], actor: str) -> None:
    conn.execute(
        "INSERT INTO position_events (position_id, event_type, event_data, account_name, actor, created_at) "
        "SELECT v.position_id, 'alert_sent', v.data::jsonb, v.account, %s, now() "
        "FROM unnest(%s::int[], %s::text[], %s::text[]) AS v(position_id, account, data)",
        (actor, [n.row_id for n in notices], [n.account for n in notices],
         [to_json({"kind": n.kind, "symbol": n.symbol, "severity": n.severity, "text": n.text}) for n in notices]),
    )
