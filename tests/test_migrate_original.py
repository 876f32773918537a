"""``pmctl migrate`` on the original service's production database, and on a database an earlier pmctl kept.

``original_schema.sql`` rebuilds the desk's database from the original service's own
migrations; upgrading it must change no row and drop no constraint, index, view or
foreign key: pmctl only adds.
"""

from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from pmctl.store import schema

ORIGINAL_SCHEMA = (Path(__file__).parent / "original_schema.sql").read_text()
THE_ORIGINALS_TABLES = ("schema_migrations", "dispatch_recommendations", "dispatch_executions", "active_positions",
                        "position_events", "position_history")
PMCTL_TABLES = ("broker_accounts", "pmctl_schema_migrations", "position_exits", "pending_plans")
#: What pmctl adds to the original's tables; PostgreSQL 18 lists a NOT NULL column as a constraint too.
PMCTL_CONSTRAINTS = {("active_positions", "chk_active_positions_tracked_as"),
                     ("active_positions", "chk_active_positions_plan_source")}
PMCTL_NOT_NULL = {("active_positions", "active_positions_close_attempts_not_null"),
                  ("active_positions", "active_positions_scale_out_done_not_null"),
                  ("active_positions", "active_positions_protect_seq_not_null")}
PMCTL_INDEXES = {("active_positions", "uq_active_positions_open_symbol"),
                 ("active_positions", "idx_active_positions_account_status"),
                 ("position_events", "idx_position_events_account_created")}


def build_original(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(ORIGINAL_SCHEMA)


def columns(conn: psycopg.Connection, table: str) -> dict[str, str]:
    return dict(conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (table,)).fetchall())


def contents(url: str, table_columns: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """Every row of every table, in the columns each table had before the upgrade."""
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(sql.SQL("SELECT {} FROM {} ORDER BY 1").format(
                sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(table))).fetchall()
            for table, names in table_columns.items()
        }


def catalog(url: str) -> dict[str, set]:
    with psycopg.connect(url) as conn:
        return {
            "constraints": set(conn.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
                "WHERE connamespace = 'public'::regnamespace").fetchall()),
            "indexes": set(conn.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'").fetchall()),
            "views": set(conn.execute(
                "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'").fetchall()),
            "comments": set(conn.execute(
                "SELECT c.relname, a.attname, col_description(c.oid, a.attnum) FROM pg_class c "
                "JOIN pg_attribute a ON a.attrelid = c.oid WHERE c.relnamespace = 'public'::regnamespace "
                "AND col_description(c.oid, a.attnum) IS NOT NULL").fetchall()),
        }


def test_the_original_services_database_is_upgraded_in_place_changing_nothing_it_had(pmctl, database_url):
    build_original(database_url)
    with psycopg.connect(database_url) as conn:
        table_columns = {table: list(columns(conn, table)) for table in THE_ORIGINALS_TABLES}
        types_before = columns(conn, "active_positions")
    rows_before, catalog_before = contents(database_url, table_columns), catalog(database_url)

    status = pmctl("migrate", "--status")
    assert status.exit_code == 0, status.stderr
    assert status.stdout.count(": pending") == len(schema.available())
    dry = pmctl("migrate", "--dry-run")
    assert dry.exit_code == 3, dry.stderr
    assert f"{len(schema.available())} pending migration(s)" in dry.stdout
    assert contents(database_url, table_columns) == rows_before

    result = pmctl("migrate")

    assert result.exit_code == 0, result.stderr
    assert "duplicate open rows: account tiny, symbol NOW260220P00110000, ids 46, 47" in result.stdout
    assert "v_open_positions_summary is the desk's own view (20 columns, ending with created_at): left as it is" \
        in result.stdout
    assert contents(database_url, table_columns) == rows_before
    after = catalog(database_url)
    assert catalog_before["constraints"] <= after["constraints"]
    added = {(table, name) for table, name, *_ in after["constraints"] - catalog_before["constraints"]
             if table not in PMCTL_TABLES}
    assert added - PMCTL_NOT_NULL == PMCTL_CONSTRAINTS
    assert catalog_before["indexes"] <= after["indexes"]
    assert {(table, name) for table, name, _ in after["indexes"] - catalog_before["indexes"]
            if table not in PMCTL_TABLES} == PMCTL_INDEXES
    assert after["views"] == catalog_before["views"]
    assert after["comments"] == catalog_before["comments"]
    with psycopg.connect(database_url) as conn:
        types_after = columns(conn, "active_positions")
    assert {name: kind for name, kind in types_after.items() if name in types_before} == {
        **types_before, "original_quantity": "numeric(12,4)"}

    again = pmctl("migrate")
    assert again.exit_code == 0
    assert "schema is current: nothing to apply" in again.stdout
    assert pmctl("migrate", "--dry-run").exit_code == 0
    assert ": pending" not in pmctl("migrate", "--status").stdout
    assert contents(database_url, table_columns) == rows_before


def test_a_desk_view_on_original_quantity_is_built_again_with_its_comment_and_grants(pmctl, database_url):
    build_original(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DO $$ BEGIN CREATE ROLE desk_readonly NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        conn.execute("CREATE VIEW v_partial_exits AS SELECT id, ticker, quantity, original_quantity, "
                     "original_quantity - quantity AS sold FROM active_positions WHERE original_quantity > quantity")
        conn.execute("COMMENT ON VIEW v_partial_exits IS 'positions partly sold'")
        conn.execute("GRANT SELECT ON v_partial_exits TO desk_readonly")
        definition = conn.execute("SELECT pg_get_viewdef('v_partial_exits')").fetchone()[0]

    result = pmctl("migrate")

    assert result.exit_code == 0, result.stderr
    assert "view v_partial_exits selects original_quantity: set aside and built again" in result.stdout
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT pg_get_viewdef('v_partial_exits')").fetchone()[0] == definition
        assert conn.execute("SELECT obj_description('v_partial_exits'::regclass, 'pg_class')").fetchone()[0] \
            == "positions partly sold"
        assert conn.execute("SELECT has_table_privilege('desk_readonly', 'v_partial_exits', 'SELECT')").fetchone()[0]
        assert columns(conn, "v_partial_exits")["original_quantity"] == "numeric(12,4)"
        assert conn.execute("SELECT id, sold FROM v_partial_exits").fetchall() == []


def test_a_fractional_original_quantity_is_kept_whole(pmctl, database_url):
    build_original(database_url)
    assert pmctl("migrate").exit_code == 0
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE active_positions SET original_quantity = 12.5 WHERE id = 44")
        assert conn.execute("SELECT original_quantity FROM active_positions WHERE id = 44").fetchone()[0] \
            == Decimal("12.5")


OLD_LEDGER = """
CREATE TABLE schema_migrations (
    version VARCHAR(16) PRIMARY KEY,
    name TEXT NOT NULL,
    checksum CHAR(64) NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""
LAST_RELEASED = "0005"


def build_earlier_pmctl_install(url: str) -> None:
    """The database pmctl's previous release left: its ledger under the old name, 0001-0005 as shipped then."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(OLD_LEDGER)
        for migration in schema.available():
            if migration.version > LAST_RELEASED:
                break
            conn.execute(migration.sql)
            shipped = min(schema.EARLIER_CHECKSUMS.get(migration.version, {migration.checksum}))
            conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                         (migration.version, migration.name, shipped))


def ledger_tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {name for (name,) in conn.execute(
            "SELECT relname FROM pg_class WHERE relname IN ('schema_migrations', 'pmctl_schema_migrations')")}


def test_an_earlier_pmctl_database_reads_as_applied_and_its_ledger_is_carried_over(pmctl, database_url):
    build_earlier_pmctl_install(database_url)
    newer = [m for m in schema.available() if m.version > LAST_RELEASED]

    status = pmctl("migrate", "--status")
    assert status.exit_code == 0, status.stderr
    assert "ledger: schema_migrations (the next pmctl migrate, or a command that writes, renames it " \
           "pmctl_schema_migrations)" in status.stdout
    assert "0001_original_schema: applied" in status.stdout
    assert "file changed since" not in status.stdout
    assert status.stdout.count(": pending") == len(newer)
    dry = pmctl("migrate", "--dry-run")
    assert dry.exit_code == 3
    assert "would rename pmctl's ledger schema_migrations to pmctl_schema_migrations" in dry.stdout
    assert "would apply 0001" not in dry.stdout
    assert ledger_tables(database_url) == {"schema_migrations"}

    result = pmctl("migrate")

    assert result.exit_code == 0, result.stderr
    assert "renamed pmctl's ledger schema_migrations to pmctl_schema_migrations" in result.stdout
    assert [line for line in result.stdout.splitlines() if line.startswith("applied")] == [
        f"applied {m.version}_{m.name}" for m in newer]
    assert ledger_tables(database_url) == {"pmctl_schema_migrations"}
    assert "file changed since" not in pmctl("migrate", "--status").stdout


def test_a_command_that_writes_carries_the_ledger_over_and_a_dry_run_does_not(pmctl, database_url):
    build_earlier_pmctl_install(database_url)
    env = {"PMCTL_ACCOUNTS": "a", "PMCTL_A_API_KEY": "PKNOTUSED", "PMCTL_A_SECRET_KEY": "not-used"}

    dry = pmctl("check", "--dry-run", env=env)
    assert dry.exit_code == 1
    assert "run pmctl migrate" in dry.stderr
    assert ledger_tables(database_url) == {"schema_migrations"}

    real = pmctl("check", env=env)
    assert real.exit_code == 1
    assert f"the database schema is behind ({len(schema.available()) - int(LAST_RELEASED)} pending migration(s))" \
        in real.stderr
    assert ledger_tables(database_url) == {"pmctl_schema_migrations"}
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM pmctl_schema_migrations").fetchone()[0] == int(LAST_RELEASED)


@pytest.mark.parametrize("build", [build_original, build_earlier_pmctl_install], ids=["original", "earlier-pmctl"])
def test_two_migrates_started_together_on_an_existing_database_agree(build, pmctl, database_url):
    build(database_url)
    import subprocess
    import sys

    env = {"PMCTL_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    runs = [subprocess.Popen([sys.executable, "-m", "pmctl", "migrate"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    with psycopg.connect(database_url) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM pmctl_schema_migrations ORDER BY version")]
    assert versions == [m.version for m in schema.available()]


def test_rows_an_earlier_pmctl_adopted_or_quarantined_keep_working(pmctl, database_url, desk_env, state):
    build_earlier_pmctl_install(database_url)
    with psycopg.connect(database_url) as conn:
        for symbol, side, qty, strategy, stop in (("ORCL", "short", 12, "unexpected_short", None),
                                                  ("META", "long", 15, "adopted", Decimal(690))):
            conn.execute(
                "INSERT INTO active_positions (account_name, ticker, instrument_type, strategy_type, side, quantity, "
                "entry_price, entry_time, stop_loss) VALUES ('a', %s, 'STOCK', %s, %s, %s, 100, now(), %s)",
                (symbol, strategy, side, qty, stop))
    state.set_position("a", "ORCL", Decimal(-12), Decimal(100))
    state.set_price("ORCL", Decimal(300))
    state.set_position("a", "META", Decimal(15), Decimal(100))
    state.set_price("META", Decimal(710))

    assert pmctl("migrate").exit_code == 0
    result = pmctl("check", "--account", "a", env=desk_env)

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "ALERT critical unexpected_short on row" in result.stdout
    assert state.account("a").orders == []
    with psycopg.connect(database_url) as conn:
        rows = dict(conn.execute(
            "SELECT symbol, (strategy_type, tracked_as, plan_source, status) FROM active_positions").fetchall())
    assert rows == {"ORCL": ("unexpected_short", "unexpected_short", None, "open"),
                    "META": ("adopted", "adopted", None, "open")}
