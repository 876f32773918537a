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


#: A cycle ran to its end: ``(by, by, round, name)``. ``by`` (``check@host``, ``run@host``) stamps it as the
#: account's last monitoring cycle; ``round`` (``check --once-per``) as the scale-out round's too.
CYCLE_STAMP = (
    "UPDATE broker_accounts SET monitored_at = CASE WHEN %s::text IS NULL THEN monitored_at ELSE now() END, "
    "monitored_by = COALESCE(%s::text, monitored_by), "
    "last_cycle_at = CASE WHEN %s THEN now() ELSE last_cycle_at END WHERE account_name = %s"
)


def cycle_stamp(name: str, by: str | None, round_: bool) -> tuple[str, tuple]:
    """The stamp of a cycle that ran to its end, as a statement and its parameters: sent alone by
    ``record_cycle``, or inside a steady cycle's one bookkeeping statement (``positions.refresh``)."""
    return CYCLE_STAMP, (by, by, round_, name)


def record_cycle(conn: psycopg.Connection, stamp: tuple[str, tuple]) -> None:
    conn.execute(*stamp)


def record_beat(conn: psycopg.Connection, name: str, watcher: str) -> bool:
    """The watcher holding the account is alive; False when the account has no binding to stamp yet."""
    cursor = conn.execute("UPDATE broker_accounts SET watcher = %s, watcher_beat_at = now() WHERE account_name = %s",
                          (watcher, name))
    return cursor.rowcount == 1


def clear_beat(conn: psycopg.Connection, name: str, watcher: str) -> None:
    """The watcher stopped cleanly: its beat is cleared, unless another has beaten since."""
    conn.execute("UPDATE broker_accounts SET watcher = NULL, watcher_beat_at = NULL "
                 "WHERE account_name = %s AND watcher = %s", (name, watcher))


def heartbeats(conn: psycopg.Connection, names: list[str]) -> dict[str, tuple]:
    """Per bound name: (seconds since the last cycle, by whom, seconds since the watcher's beat, which watcher),
    by the database's clock; None where nothing was recorded."""
    rows = conn.execute(
        "SELECT account_name, EXTRACT(EPOCH FROM now() - monitored_at), monitored_by, "
        "EXTRACT(EPOCH FROM now() - watcher_beat_at), watcher FROM broker_accounts WHERE account_name = ANY(%s)",
        (names,),
    ).fetchall()
    return {name: (_seconds(cycle), by, _seconds(beat), watcher) for name, cycle, by, beat, watcher in rows}


def _seconds(value) -> float | None:
    return None if value is None else float(value)
