"""Loading rows the way the original service wrote them: the demo's and the rehearsal's incident."""

import psycopg
from psycopg import sql


def insert_original(conn: psycopg.Connection, values: dict) -> None:
    """Insert a row the way the original service did (seed data): column names are composed as identifiers."""
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in values)
    marks = sql.SQL(", ").join(sql.Placeholder() * len(values))
    conn.execute(sql.SQL("INSERT INTO active_positions ({}) VALUES ({})").format(columns, marks), list(values.values()))


def advance_ids(conn: psycopg.Connection) -> None:
    """After inserting rows with explicit ids, start new ids above them."""
    conn.execute("SELECT setval('active_positions_id_seq', (SELECT COALESCE(max(id), 1) FROM active_positions))")
