"""The binding of configured account names to broker account numbers."""

import psycopg


def bindings(conn: psycopg.Connection) -> dict[str, str]:
    """Every recorded name → account number (all names: a number bound elsewhere must be seen).

    ``conn`` must be in autocommit mode (a missing table must not poison a transaction).
    """
    try:
        return dict(conn.execute("SELECT account_name, account_number FROM broker_accounts").fetchall())
    except psycopg.errors.UndefinedTable:
        return {}


def bind(conn: psycopg.Connection, name: str, number: str) -> bool:
    """Record a first binding; False when the name or the number was bound meanwhile by another run."""
    cursor = conn.execute(
        "INSERT INTO broker_accounts (account_name, account_number) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (name, number),
    )
    return cursor.rowcount == 1


def seconds_since_cycle(conn: psycopg.Connection, name: str) -> float | None:
    """How long ago, by the database's clock, the account was last cycled; None if never."""
    row = conn.execute(
        "SELECT EXTRACT(EPOCH FROM now() - last_cycle_at) FROM broker_accounts WHERE account_name = %s", (name,)
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def record_cycle(conn: psycopg.Connection, name: str) -> None:
    conn.execute("UPDATE broker_accounts SET last_cycle_at = now() WHERE account_name = %s", (name,))
