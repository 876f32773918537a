"""Schema migrations: numbered SQL files shipped in the package, and their ledger.

Each migration runs in one transaction together with its ledger row, so a
migration is either applied and recorded or neither. A session advisory lock
serialises concurrent ``pmctl migrate`` runs: the second waits, then finds
nothing left to do.

The ledger is ``pmctl_schema_migrations``. The original service keeps a ledger
of its own named ``schema_migrations`` (version, applied_at), which pmctl
leaves as it is; pmctl releases before this one kept theirs under that same
name, and such a ledger (it has pmctl's name and checksum columns) is read
where it is and moved to pmctl's name by the first command that may write.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import psycopg

from pmctl.errors import DatabaseError

MIGRATE_LOCK_KEY = 0x706D63746C6D6967  # "pmctlmig"
LEDGER = "pmctl_schema_migrations"
OLD_LEDGER = "schema_migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

#: The checksums a shipped migration had in earlier pmctl releases. A database that applied one of
#: those texts has applied the migration: the later text does the same there (0001 and 0002 only
#: became careful with a view the desk already has), so ``migrate --status`` reads it as applied.
EARLIER_CHECKSUMS = {
    "0001": frozenset({"ee0055b8fa89699d911232fc82b6f1186746ed61706b345d9bc1aaaa93d5b1eb"}),
    "0002": frozenset({"7bd31c3f3aa6a06e303b3c05ef9d63b77d244fd9ec80e40b498c5e92281bd741"}),
}


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def recorded_as(self, checksum: str) -> bool:
        """Whether a ledger row with this checksum records this migration's text or a shipped earlier one."""
        return checksum == self.checksum or checksum in EARLIER_CHECKSUMS.get(self.version, frozenset())


@dataclass(frozen=True)
class AppliedMigration:
    version: str
    name: str
    checksum: str
    applied_at: datetime


@dataclass(frozen=True)
class Ledger:
    """What pmctl's ledger records, and whether it still sits under the old name."""

    applied: dict[str, AppliedMigration]
    at_old_name: bool = False


def available() -> tuple[Migration, ...]:
    folder = resources.files("pmctl.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(match.group(1), match.group(2), entry.read_text(encoding="utf-8")))
    return tuple(sorted(found, key=lambda m: m.version))


def pending(migrations: tuple[Migration, ...], applied: dict[str, AppliedMigration]) -> tuple[Migration, ...]:
    return tuple(m for m in migrations if m.version not in applied)


def ensure_ledger(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {LEDGER} (
                version VARCHAR(16) PRIMARY KEY,
                name TEXT NOT NULL,
                checksum CHAR(64) NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """
        )


def read_ledger(conn: psycopg.Connection) -> Ledger:
    """What the ledger records; empty where pmctl has no ledger yet.

    One statement where the ledger has its own name, since this runs every
    cycle; ``conn`` must be in autocommit mode. Nothing is written.
    """
    for _ in range(2):
        try:
            return Ledger(_records(conn, LEDGER))
        except psycopg.errors.UndefinedTable:
            pass
        if not _old_ledger_is_pmctls(conn):
            return Ledger({})
        try:
            return Ledger(_records(conn, OLD_LEDGER), at_old_name=True)
        except psycopg.errors.UndefinedTable:
            continue  # another migrate renamed it between the two reads: read it under its new name
    return Ledger(_records(conn, LEDGER))


def applied(conn: psycopg.Connection) -> dict[str, AppliedMigration]:
    return read_ledger(conn).applied


def _records(conn: psycopg.Connection, table: str) -> dict[str, AppliedMigration]:
    rows = conn.execute(f"SELECT version, name, checksum, applied_at FROM {table} ORDER BY version").fetchall()
    return {row[0]: AppliedMigration(*row) for row in rows}


def _old_ledger_is_pmctls(conn: psycopg.Connection) -> bool:
    """A ``schema_migrations`` with pmctl's columns; the original service's has only version and applied_at."""
    return conn.execute(
        "SELECT count(*) = 4 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND NOT attisdropped "
        "AND attname IN ('version', 'name', 'checksum', 'applied_at')",
        (OLD_LEDGER,),
    ).fetchone()[0]


def carry_over(conn: psycopg.Connection) -> bool:
    """Give a ledger kept under the old name pmctl's own name; True when this call moved it."""
    lock(conn)
    try:
        with conn.transaction():
            if conn.execute("SELECT to_regclass(%s) IS NOT NULL", (LEDGER,)).fetchone()[0]:
                return False
            if not _old_ledger_is_pmctls(conn):
                return False
            conn.execute(f"ALTER TABLE {OLD_LEDGER} RENAME TO {LEDGER}")
            conn.execute(f"ALTER INDEX IF EXISTS {OLD_LEDGER}_pkey RENAME TO {LEDGER}_pkey")
            return True
    finally:
        unlock(conn)


def apply(conn: psycopg.Connection, migration: Migration) -> list[str]:
    """Apply one migration with its ledger row; returns the notices it raised."""
    notices: list[str] = []

    def collect(diagnostic: psycopg.errors.Diagnostic) -> None:
        if diagnostic.severity_nonlocalized == "NOTICE":
            notices.append(diagnostic.message_primary or "")

    conn.add_notice_handler(collect)
    try:
        with conn.transaction():
            conn.execute(migration.sql)
            conn.execute(
                f"INSERT INTO {LEDGER} (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
    except psycopg.errors.Error as error:
        if isinstance(error, psycopg.OperationalError):
            raise
        raise DatabaseError(
            f"migration {migration.version}_{migration.name} failed and was rolled back: "
            f"{error.diag.message_primary or error}"
        ) from None
    finally:
        conn.remove_notice_handler(collect)
    return notices


def lock(conn: psycopg.Connection) -> None:
    """Take the migrate lock; ``conn`` must be in autocommit mode so the lock outlives transactions."""
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK_KEY,))


def unlock(conn: psycopg.Connection) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATE_LOCK_KEY,))


def migrate(conn: psycopg.Connection, migrations: tuple[Migration, ...]) -> list[tuple[Migration, list[str]]]:
    """Apply what is pending under the migrate lock; returns each applied migration with its notices."""
    lock(conn)
    try:
        carry_over(conn)
        ensure_ledger(conn)
        done = []
        for migration in pending(migrations, applied(conn)):
            done.append((migration, apply(conn, migration)))
        return done
    finally:
        unlock(conn)


def is_empty(conn: psycopg.Connection) -> bool:
    """No positions table yet: a database rehearsal rows may be loaded into without touching a desk's data."""
    return conn.execute("SELECT to_regclass('active_positions') IS NULL").fetchone()[0]
