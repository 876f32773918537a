"""The database a command may use: reachable, and at the schema this pmctl ships."""

import psycopg

from pmctl.errors import DatabaseError
from pmctl.store import schema


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
