"""The database a command may use: reachable, and at the schema this pmctl ships."""

import psycopg

from pmctl.errors import DatabaseError
from pmctl.store import schema


def ensure_schema(conn: psycopg.Connection, owned: bool, dry_run: bool) -> None:
    """pmctl migrates its own embedded database; a configured server is migrated by an operator."""
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
        raise DatabaseError(f"pmctl's embedded database is not migrated yet ({len(todo)} pending migration(s)), "
                            "and a dry run writes nothing: run pmctl migrate first")
    raise DatabaseError(f"the database schema is behind ({len(todo)} pending migration(s)): run pmctl migrate")
