"""The close protocol survives being killed at every step: one close at the broker, no short, and the
row closed at the real fill within two cycles of the crash."""

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from decimal import Decimal

import psycopg
import pytest

from helpers import fetch_rows, insert_row, wait_until

CALL = "GOOGL260220C00340000"


@dataclass(frozen=True)
class Stopped:
    """A position whose stop is hit, and where its close goes: an option's by order, a stock's by position."""

    row: int
    symbol: str
    path: str
    method: str
    exit_price: Decimal
    by_client_order_id: bool


@pytest.fixture(params=["option", "stock"])
def stopped(request, desk, state, database_url) -> Stopped:
    """The next check closes it: a long call through POST /v2/orders, a long stock through DELETE /v2/positions."""
    if request.param == "option":
        state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
        row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                         entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
        return Stopped(row, CALL, "/v2/orders", "POST", Decimal("4.0000"), True)
    state.set_position("a", "AMD", Decimal("100"), Decimal("150"))
    state.set_price("AMD", Decimal("140"))
    row = insert_row(database_url, ticker="AMD", quantity=100, entry_price=Decimal("150"), stop_loss=Decimal("145"))
    return Stopped(row, "AMD", "/v2/positions/AMD", "DELETE", Decimal("140.0000"), False)


def start_check(desk_env, database_url) -> subprocess.Popen:
    env = {**desk_env, "PMCTL_DATABASE_URL": database_url, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return subprocess.Popen([sys.executable, "-m", "pmctl", "check", "--account", "a"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def row_status(database_url, row_id) -> str:
    return fetch_rows(database_url, f"id = {row_id}")[0]["status"]


def waiting_on_a_lock(database_url) -> bool:
    """A pmctl process of this database is blocked behind another transaction's row lock."""
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND application_name = 'pmctl' AND wait_event_type = 'Lock'").fetchone()[0] > 0


def assert_closed_once(state, database_url, stopped: Stopped) -> None:
    orders = [o for o in state.account("a").orders if o.symbol == stopped.symbol]
    assert len(orders) == 1
    assert orders[0].side == "sell"
    if stopped.by_client_order_id:
        assert orders[0].client_order_id == f"pmctl-a-{stopped.row}-0"
    assert state.list_positions("a") == []
    [row] = fetch_rows(database_url, f"id = {stopped.row}")
    assert (row["status"], row["close_reason"], row["exit_price"]) == ("closed", "stop_loss", stopped.exit_price)
    assert row["close_order_id"] == str(orders[0].id)


@pytest.mark.slow
def test_killed_after_claiming_the_row_before_the_order_reached_the_broker(desk, desk_env, state, database_url,
                                                                         stopped):
    state.inject_fault(stopped.path, "hang", count=1, method=stopped.method, seconds=5)
    arrived = threading.Event()
    state.before_request(stopped.path, arrived.set, method=stopped.method)
    process = start_check(desk_env, database_url)
    wait_until(lambda: row_status(database_url, stopped.row) == "closing", "the row to be claimed")
    wait_until(arrived.is_set, f"the close to reach the emulator's {stopped.method} {stopped.path}")
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert [o for o in state.account("a").orders] == []
    assert desk("check").exit_code == 0
    assert_closed_once(state, database_url, stopped)


def test_the_broker_executed_but_the_answer_was_lost(desk, state, database_url, stopped):
    state.inject_fault(stopped.path, "lost_answer", count=1, method=stopped.method)
    first = desk("check")
    assert first.exit_code == 1
    assert "no clear answer" in first.stdout
    assert row_status(database_url, stopped.row) == "closing"
    assert desk("check").exit_code == 0
    assert_closed_once(state, database_url, stopped)


@pytest.mark.slow
def test_killed_after_the_broker_executed_before_the_answer_came_back(desk, desk_env, state, database_url, stopped):
    state.inject_fault(stopped.path, "slow_answer", count=1, method=stopped.method, seconds=3)
    process = start_check(desk_env, database_url)
    wait_until(lambda: len(state.account("a").orders) == 1, "the order at the emulator")
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert row_status(database_url, stopped.row) == "closing"
    assert desk("check").exit_code == 0
    assert_closed_once(state, database_url, stopped)


@pytest.mark.slow
def test_killed_after_the_answer_before_the_database_write(desk, desk_env, state, database_url, stopped):
    state.inject_fault(stopped.path, "slow_answer", count=1, method=stopped.method, seconds=1.5)
    process = start_check(desk_env, database_url)
    wait_until(lambda: row_status(database_url, stopped.row) == "closing", "the row to be claimed")
    with psycopg.connect(database_url) as blocker:
        blocker.execute("SELECT id FROM active_positions WHERE id = %s FOR UPDATE", (stopped.row,))
        wait_until(lambda: len(state.account("a").orders) == 1, "the order at the emulator")
        wait_until(lambda: waiting_on_a_lock(database_url), "pmctl to write the answer and wait on the row lock")
        process.send_signal(signal.SIGKILL)
        process.wait()
        blocker.rollback()
    [row] = fetch_rows(database_url, f"id = {stopped.row}")
    assert (row["status"], row["close_order_id"]) == ("closing", None)
    assert desk("check").exit_code == 0
    assert_closed_once(state, database_url, stopped)


def test_a_stock_close_whose_answer_was_lost_is_found_once_the_market_fills_it(desk, state, database_url):
    """Market closed: the DELETE's order waits, its answer is lost; later cycles find it working, then filled."""
    state.set_position("a", "AMD", Decimal("100"), Decimal("150"))
    state.set_price("AMD", Decimal("140"))
    row = insert_row(database_url, ticker="AMD", quantity=100, entry_price=Decimal("150"), stop_loss=Decimal("145"))
    state.inject_fault("/v2/positions/AMD", "lost_answer", count=1, method="DELETE")
    state.before_request("/v2/positions/AMD", lambda: state.set_market_open(False), method="DELETE")
    assert desk("check").exit_code == 1
    [order] = state.account("a").orders
    assert order.status == "accepted"
    assert desk("check").exit_code == 0
    assert (row_status(database_url, row), len(state.account("a").orders)) == ("closing", 1)
    state.set_market_open(True)
    assert desk("check").exit_code == 0
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["exit_price"], closed["close_order_id"]) == ("closed", Decimal("140.0000"),
                                                                                  str(order.id))
    assert state.list_positions("a") == [] and len(state.account("a").orders) == 1


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
