"""The binding of configured account names to broker account numbers."""

import psycopg


def bindings(conn: psycopg.Connection) -> dict[str, str]:
    """Every recorded name → account number (all names: a number bound elsewhere must be seen)."""
    if conn.execute("SELECT to_regclass('broker_accounts') IS NULL").fetchone()[0]:
        return {}
    return dict(conn.execute("SELECT account_name, account_number FROM broker_accounts").fetchall())


def bind(conn: psycopg.Connection, name: str, number: str) -> bool:
    """Record a first binding; False when the name or the number was bound meanwhile by another run."""
    cursor = conn.execute(
        "INSERT INTO broker_accounts (account_name, account_number) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (name, number),
    )
    return cursor.rowcount == 1
