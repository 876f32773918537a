"""``pmctl migrate`` on a fresh database and on the original service's database."""

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from pmctl.store import schema

LEGACY_SCHEMA = (Path(__file__).parent / "legacy_schema.sql").read_text()
ORIGINAL_COLUMNS = (
    "id, execution_id, ticker, instrument_type, strategy_type, side, quantity, entry_price, entry_time, "
    "strike_price, expiration_date, stop_loss, take_profit, max_hold_minutes, bracket_order_accepted, "
    "stop_order_id, target_order_id, current_price, current_pnl_dollars, current_pnl_percent, "
    "last_checked_at, check_count, status, close_reason, created_at, updated_at, closed_at, "
    "option_symbol, exit_price, execution_uuid, account_name"
)


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {row[0] for row in rows}


def snapshot(url: str) -> tuple[list, list]:
    with psycopg.connect(url) as conn:
        positions = conn.execute(f"SELECT {ORIGINAL_COLUMNS} FROM active_positions ORDER BY id").fetchall()
        events = conn.execute("SELECT id, position_id, event_type, event_data, created_at FROM position_events ORDER BY id").fetchall()
    return positions, events


def build_legacy(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(LEGACY_SCHEMA)


def test_fresh_database_gets_the_schema_and_a_second_run_is_a_no_op(pmctl, database_url):
    first = pmctl("migrate")
    assert first.exit_code == 0, first.stderr
    assert "applied 0001_original_schema" in first.stdout
    assert "applied 0002_pmctl_columns" in first.stdout
    assert {"active_positions", "position_events", "pmctl_schema_migrations", "v_open_positions_summary"} <= tables(
        database_url
    )
    assert "schema_migrations" not in tables(database_url)

    second = pmctl("migrate")
    assert second.exit_code == 0
    assert "schema is current: nothing to apply" in second.stdout
    assert "applied 0001" not in second.stdout


def test_dry_run_lists_pending_migrations_exits_3_and_creates_nothing(pmctl, database_url):
    result = pmctl("migrate", "--dry-run")
    assert result.exit_code == 3
    assert "would apply 0001_original_schema" in result.stdout
    assert "would apply 0002_pmctl_columns" in result.stdout
    assert tables(database_url) == set()

    assert pmctl("migrate").exit_code == 0
    after = pmctl("migrate", "--dry-run")
    assert after.exit_code == 0
    assert "nothing to apply" in after.stdout


def test_status_shows_applied_and_pending(pmctl):
    before = pmctl("migrate", "--status")
    assert before.exit_code == 0
    assert "0001_original_schema: pending" in before.stdout
    pmctl("migrate")
    after = pmctl("migrate", "--status")
    assert "0001_original_schema: applied" in after.stdout
    assert "0002_pmctl_columns: applied" in after.stdout
    assert "pending" not in after.stdout


def test_original_service_database_is_upgraded_without_changing_a_row(pmctl, database_url):
    build_legacy(database_url)
    before = snapshot(database_url)

    result = pmctl("migrate")

    assert result.exit_code == 0, result.stderr
    assert snapshot(database_url) == before
    assert "duplicate open rows: account tiny, symbol NOW260220P00110000, ids 32, 38" in result.stdout
    assert "duplicate open rows: account tiny, symbol QCOM260220P00145000, ids 33, 39, 40" in result.stdout
    with psycopg.connect(database_url) as conn:
        symbols = dict(conn.execute("SELECT id, symbol FROM active_positions").fetchall())
        foreign_keys = conn.execute(
            "SELECT count(*) FROM information_schema.table_constraints "
            "WHERE table_name = 'active_positions' AND constraint_type = 'FOREIGN KEY'"
        ).fetchone()[0]
    assert symbols[13] == "NOW"
    assert symbols[21] == "ORCL260213C00155000"
    assert foreign_keys == 1

    again = pmctl("migrate")
    assert again.exit_code == 0
    assert "nothing to apply" in again.stdout
    assert snapshot(database_url) == before


INSERT_LIKE_THE_DISPATCHER = """
    INSERT INTO active_positions
        (ticker, instrument_type, strategy_type, side, quantity, entry_price, entry_time,
         strike_price, expiration_date, stop_loss, take_profit, max_hold_minutes, option_symbol, account_name)
    VALUES (%s, 'CALL', 'swing_trade', 'long', 10, 5.20, '2026-02-03 15:00:00',
            340, '2026-02-20', 4.16, 7.80, 240, %s, %s)
    RETURNING id, symbol, status, close_attempts
"""


def test_other_tools_insert_with_original_columns_and_duplicates_are_refused(pmctl, database_url):
    build_legacy(database_url)
    assert pmctl("migrate").exit_code == 0
    with psycopg.connect(database_url) as conn:
        row = conn.execute(INSERT_LIKE_THE_DISPATCHER, ("GOOGL", "GOOGL260220C00340000", "large")).fetchone()
        conn.commit()
        assert row[1:] == ("GOOGL260220C00340000", "open", 0)

        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(INSERT_LIKE_THE_DISPATCHER, ("GOOGL", "GOOGL260220C00340000", "large"))
        conn.rollback()

        # the oldest row of an old duplicate group still guards its symbol
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(INSERT_LIKE_THE_DISPATCHER, ("QCOM", "QCOM260220P00145000", "tiny"))
        conn.rollback()

        # the same contract in the other account is a different position
        other = conn.execute(INSERT_LIKE_THE_DISPATCHER, ("GOOGL", "GOOGL260220C00340000", "tiny")).fetchone()
        assert other[1] == "GOOGL260220C00340000"


def test_closed_row_frees_its_symbol(pmctl, database_url):
    assert pmctl("migrate").exit_code == 0
    with psycopg.connect(database_url) as conn:
        first = conn.execute(INSERT_LIKE_THE_DISPATCHER, ("GOOGL", "GOOGL260220C00340000", "large")).fetchone()
        conn.execute("UPDATE active_positions SET status = 'closed' WHERE id = %s", (first[0],))
        second = conn.execute(INSERT_LIKE_THE_DISPATCHER, ("GOOGL", "GOOGL260220C00340000", "large")).fetchone()
        assert second[0] != first[0]


def test_two_migrates_started_together_apply_each_migration_once(clean_env, database_url):
    env = {"PMCTL_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "pmctl", "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    combined = "".join(out for out, _ in outputs)
    assert combined.count("applied 0001_original_schema") == 1
    assert combined.count("applied 0002_pmctl_columns") == 1
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM pmctl_schema_migrations").fetchone()[0] == len(schema.available())


def test_another_tools_schema_migrations_table_is_left_alone(pmctl, database_url):
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE schema_migrations (id SERIAL PRIMARY KEY, migration TEXT)")
        conn.execute("INSERT INTO schema_migrations (migration) VALUES ('999_cleanup_phantom_positions_v2')")
    result = pmctl("migrate")
    assert result.exit_code == 0, result.stderr
    assert f"{len(schema.available())} migration(s) applied" in result.stdout
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT migration FROM schema_migrations").fetchall() == [
            ("999_cleanup_phantom_positions_v2",)
        ]
