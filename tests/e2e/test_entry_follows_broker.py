"""A row follows the broker's position through the CLI: added to, partly sold, closed and opened again."""

import json
from datetime import timedelta
from decimal import Decimal

from helpers import NOON, fetch_events, fetch_rows, insert_row

STOP_2_PERCENT = {"PMCTL_STOP_LOSS_PERCENT": "2"}


def at(state, minutes: int) -> None:
    state.set_clock(timestamp=NOON + timedelta(minutes=minutes), frozen=True)


def buy_by_hand(state, symbol: str, qty: str, price: str) -> None:
    state.set_price(symbol, Decimal(price))
    state.submit_order("a", symbol, Decimal(qty), "buy")


def sell_by_hand(state, symbol: str, qty: str, price: str) -> None:
    state.set_price(symbol, Decimal(price))
    state.submit_order("a", symbol, Decimal(qty), "sell")


def status_of(desk, row_id: int) -> dict:
    result = desk("status", "--account", "a", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return next(line for line in json.loads(result.stdout)["positions"] if line["id"] == row_id)


def orders_sent_by_pmctl(state) -> list:
    return [order for order in state.account("a").orders if order.client_order_id.startswith("pmctl-")]


def test_averaging_in_shows_the_brokers_entry_and_gain_and_a_percent_stop_from_the_old_entry_does_not_fire(
        desk, state, database_url):
    state.set_position("a", "SPY", Decimal(50), Decimal(400))
    state.set_price("SPY", Decimal(399))
    assert desk("check", "--account", "a", env=STOP_2_PERCENT).exit_code == 0
    [adopted] = fetch_rows(database_url)
    assert (adopted["entry_price"], adopted["stop_loss"], adopted["plan_source"], adopted["tracked_as"]) == (
        Decimal("400.0000"), Decimal("392.0000"), "policy", "adopted")

    at(state, 5)
    buy_by_hand(state, "SPY", "50", "370")
    state.set_price("SPY", Decimal(390))
    dry = desk("check", "--account", "a", "--dry-run", env=STOP_2_PERCENT)
    assert dry.exit_code == 3
    assert f"would change row {adopted['id']} SPY entry 400 -> 385" in dry.stdout
    result = desk("check", "--account", "a", env=STOP_2_PERCENT)

    assert result.exit_code == 0, result.stdout + result.stderr
    assert orders_sent_by_pmctl(state) == []
    [row] = fetch_rows(database_url)
    assert (row["quantity"], row["entry_price"], row["stop_loss"], row["status"]) == (
        Decimal("100.0000"), Decimal("385.0000"), Decimal("377.3000"), "open")
    line = status_of(desk, row["id"])
    assert (line["quantity"], line["entry_price"], line["pnl_dollars"], line["broker"]) == (
        "100.0000", "385.0000", "500.0000", "agrees")
    [event] = [e for e in fetch_events(database_url) if e["event_type"] == "entry_changed"]
    assert (event["event_data"]["old"], event["event_data"]["new"]) == ("400.0000", "385.0000")
    assert (event["event_data"]["previous_stop_loss"], event["event_data"]["stop_loss"]) == ("392.0000", "377.3000")


def test_an_explicit_stop_stays_when_the_entry_follows(desk, state, database_url):
    state.set_position("a", "SPY", Decimal(50), Decimal(400))
    row_id = insert_row(database_url, ticker="SPY", quantity=50, entry_price=Decimal(400), stop_loss=Decimal(350),
                        take_profit=Decimal(450))
    buy_by_hand(state, "SPY", "50", "370")
    state.set_price("SPY", Decimal(390))

    assert desk("check", "--account", "a", env=STOP_2_PERCENT).exit_code == 0

    [row] = fetch_rows(database_url, f"id = {row_id}")
    assert (row["quantity"], row["entry_price"], row["stop_loss"], row["take_profit"]) == (
        Decimal("100.0000"), Decimal("385.0000"), Decimal("350.0000"), Decimal("450.0000"))


def test_a_partial_sale_keeps_the_entry(desk, state, database_url):
    state.set_position("a", "SPY", Decimal(100), Decimal(385))
    row_id = insert_row(database_url, ticker="SPY", quantity=100, entry_price=Decimal(385))
    assert desk("check", "--account", "a").exit_code == 0
    at(state, 5)
    sell_by_hand(state, "SPY", "40", "391")

    assert desk("check", "--account", "a").exit_code == 0

    [row] = fetch_rows(database_url, f"id = {row_id}")
    assert (row["quantity"], row["entry_price"], row["status"]) == (Decimal("60.0000"), Decimal("385.0000"), "open")


def test_a_long_closed_and_opened_again_between_cycles_is_closed_at_the_real_fill(desk, state, database_url):
    state.set_position("a", "SPY", Decimal(50), Decimal(400))
    old = insert_row(database_url, ticker="SPY", quantity=50, entry_price=Decimal(400), stop_loss=Decimal(380))
    state.set_price("SPY", Decimal(402))
    assert desk("check", "--account", "a").exit_code == 0
    at(state, 1)
    hand_close = state.close_by_hand("a", "SPY", price=Decimal(410))
    at(state, 2)
    buy_by_hand(state, "SPY", "30", "405")
    at(state, 3)

    result = desk("check", "--account", "a")

    assert result.exit_code == 0, result.stdout + result.stderr
    [closed] = fetch_rows(database_url, f"id = {old}")
    assert (closed["status"], closed["close_reason"], closed["exit_price"], closed["exit_time"],
            closed["close_order_id"]) == ("closed", "closed_at_broker", Decimal("410.0000"),
                                          NOON + timedelta(minutes=1), str(hand_close.id))
    [new] = fetch_rows(database_url, "status = 'open'")
    assert (new["quantity"], new["entry_price"], new["tracked_as"], new["entry_time"]) == (
        Decimal("30.0000"), Decimal("405.0000"), "adopted", (NOON + timedelta(minutes=2)).replace(tzinfo=None))
    assert orders_sent_by_pmctl(state) == []
    report = json.loads(desk("report", "--date", "2026-02-03", "--account", "a", "--format", "json").stdout)
    assert report["realized_pnl"] == "500.0000"
    assert desk("check", "--account", "a", "--dry-run").exit_code == 0


def test_a_short_covered_and_shorted_again_between_cycles_is_a_new_row_not_a_quarantine(desk, state, database_url):
    state.set_position("a", "TSLA", Decimal(-20), Decimal(150))
    old = insert_row(database_url, ticker="TSLA", side="short", quantity=20, entry_price=Decimal(150))
    state.set_price("TSLA", Decimal(149))
    assert desk("check", "--account", "a").exit_code == 0
    at(state, 1)
    state.close_by_hand("a", "TSLA", price=Decimal(140))
    at(state, 2)
    sell_by_hand(state, "TSLA", "25", "145")
    at(state, 3)

    reconcile = desk("reconcile", "--account", "a", "--dry-run")
    assert reconcile.exit_code == 3
    assert f"reopened: would mark row {old} TSLA closed (closed_at_broker), exit price 140" in reconcile.stdout
    result = desk("check", "--account", "a")

    assert result.exit_code == 0, result.stdout + result.stderr
    [closed] = fetch_rows(database_url, f"id = {old}")
    assert (closed["status"], closed["exit_price"]) == ("closed", Decimal("140.0000"))
    [new] = fetch_rows(database_url, "status = 'open'")
    assert (new["side"], new["quantity"], new["entry_price"], new["tracked_as"]) == (
        "short", Decimal("25.0000"), Decimal("145.0000"), "adopted")
    assert "unexpected_short" not in result.stdout
    report = json.loads(desk("report", "--date", "2026-02-03", "--account", "a", "--format", "json").stdout)
    assert report["realized_pnl"] == "200.0000"


def test_a_steady_cycle_reads_no_fills_and_a_drifted_one_reads_them_once(desk, state, database_url):
    for n in range(3):
        state.set_position("a", f"S{n}", Decimal(10), Decimal(50))
        state.set_price(f"S{n}", Decimal(51))
    assert desk("check", "--account", "a").exit_code == 0
    state.reset_requests()
    assert desk("check", "--account", "a").exit_code == 0
    assert not [r for r in state.requests if "activities" in r.path]

    for n in range(3):
        buy_by_hand(state, f"S{n}", "5", "53")
    state.reset_requests()
    assert desk("check", "--account", "a").exit_code == 0
    assert len([r for r in state.requests if "activities" in r.path]) == 1
    assert {row["entry_price"] for row in fetch_rows(database_url)} == {Decimal("51.0000")}


def test_levels_an_operator_edited_stay_when_the_entry_follows(desk, state, database_url):
    state.set_position("a", "SPY", Decimal(50), Decimal(400))
    state.set_price("SPY", Decimal(399))
    assert desk("check", "--account", "a", env=STOP_2_PERCENT).exit_code == 0
    [adopted] = fetch_rows(database_url)
    edited = desk("edit", str(adopted["id"]), "--stop-loss", "360", "--take-profit", "450")
    assert edited.exit_code == 0, edited.stderr
    buy_by_hand(state, "SPY", "50", "370")

    assert desk("check", "--account", "a", env=STOP_2_PERCENT).exit_code == 0

    [row] = fetch_rows(database_url)
    assert (row["entry_price"], row["stop_loss"], row["take_profit"], row["plan_source"]) == (
        Decimal("385.0000"), Decimal("360.0000"), Decimal("450.0000"), "operator")
