"""Protection at the broker survives being killed at every step: a kill while a protective order is placed, moved,
or cancelled for a take-profit close (between the claim and the cancel, the cancel and the close, the close and
its answer, a refused close and the re-arm) leaves a state the next ``check`` repairs: one protection or a closed
row, never two protections, never a sell beyond the position."""

import os
import signal
import subprocess
import sys
import threading
from decimal import Decimal

import pytest

from helpers import fetch_rows, insert_row, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def policy_env(desk_env, database_url, tmp_path) -> dict[str, str]:
    path = tmp_path / "protect.toml"
    path.write_text("[defaults]\nprotect_at_broker = true\n")
    return {**desk_env, "PMCTL_DATABASE_URL": database_url, "PMCTL_POLICY_FILE": str(path),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


@pytest.fixture
def check(desk, policy_env):
    def run(code: int = 0):
        result = desk("check", "--account", "a", env={"PMCTL_POLICY_FILE": policy_env["PMCTL_POLICY_FILE"]})
        assert result.exit_code == code, result.stdout + result.stderr
        return result

    return run


@pytest.fixture
def protected(check, state, database_url) -> int:
    """A long stock whose stop rests at the broker, the price at its target: the next check closes it."""
    state.set_position("a", "AMD", Decimal(100), Decimal(150))
    state.set_price("AMD", Decimal(148))
    row = insert_row(database_url, ticker="AMD", quantity=100, entry_price=Decimal(150), stop_loss=Decimal(145),
                     take_profit=Decimal(160))
    check()
    assert len(resting(state)) == 1
    return row


def resting(state):
    return [order for order in state.account("a").orders if order.symbol == "AMD" and order.is_open]


def killed_at(policy_env, state, path: str, method: str, carried_out=None) -> None:
    """Run ``check`` in a process and SIGKILL it once its request to ``path`` reaches the emulator: never served
    (``carried_out`` None), or carried out (``carried_out()`` true) with the answer held back."""
    arrived = threading.Event()
    state.before_request(path, arrived.set, method=method)
    state.inject_fault(path, "hang" if carried_out is None else "slow_answer", count=1, method=method, seconds=5)
    process = subprocess.Popen([sys.executable, "-m", "pmctl", "check", "--account", "a"], env=policy_env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(arrived.is_set, f"check's {method} {path} to reach the emulator")
    if carried_out is not None:
        wait_until(carried_out, f"the emulator to carry out {method} {path}")
    process.send_signal(signal.SIGKILL)
    process.wait()
    state.clear_faults()


def assert_one_protection_at_most(state) -> None:
    held = sum((p.qty for p in state.account("a").positions.values() if p.symbol == "AMD"), Decimal(0))
    sells = [o for o in resting(state) if o.side == "sell"]
    assert len(sells) <= 1
    assert sum((o.qty - o.filled_qty for o in sells), Decimal(0)) <= held


def assert_closed_once(state, database_url, row) -> None:
    closes = [o for o in state.account("a").orders if o.type == "market"]
    assert len(closes) == 1 and closes[0].status == "filled"
    assert state.list_positions("a") == [] and resting(state) == []
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["exit_price"]) == ("closed", "take_profit",
                                                                                Decimal("161.0000"))


def test_killed_between_the_claim_and_the_cancel_of_the_resting_stop(protected, policy_env, check, state,
                                                                     database_url):
    state.set_price("AMD", Decimal(161))
    killed_at(policy_env, state, "/v2/orders/*", "DELETE")
    assert fetch_rows(database_url, f"id = {protected}")[0]["status"] == "closing"
    assert len(resting(state)) == 1 and not [o for o in state.account("a").orders if o.type == "market"]
    check()
    assert_closed_once(state, database_url, protected)


def test_killed_between_the_cancel_and_the_close(protected, policy_env, check, state, database_url):
    state.set_price("AMD", Decimal(161))
    killed_at(policy_env, state, "/v2/positions/AMD", "DELETE")
    assert resting(state) == [] and state.list_positions("a") != []
    check()
    assert_closed_once(state, database_url, protected)


def test_killed_after_the_close_executed_before_its_answer(protected, policy_env, check, state, database_url):
    state.set_price("AMD", Decimal(161))
    killed_at(policy_env, state, "/v2/positions/AMD", "DELETE", lambda: not state.list_positions("a"))
    assert state.list_positions("a") == []
    check()
    assert_closed_once(state, database_url, protected)


def test_killed_between_a_refused_close_and_the_rearm(protected, policy_env, check, state, database_url):
    state.set_price("AMD", Decimal(161))
    state.inject_fault("/v2/positions/AMD", "error", count=1, method="DELETE", status=403,
                       message="trading is halted for AMD")
    killed_at(policy_env, state, "/v2/orders", "POST")
    assert resting(state) == [] and fetch_rows(database_url, f"id = {protected}")[0]["status"] == "open"
    check()
    [again] = resting(state)
    assert (again.client_order_id, again.qty, again.stop_price) == (f"pmctl-a-{protected}-stop-3", Decimal(100),
                                                                    Decimal(145))
    assert fetch_rows(database_url, f"id = {protected}")[0]["stop_order_id"] == str(again.id)
    assert_one_protection_at_most(state)


def test_killed_after_the_rearm_was_placed_before_its_answer(protected, policy_env, check, state, database_url):
    state.set_price("AMD", Decimal(161))
    state.inject_fault("/v2/positions/AMD", "error", count=1, method="DELETE", status=403,
                       message="trading is halted for AMD")
    killed_at(policy_env, state, "/v2/orders", "POST", lambda: resting(state))
    [placed] = resting(state)
    assert fetch_rows(database_url, f"id = {protected}")[0]["stop_order_id"] is None
    result = check()
    assert resting(state) == [placed] and f"record row {protected} AMD's protective order" in result.stdout
    assert fetch_rows(database_url, f"id = {protected}")[0]["stop_order_id"] == str(placed.id)


def test_killed_while_the_first_stop_is_placed(check, policy_env, state, database_url):
    state.set_position("a", "AMD", Decimal(100), Decimal(150))
    state.set_price("AMD", Decimal(148))
    row = insert_row(database_url, ticker="AMD", quantity=100, entry_price=Decimal(150), stop_loss=Decimal(145))
    killed_at(policy_env, state, "/v2/orders", "POST", lambda: resting(state))
    [placed] = resting(state)
    check()
    check()
    assert resting(state) == [placed] and len(state.account("a").orders) == 1
    assert fetch_rows(database_url, f"id = {row}")[0]["stop_order_id"] == str(placed.id)


def test_killed_while_a_trailing_stop_is_moved(check, policy_env, state, database_url):
    state.set_position("a", "AMD", Decimal(100), Decimal(100))
    state.set_price("AMD", Decimal(100))
    row = insert_row(database_url, ticker="AMD", quantity=100, entry_price=Decimal(100),
                     trailing_stop_percent=Decimal(5))
    check()
    [first] = resting(state)
    state.set_price("AMD", Decimal(110))
    killed_at(policy_env, state, "/v2/orders/*", "PATCH", lambda: first.status == "replaced")
    [moved] = resting(state)
    assert (first.status, moved.stop_price) == ("replaced", Decimal("104.50"))
    check()
    assert resting(state) == [moved]
    assert fetch_rows(database_url, f"id = {row}")[0]["stop_order_id"] == str(moved.id)
    state.set_price("AMD", Decimal(104))
    check()
    assert fetch_rows(database_url, f"id = {row}")[0]["close_reason"] == "trailing_stop"
