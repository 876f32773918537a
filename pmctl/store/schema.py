"""Schema migrations: numbered SQL files shipped in the package, and their ledger.

Each migration runs in one transaction together with its ledger row, so a
migration is either applied and recorded or neither. A session advisory lock
serialises concurrent ``pmctl migrate`` runs: the second waits, then finds
nothing left to do.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import psycopg

from pmctl.errors import DatabaseError

MIGRATE_LOCK_KEY = 0x706D63746C6D6967  # "pmctlmig"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class AppliedMigration:
    version: str
    name: str
    checksum: str
    applied_at: datetime


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
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version VARCHAR(16) PRIMARY KEY,
                name TEXT NOT NULL,
                checksum CHAR(64) NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """
        )


def applied(conn: psycopg.Connection) -> dict[str, AppliedMigration]:
    """What the ledger records; an empty dict where there is no ledger yet.

    One statement, since it runs every cycle; ``conn`` must be in autocommit mode.
    """
    try:
        rows = conn.execute("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version").fetchall()
    except psycopg.errors.UndefinedTable:
        return {}
    except psycopg.errors.UndefinedColumn:
        raise DatabaseError(
            "a table named schema_migrations exists but is not pmctl's ledger "
            "(it lacks version, name, checksum, applied_at)"
        ) from None
    return {row[0]: AppliedMigration(*row) for row in rows}


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
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
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
