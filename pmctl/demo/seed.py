"""Builds the incident's database the way the desk's really was: the original schema, its rows
(duplicates included), and only then pmctl's migrations, which list those duplicates."""

import json
from importlib import resources

import psycopg

from pmctl.store import seed
from pmctl.store import schema

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
