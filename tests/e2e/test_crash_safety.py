"""The close protocol survives being killed at every step: one close at the broker, no short, and the
row closed at the real fill within two cycles of the crash."""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import psycopg
import pytest

from helpers import fetch_rows, insert_row

CALL = "GOOGL260220C00340000"


@pytest.fixture
def stopped_call(desk, state, database_url):
    """A long call whose stop is hit: the next check closes it."""
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    return insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                      entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))


def start_check(desk_env, database_url) -> subprocess.Popen:
    env = {**desk_env, "PMCTL_DATABASE_URL": database_url, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return subprocess.Popen([sys.executable, "-m", "pmctl", "check", "--account", "a"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def row_status(database_url, row_id) -> str:
    return fetch_rows(database_url, f"id = {row_id}")[0]["status"]


def assert_closed_once(state, database_url, row_id) -> None:
    orders = [o for o in state.account("a").orders if o.symbol == CALL]
    assert len(orders) == 1
    assert orders[0].client_order_id == f"pmctl-a-{row_id}-0"
    assert state.list_positions("a") == []
    [row] = fetch_rows(database_url, f"id = {row_id}")
    assert (row["status"], row["close_reason"], row["exit_price"]) == ("closed", "stop_loss", Decimal("4.0000"))
    assert row["close_order_id"] == str(orders[0].id)


def test_killed_after_claiming_the_row_before_the_order_reached_the_broker(desk, desk_env, state, database_url,
                                                                         stopped_call):
    state.inject_fault("/v2/orders", "hang", count=1, method="POST", seconds=5)
    process = start_check(desk_env, database_url)
    wait_for(lambda: row_status(database_url, stopped_call) == "closing")
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert [o for o in state.account("a").orders] == []
    assert desk("check").exit_code == 0
    assert_closed_once(state, database_url, stopped_call)


def test_the_broker_executed_but_the_answer_was_lost(desk, state, database_url, stopped_call):
    state.inject_fault("/v2/orders", "lost_answer", count=1, method="POST")
    first = desk("check")
    assert first.exit_code == 1
    assert "no clear answer" in first.stdout
    assert row_status(database_url, stopped_call) == "closing"
    assert desk("check").exit_code == 0
    assert_closed_once(state, database_url, stopped_call)


def test_killed_after_the_broker_executed_before_the_answer_came_back(desk, desk_env, state, database_url,
                                                                     stopped_call):
    state.inject_fault("/v2/orders", "slow_answer", count=1, method="POST", seconds=3)
    process = start_check(desk_env, database_url)
    wait_for(lambda: len(state.account("a").orders) == 1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert row_status(database_url, stopped_call) == "closing"
    assert desk("check").exit_code == 0
    assert_closed_once(state, database_url, stopped_call)


def test_killed_after_the_answer_before_the_database_write(desk, desk_env, state, database_url, stopped_call):
    state.inject_fault("/v2/orders", "slow_answer", count=1, method="POST", seconds=1.5)
    process = start_check(desk_env, database_url)
    wait_for(lambda: row_status(database_url, stopped_call) == "closing")
    with psycopg.connect(database_url) as blocker:
        blocker.execute("SELECT id FROM active_positions WHERE id = %s FOR UPDATE", (stopped_call,))
        wait_for(lambda: len(state.account("a").orders) == 1)
        time.sleep(2.0)
        process.send_signal(signal.SIGKILL)
        process.wait()
        blocker.rollback()
    [row] = fetch_rows(database_url, f"id = {stopped_call}")
    assert (row["status"], row["close_order_id"]) == ("closing", None)
    assert desk("check").exit_code == 0
    assert_closed_once(state, database_url, stopped_call)


def test_one_failing_position_does_not_stop_the_others(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    state.set_price("SPY", Decimal("600"))
    first = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                       entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
    second = insert_row(database_url, ticker="SPY", quantity=20, entry_price=Decimal("690"), stop_loss=Decimal("650"))
    state.inject_fault("/v2/orders", "error", count=1, method="POST", status=403,
                       message="insufficient qty available for order (requested: 10, available: 0)")
    result = desk("check")
    assert result.exit_code == 1
    assert row_status(database_url, first) == "open"
    assert row_status(database_url, second) == "closed"
