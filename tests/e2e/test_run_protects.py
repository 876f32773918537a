"""``pmctl run`` keeps a protected row's stop resting at the broker as the prices stream: rests it, moves it, cancels
it before its own close; and when the broker fills it, settles the row from the trade update at once."""

import time
from decimal import Decimal

import pytest

from helpers import fetch_events, fetch_rows, insert_row, wait_until
from watching import STOCK, wait_active

pytestmark = pytest.mark.slow


@pytest.fixture
def protected(tmp_path) -> dict[str, str]:
    path = tmp_path / "protect.toml"
    path.write_text("[defaults]\nprotect_at_broker = true\n")
    return {"PMCTL_POLICY_FILE": str(path)}


def resting(state, symbol=STOCK) -> list:
    return [order for order in state.account("a").orders if order.symbol == symbol and order.is_open]


def protection_changes(database_url) -> list[str]:
    return [e["event_data"]["change"] for e in fetch_events(database_url) if e["event_type"] == "protection"]


def test_run_rests_an_adopted_rows_stop_moves_it_as_the_price_streams_and_cancels_it_before_its_own_close(
        state, run_watcher, database_url, protected):
    state.set_price(STOCK, Decimal("100"))
    state.set_position("a", STOCK, Decimal(10), Decimal("100"))
    watcher = run_watcher("--resync", "3600", env={**protected, "PMCTL_TRAILING_STOP_PERCENT": "5",
                                                   "PMCTL_TAKE_PROFIT_PERCENT": "10"})
    wait_active(database_url, watcher, state)

    # Adopted by the first cycle and protected by the next one at once, with no print needed in between.
    wait_until(lambda: resting(state), "the adopted row's stop resting at the broker", timeout=5)
    [row] = fetch_rows(database_url)
    [first] = resting(state)
    assert (first.type, first.side, first.qty, first.stop_price, first.time_in_force, first.client_order_id) == (
        "stop", "sell", Decimal(10), Decimal(95), "gtc", f"pmctl-a-{row['id']}-stop-1")
    wait_until(lambda: fetch_rows(database_url)[0]["stop_order_id"] == str(first.id), "the stop recorded")

    # The trade update of the replace is held back: the watcher knows of it from the broker's answer alone.
    assert state.pause_streams(kind="trading", account="a") == 1
    mark = len(state.requests)
    moved = time.monotonic()
    state.set_price(STOCK, Decimal("105"))
    wait_until(lambda: first.status == "replaced", "the stop moved by replace", timeout=1)
    assert time.monotonic() - moved < 1
    [second] = resting(state)
    assert (second.stop_price, second.replaces, second.client_order_id) == (
        Decimal("99.75"), first.id, f"pmctl-a-{row['id']}-stop-2")
    wait_until(lambda: fetch_rows(database_url)[0]["stop_order_id"] == str(second.id), "the move recorded")
    state.set_price(STOCK, Decimal("105.10"))  # a print that moves the level less than a step leaves it resting
    time.sleep(1.5)
    assert resting(state) == [second]
    assert protection_changes(database_url) == ["armed", "moved"]
    assert [r.path for r in state.requests[mark:] if r.method == "DELETE"] == []  # the old one not taken for a second
    assert state.resume_streams(kind="trading", account="a") == 1

    crossed = time.monotonic()
    state.set_price(STOCK, Decimal("111"))
    wait_until(lambda: state.list_positions("a") == [], "the take-profit close at the broker", timeout=1)
    assert time.monotonic() - crossed < 1
    wait_until(lambda: fetch_rows(database_url)[0]["status"] == "closed", "the row closed")
    [closed] = fetch_rows(database_url)
    assert (closed["close_reason"], closed["exit_price"], closed["stop_order_id"]) == (
        "take_profit", Decimal("111.0000"), None)
    # Its stop moved once, then cancelled before the close went out: never two at once, never a sell beyond 10.
    assert [o.status for o in state.account("a").orders] == ["replaced", "canceled", "filled"]
    assert protection_changes(database_url) == ["armed", "moved", "cancelled"]
    assert watcher.process.poll() is None


def test_run_settles_a_protected_row_from_the_trade_update_when_the_broker_fills_its_resting_stop(
        state, run_watcher, database_url, protected):
    state.set_price(STOCK, Decimal("100"))
    state.set_position("a", STOCK, Decimal(10), Decimal("100"))
    row = insert_row(database_url, ticker=STOCK, quantity=10, entry_price=Decimal("100"), stop_loss=Decimal("95"))
    watcher = run_watcher("--resync", "3600", env=protected)
    wait_active(database_url, watcher, state)
    wait_until(lambda: resting(state), "the stop resting at the broker", timeout=5)
    [stop] = resting(state)
    wait_until(lambda: fetch_rows(database_url)[0]["stop_order_id"] == str(stop.id), "the stop recorded")
    # The quotes stream goes mute: only the broker's stop can act on the crossing, and only the trade update of
    # its fill can tell the watcher.
    assert state.pause_streams(kind="stocks", account="a") == 1
    mark = len(state.requests)

    crossed = time.monotonic()
    state.set_price(STOCK, Decimal("94"))
    assert stop.status == "filled" and state.list_positions("a") == []
    wait_until(lambda: fetch_rows(database_url)[0]["status"] == "closed", "the row settled", timeout=1)
    assert time.monotonic() - crossed < 1

    [closed] = fetch_rows(database_url)
    assert (closed["close_reason"], closed["exit_price"], closed["close_order_id"]) == (
        "stop_loss", Decimal("94.0000"), str(stop.id))
    [event] = [e["event_data"] for e in fetch_events(database_url) if e["event_type"] == "closed"]
    assert (event["closed_by"], event["reason"], event["evidence"]["client_order_id"]) == (
        "broker", "stop_loss", f"pmctl-a-{row}-stop-1")
    assert [o.id for o in state.account("a").orders] == [stop.id]  # pmctl sent no close of its own
    # Settled from the trade update alone: the watcher asked the broker nothing about the order or the position.
    assert [r.path for r in state.requests[mark:] if r.method == "GET"] == []
    assert watcher.process.poll() is None
