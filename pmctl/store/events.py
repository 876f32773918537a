"""Rows of ``position_events``: the audit trail every action writes, and the alerts it recorded."""

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import psycopg

from pmctl.core.vocabulary import EVENT_KINDS


@dataclass(frozen=True)
class Event:
    row_id: int | None
    kind: str
    data: dict


def insert_events(conn: psycopg.Connection, account: str, events: list[Event], actor: str, now: datetime) -> None:
    if not events:
        return
    unlisted = sorted({event.kind for event in events} - EVENT_KINDS)
    if unlisted:
        raise ValueError(f"event kind(s) {', '.join(unlisted)} missing from pmctl.core.vocabulary.EVENT_KINDS")
    conn.execute(
        "INSERT INTO position_events (position_id, event_type, event_data, account_name, actor, created_at) "
        "SELECT v.position_id, v.kind, v.data::jsonb, %s, %s, %s FROM unnest(%s::int[], %s::text[], %s::text[]) "
        "AS v(position_id, kind, data)",
        (account, actor, now, [event.row_id for event in events], [event.kind for event in events],
         [to_json(event.data) for event in events]),
    )


def to_json(data: dict) -> str:
    return json.dumps(data, default=_json_value, sort_keys=True)


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in an event")


def recent_alerts(conn: psycopg.Connection, account: str, kinds: tuple[str, ...], since: datetime) -> frozenset:
    """(kind, symbol) pairs alerted since a time: an alert is recorded once per cooldown, not every minute."""
    rows = conn.execute(
        "SELECT DISTINCT event_type, event_data->>'symbol' FROM position_events "
        "WHERE account_name = %s AND created_at >= %s AND event_type = ANY(%s)",
        (account, since, list(kinds)),
    ).fetchall()
    return frozenset((kind, symbol or "") for kind, symbol in rows)
