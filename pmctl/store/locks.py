"""Per-account advisory locks: one run acts on an account at a time, whichever machine runs it."""

import psycopg

ACCOUNT_LOCK_CLASS = 0x706D6374  # "pmct": the first key of every per-account advisory lock


def try_lock_account(conn: psycopg.Connection, account: str) -> bool:
    return conn.execute(
        "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (ACCOUNT_LOCK_CLASS, account)
    ).fetchone()[0]
