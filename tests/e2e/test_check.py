"""``pmctl check`` end to end: the emulator over HTTP, real PostgreSQL, the CLI."""

import json
from datetime import timedelta
from decimal import Decimal


from helpers import NOON, fetch_events, fetch_rows, insert_row

CALL = "GOOGL260220C00340000"


def orders_sent(state, account="a"):
    return [o for o in state.account(account).orders]


def test_a_stop_on_a_call_closes_the_contract_and_leaves_the_underlying_untouched(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_position("a", "GOOGL", Decimal("50"), Decimal("330"))
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"), strike_price=340,
                     expiration_date="2026-02-20")
    insert_row(database_url, ticker="GOOGL", quantity=50, entry_price=Decimal("330"))

    result = desk("check", "--account", "a")

    assert result.exit_code == 0, result.stdout + result.stderr
    [order] = orders_sent(state)
    assert (order.symbol, order.side, order.qty, order.position_intent) == (CALL, "sell", Decimal("10"), "sell_to_close")
    assert order.client_order_id == f"pmctl-a-{row}-0"
    positions = {p.symbol: p.qty for p in state.list_positions("a")}
    assert positions == {"GOOGL": Decimal("50")}
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["exit_price"]) == ("closed", "stop_loss", Decimal("4.0000"))
    kinds = [e["event_type"] for e in fetch_events(database_url) if e["position_id"] == row]
    assert kinds == ["exit_triggered", "order_submitted", "closed"]
    assert "close row 1 for stop_loss: sell 10 GOOGL260220C00340000 (sell_to_close)" in result.stdout


def test_take_profit_on_a_short_stock_buys_it_back(desk, state, database_url):
    state.set_position("a", "AMD", Decimal("-100"), Decimal("150"))
    state.set_price("AMD", Decimal("139"))
    row = insert_row(database_url, ticker="AMD", side="short", quantity=100, entry_price=Decimal("150"),
                     stop_loss=Decimal("160"), take_profit=Decimal("140"))
    assert desk("check").exit_code == 0
    [order] = orders_sent(state)
    assert (order.symbol, order.side, order.qty, order.position_intent) == ("AMD", "buy", Decimal("100"), None)
    assert state.list_positions("a") == []
    assert fetch_rows(database_url, f"id = {row}")[0]["close_reason"] == "take_profit"


def test_a_short_stock_stop_fires_at_or_above_the_stop(desk, state, database_url):
    state.set_position("a", "AMD", Decimal("-100"), Decimal("150"))
    state.set_price("AMD", Decimal("160"))
    row = insert_row(database_url, ticker="AMD", side="short", quantity=100, entry_price=Decimal("150"),
                     stop_loss=Decimal("160"))
    assert desk("check").exit_code == 0
    assert orders_sent(state)[0].side == "buy"
    assert fetch_rows(database_url, f"id = {row}")[0]["close_reason"] == "stop_loss"


def test_trailing_stop_follows_the_peak_across_cycles(desk, state, database_url):
    state.set_position("a", "NVDA", Decimal("20"), Decimal("100"))
    row = insert_row(database_url, ticker="NVDA", quantity=20, entry_price=Decimal("100"))
    env = {"PMCTL_TRAILING_STOP_PERCENT": "10"}
    for price in ("100", "120", "112"):
        state.set_price("NVDA", Decimal(price))
        assert desk("check", env=env).exit_code == 0
    [tracked] = fetch_rows(database_url, f"id = {row}")
    assert tracked["peak_price"] == Decimal("120.0000")
    assert tracked["trailing_stop_price"] == Decimal("108.0000")
    assert tracked["status"] == "open"
    state.set_price("NVDA", Decimal("107.99"))
    assert desk("check", env=env).exit_code == 0
    assert fetch_rows(database_url, f"id = {row}")[0]["close_reason"] == "trailing_stop"
    assert orders_sent(state)[0].qty == Decimal("20")


def test_day_trade_closes_five_minutes_before_the_brokers_close(desk, state, database_url):
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    state.set_price("SPY", Decimal("689"))
    row = insert_row(database_url, ticker="SPY", strategy_type="day_trade", quantity=20, entry_price=Decimal("690"))
    close = NOON.replace(hour=21)
    state.set_clock(timestamp=close - timedelta(minutes=6), next_close=close, frozen=True)
    assert desk("check").exit_code == 0
    assert orders_sent(state) == []
    state.set_clock(timestamp=close - timedelta(minutes=5), next_close=close, frozen=True)
    assert desk("check").exit_code == 0
    assert fetch_rows(database_url, f"id = {row}")[0]["close_reason"] == "day_trade_close"


def test_max_hold_time(desk, state, database_url):
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    state.set_price("SPY", Decimal("689"))
    row = insert_row(database_url, ticker="SPY", quantity=20, entry_price=Decimal("690"),
                     entry_time=NOON - timedelta(minutes=90), max_hold_minutes=90)
    assert desk("check").exit_code == 0
    assert fetch_rows(database_url, f"id = {row}")[0]["close_reason"] == "max_hold_time"


def test_an_option_expiring_tomorrow_is_closed_today(desk, state, database_url):
    symbol = "QCOM260204P00145000"
    state.set_position("a", symbol, Decimal("5"), Decimal("3.10"))
    state.set_price(symbol, Decimal("3.00"))
    row = insert_row(database_url, ticker="QCOM", option_symbol=symbol, instrument_type="PUT", quantity=5,
                     entry_price=Decimal("3.10"), strike_price=145, expiration_date="2026-02-04")
    assert desk("check").exit_code == 0
    [order] = orders_sent(state)
    assert (order.symbol, order.side, order.position_intent) == (symbol, "sell", "sell_to_close")
    assert fetch_rows(database_url, f"id = {row}")[0]["close_reason"] == "expiration_risk"


def test_when_several_rules_fire_one_close_is_sent_for_the_first(desk, state, database_url):
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    state.set_price("SPY", Decimal("600"))
    row = insert_row(database_url, ticker="SPY", strategy_type="day_trade", quantity=20, entry_price=Decimal("690"),
                     stop_loss=Decimal("650"), entry_time=NOON - timedelta(days=1), max_hold_minutes=60)
    assert desk("check").exit_code == 0
    assert len(orders_sent(state)) == 1
    assert fetch_rows(database_url, f"id = {row}")[0]["close_reason"] == "stop_loss"


def test_with_the_market_closed_nothing_is_sent_and_rows_stay_open(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_market_open(False)
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
    dry = desk("check", "--dry-run")
    assert dry.exit_code == 0
    assert "deferred: market closed" in dry.stdout
    result = desk("check")
    assert result.exit_code == 0
    assert "deferred: market closed" in result.stdout
    assert orders_sent(state) == []
    assert fetch_rows(database_url, f"id = {row}")[0]["status"] == "open"


def test_dry_run_changes_nothing_and_exits_3(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_position("a", "META", Decimal("15"), Decimal("705"))
    state.set_price("META", Decimal("712.30"))
    insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
               entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
    before = (fetch_rows(database_url), fetch_events(database_url))

    result = desk("check", "--dry-run")

    assert result.exit_code == 3
    assert "would close row 1 for stop_loss: sell 10 GOOGL260220C00340000" in result.stdout
    assert "would adopt META: long 15 at 705" in result.stdout
    assert (fetch_rows(database_url), fetch_events(database_url)) == before
    assert orders_sent(state) == []


def test_a_quiet_book_dry_runs_to_exit_0_and_many_cycles_add_no_rows(desk, state, database_url):
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    state.set_price("SPY", Decimal("689"))
    assert desk("check").exit_code == 0
    rows = fetch_rows(database_url)
    assert [r["symbol"] for r in rows] == ["SPY"]
    for _ in range(5):
        assert desk("check").exit_code == 0
    assert len(fetch_rows(database_url)) == 1
    assert desk("check", "--dry-run").exit_code == 0
    assert fetch_rows(database_url)[0]["check_count"] == 5


def test_an_unexpected_short_is_tracked_alerted_once_per_cooldown_and_never_covered(desk, state, database_url):
    state.set_position("a", "ORCL", Decimal("-12"), Decimal("160.25"))
    state.set_price("ORCL", Decimal("100"))
    for _ in range(3):
        result = desk("check", env={"PMCTL_STOP_LOSS_PERCENT": "5"})
        assert result.exit_code == 0
        assert "ALERT critical unexpected_short" in result.stdout
    [row] = fetch_rows(database_url)
    assert (row["symbol"], row["side"], row["tracked_as"], row["status"]) == ("ORCL", "short", "unexpected_short", "open")
    assert row["strategy_type"] == "swing_trade"
    assert row["stop_loss"] is None
    assert [e["event_type"] for e in fetch_events(database_url)] == ["adopted", "unexpected_short"]
    assert orders_sent(state) == []


def test_a_close_refused_by_the_broker_is_an_order_failed_event_and_backs_off(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
    state.inject_fault("/v2/orders", "error", count=1, method="POST", status=403,
                       message="options market orders are only allowed during market hours")
    failed = desk("check")
    assert failed.exit_code == 1
    assert "FAILED" in failed.stdout
    [tracked] = fetch_rows(database_url, f"id = {row}")
    assert (tracked["status"], tracked["close_attempts"]) == ("open", 1)
    assert desk("check").exit_code == 0
    assert len([o for o in orders_sent(state)]) == 0
    state.set_clock(timestamp=NOON + timedelta(minutes=2))
    assert desk("check").exit_code == 0
    [order] = orders_sent(state)
    assert order.client_order_id == f"pmctl-a-{row}-1"
    kinds = [e["event_type"] for e in fetch_events(database_url)]
    assert kinds.count("order_failed") == 1


def test_a_row_whose_position_is_gone_is_left_for_reconcile_and_no_order_is_sent(desk, state, database_url):
    row = insert_row(database_url, ticker="QCOM", quantity=5, entry_price=Decimal("150.20"), stop_loss=Decimal("200"))
    for _ in range(3):
        assert desk("check").exit_code == 0
    assert orders_sent(state) == []
    assert fetch_rows(database_url, f"id = {row}")[0]["status"] == "open"
    assert len(fetch_rows(database_url)) == 1


def test_a_protective_order_that_disappeared_is_alerted_once_and_the_rules_keep_protecting(desk, state, database_url):
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    state.set_price("SPY", Decimal("689"))
    row = insert_row(database_url, ticker="SPY", quantity=20, entry_price=Decimal("690"), stop_loss=Decimal("650"),
                     stop_order_id="stop-order-gone", bracket_order_accepted=True)
    result = desk("check", "-a", "a")
    assert result.exit_code == 0
    assert "brackets_missing" in result.stdout
    [tracked] = fetch_rows(database_url, f"id = {row}")
    assert (tracked["status"], tracked["stop_order_id"]) == ("open", None)
    assert [e["event_type"] for e in fetch_events(database_url)] == ["brackets_missing"]
    assert orders_sent(state) == []
    state.set_price("SPY", Decimal("640"))
    assert desk("check", "-a", "a").exit_code == 0
    assert fetch_rows(database_url, f"id = {row}")[0]["close_reason"] == "stop_loss"


def test_an_option_gone_to_zero_hits_its_stop_and_closes_at_zero(desk, state, database_url, tmp_path):
    """Issue 11, item 15: the emulator takes a price of 0 and fills a market close there (see pmctl/sim/README.md).
    Only where the profile judges the last trade and closes at market: on the default bid, a zero bid triggers
    nothing (issue 14; tests/e2e/test_quotes_and_walks.py)."""
    policy = tmp_path / "pmctl.toml"
    policy.write_text('[defaults.option]\ntrigger = "last"\nclose_order = "market"\n')
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"), expiration_date="2026-02-20",
                     entry_time=NOON - timedelta(hours=1))
    state.clear_quote(CALL)
    state.set_price(CALL, Decimal("0"))

    result = desk("check", "--account", "a", env={"PMCTL_POLICY_FILE": str(policy)})

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "(price 0.00 at or below stop 4.16: set on the row) -> filled 10 at 0: closed" in result.stdout
    [order] = orders_sent(state)
    assert (order.position_intent, order.filled_avg_price) == ("sell_to_close", Decimal("0"))
    assert state.list_positions("a") == []
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["exit_price"], closed["current_pnl_dollars"]) == (
        "closed", Decimal("0.0000"), Decimal("-5200.0000"))
    report = json.loads(desk("report", "--date", "2026-02-03", "--format", "json",
                             env={"PMCTL_POLICY_FILE": str(policy)}).stdout)
    assert [(r["reason"], r["realized"]) for r in report["by_reason"]] == [("stop_loss", "-5200.0000")]
