"""Builds the incident's database the way the desk's really was: the original schema, its rows
(duplicates included), and only then pmctl's migrations, which list those duplicates."""

import json
from importlib import resources

import psycopg

from pmctl.errors import UsageError
from pmctl.store import schema, seed
from pmctl.store.connection import connection

ORIGINAL_SCHEMA_VERSION = "0001"


def incident_rows() -> list[dict]:
    data = json.loads((resources.files("pmctl.demo") / "incident_rows.json").read_text(encoding="utf-8"))
    return [{key: value for key, value in row.items() if key != "note"} for row in data["rows"]]


def seed_incident(conn: psycopg.Connection) -> list[str]:
    """Seed an empty database in autocommit mode; returns the notices the upgrade printed."""
    migrations = schema.available()
    original = tuple(m for m in migrations if m.version == ORIGINAL_SCHEMA_VERSION)
    schema.migrate(conn, original)
    with conn.transaction():
        for row in incident_rows():
            seed.insert_original(conn, row)
        seed.advance_ids(conn)
    return [notice for _, notices in schema.migrate(conn, migrations) for notice in notices]


def seed_rehearsal(database_url: str) -> list[str]:
    """The incident's rows for rehearsing the runbook (``pmctl sim seed-incident``): into an empty database only,
    so a rehearsal never mixes its rows with a desk's."""
    with connection(database_url, autocommit=True) as conn:
        if not schema.is_empty(conn):
            raise UsageError("seed-incident loads rehearsal rows into an empty database only; "
                             "this one already has active_positions (point PMCTL_HOME at a scratch directory)")
        return seed_incident(conn)
