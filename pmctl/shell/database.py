"""The database a command may use: reachable, and at the schema this pmctl ships."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from pmctl.config import Settings
from pmctl.errors import DatabaseError
from pmctl.store import schema
from pmctl.store.connection import connection


@contextmanager
def reading(settings: Settings, database_url: str) -> Iterator[psycopg.Connection]:
    """A connection for commands that read rows outside a cycle: the schema must be current, nothing migrates."""
    with connection(database_url, autocommit=True) as conn:
        ensure_schema(conn, owned=settings.database_url is None, dry_run=True)
        yield conn


def ensure_schema(conn: psycopg.Connection, owned: bool, dry_run: bool) -> None:
    """pmctl migrates its own embedded database before a run that writes; every other command asks for it."""
    migrations = schema.available()
    ledger = schema.read_ledger(conn)
    if ledger.at_old_name and not dry_run:
        schema.carry_over(conn)
    todo = schema.pending(migrations, ledger.applied)
    if not todo:
        return
    if owned and not dry_run:
        schema.migrate(conn, migrations)
        return
    if owned:
        raise DatabaseError(f"pmctl's embedded database is not migrated yet ({len(todo)} pending migration(s)): "
                            "run pmctl migrate")
    raise DatabaseError(f"the database schema is behind ({len(todo)} pending migration(s)): run pmctl migrate")


def statement_refused(error: psycopg.Error) -> DatabaseError:
    """Any PostgreSQL failure mid-command: the connection dropped, a permission, a constraint, a serialization."""
    diagnostic = getattr(error, "diag", None)
    detail = (diagnostic.message_primary if diagnostic is not None else None) or _first_line(error)
    if isinstance(error, psycopg.OperationalError):
        return DatabaseError(f"database connection failed: {detail}")
    return DatabaseError(f"the database refused a statement ({type(error).__name__}): {detail}")


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
