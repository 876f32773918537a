"""Overlapping runs, a flaky or hung broker, a database that drops mid-cycle."""

import os
import subprocess
import sys
import time
from decimal import Decimal

import psycopg
import pytest

from helpers import fetch_rows, insert_row, wait_until
from test_crash_safety import CALL, start_check

PATH = os.environ.get("PATH", "/usr/bin:/bin")


@pytest.mark.slow
def test_runs_started_together_send_exactly_one_close(desk, desk_env, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
    state.set_latency(0.05)
    env = {**desk_env, "PMCTL_DATABASE_URL": database_url, "PATH": PATH}
    runs = [subprocess.Popen([sys.executable, "-m", "pmctl", "check", *extra], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for extra in ([], [], ["--wait", "30"], ["--wait", "30"])]
    outputs = [run.communicate(timeout=120) for run in runs]
    codes = [run.returncode for run in runs]
    assert codes[2:] == [0, 0], outputs
    assert set(codes[:2]) <= {0, 75}, outputs
    assert all("another pmctl run holds account" in err for code, (_, err) in zip(codes, outputs) if code == 75)
    assert len([o for o in state.account("a").orders if o.symbol == CALL]) == 1
    assert fetch_rows(database_url, f"id = {row}")[0]["status"] == "closed"


def test_a_held_lock_is_exit_75_unless_waited_for(desk, state, database_url):
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, hashtext('a'))", (0x706D6374,))
        held = desk("check", "--account", "a")
        assert held.exit_code == 75
        assert "another pmctl run holds account a" in held.stderr
        started = time.monotonic()
        waited = desk("check", "--account", "a", "--wait", "0.5")
        assert waited.exit_code == 75 and time.monotonic() - started >= 0.5
        assert desk("check", "--account", "b").exit_code == 0
    assert desk("check", "--account", "a").exit_code == 0


@pytest.mark.slow
def test_a_hung_broker_ends_the_cycle_with_exit_1_in_bounded_time(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
    state.inject_fault("/v2/positions", "hang", count=10, seconds=5)
    started = time.monotonic()
    result = desk("check", "--account", "a", env={"PMCTL_BROKER_TIMEOUT": "0.5"})
    assert result.exit_code == 1
    assert time.monotonic() - started < 3 * 0.5 + 3
    assert "broker unreachable while trying to read positions: timed out" in result.stderr
    assert fetch_rows(database_url, f"id = {row}")[0]["status"] == "open"
    assert state.account("a").orders == []


def test_rate_limits_and_5xx_on_reads_are_retried(desk, state, database_url):
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    state.inject_fault("/v2/positions", "error", count=1, status=429)
    state.inject_fault("/v2/orders", "error", count=1, status=503, method="GET")
    result = desk("check", "--account", "a")
    assert result.exit_code == 0, result.stderr
    assert [r["symbol"] for r in fetch_rows(database_url)] == ["SPY"]


@pytest.mark.slow
def test_a_database_dropped_mid_cycle_is_exit_1_and_the_next_cycle_settles(desk, desk_env, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
    state.inject_fault("/v2/orders", "slow_answer", count=1, method="POST", seconds=1.5)
    process = start_check(desk_env, database_url)
    wait_until(lambda: len(state.account("a").orders) == 1, "the order at the emulator")
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = 'pmctl' AND datname = current_database()")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, out + err
    assert err.startswith("pmctl: error: ") and "Traceback" not in err
    assert fetch_rows(database_url, f"id = {row}")[0]["status"] == "closing"
    assert desk("check").exit_code == 0
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["exit_price"]) == ("closed", Decimal("4.0000"))
    assert len(state.account("a").orders) == 1
