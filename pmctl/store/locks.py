"""Per-account advisory locks: one run acts on an account at a time, whichever machine runs it."""

import psycopg

ACCOUNT_LOCK_CLASS = 0x706D6374  # "pmct": the first key of every per-account advisory lock


def try_lock_account(conn: psycopg.Connection, account: str) -> bool:
    return conn.execute(
        "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (ACCOUNT_LOCK_CLASS, account)
    ).fetchone()[0]


def release_account(conn: psycopg.Connection, account: str) -> bool:
    return conn.execute(
        "SELECT pg_advisory_unlock(%s, hashtext(%s))", (ACCOUNT_LOCK_CLASS, account)
    ).fetchone()[0]


def keep_alive(conn: psycopg.Connection, idle_seconds: int = 10, interval_seconds: int = 5, count: int = 3) -> None:
    """A session that holds a lock for hours: the server probes its peer, so a watcher whose host vanished
    (no FIN ever sent) loses the lock after about idle + interval x count seconds and a standby takes over.
    Over a Unix socket there is no peer to lose and the server ignores these."""
    for name, value in (("tcp_keepalives_idle", idle_seconds), ("tcp_keepalives_interval", interval_seconds),
                        ("tcp_keepalives_count", count)):
        conn.execute(f"SET {name} = {int(value)}")
