"""``pmctl migrate``'s work on the database: what the ledger records, and bringing the schema up to date."""

from dataclasses import dataclass

from pmctl.store import schema
from pmctl.store.connection import connection
from pmctl.store.schema import LEDGER, OLD_LEDGER, Ledger, Migration

__all__ = ["LEDGER", "OLD_LEDGER", "Schema", "migrate", "read"]


@dataclass(frozen=True)
class Schema:
    """The migrations this pmctl ships, what the database's ledger records, and what is still to apply."""

    available: tuple[Migration, ...]
    ledger: Ledger
    pending: tuple[Migration, ...]


def read(database_url: str) -> Schema:
    available = schema.available()
    with connection(database_url, autocommit=True) as conn:
        ledger = schema.read_ledger(conn)
    return Schema(available, ledger, schema.pending(available, ledger.applied))


def migrate(database_url: str) -> tuple[Schema, list[tuple[Migration, list[str]]]]:
    """Every pending migration, each in its own transaction; the schema as it was before, and what was applied
    with the notices each printed."""
    available = schema.available()
    with connection(database_url, autocommit=True) as conn:
        ledger = schema.read_ledger(conn)
        before = Schema(available, ledger, schema.pending(available, ledger.applied))
        return before, schema.migrate(conn, available)
