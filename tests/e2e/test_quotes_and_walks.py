"""Issue 14 end to end: exits judged on the quote, bad quotes alerted instead of acted on, option closes as
tick-valid limits walked toward the slippage bound, the expiration-day deadline, and stocks at market.

The call's last trade (Alpaca's ``current_price``) and its quote are set apart on purpose: the rules must follow
the quote. The GOOGL call is in the penny program, so from $3.00 its limits move in $0.05.
"""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from helpers import NOON, fetch_events, fetch_rows, insert_row, later

CALL = "GOOGL260220C00340000"
UTC = timezone.utc
EXPIRY_DAY = datetime(2026, 2, 20, 19, 58, tzinfo=UTC)  # 14:58 in New York on the call's expiration day


def call_row(database_url, state, **fields) -> int:
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    values = dict(ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                  entry_price=Decimal("5.20"), strike_price=340, expiration_date="2026-02-20",
                  entry_time=NOON - timedelta(hours=1))
    return insert_row(database_url, **{**values, **fields})


def orders(state, symbol=CALL):
    return [order for order in state.account("a").orders if order.symbol == symbol]


def events_of(database_url, row, kind):
    return [event for event in fetch_events(database_url) if event["position_id"] == row and event["event_type"] == kind]


def test_an_option_stop_fires_on_the_bid_while_its_last_trade_is_still_above_the_stop(desk, state, database_url):
    row = call_row(database_url, state, stop_loss=Decimal("4.16"))
    state.set_price(CALL, Decimal("4.50"))
    state.set_quote(CALL, Decimal("4.10"), Decimal("4.60"))

    result = desk("check", "--account", "a")

    assert result.exit_code == 0, result.stdout + result.stderr
    [order] = orders(state)
    assert (order.type, order.limit_price, order.time_in_force, order.position_intent) == (
        "limit", Decimal("4.10"), "day", "sell_to_close")
    assert (order.status, order.filled_avg_price) == ("filled", Decimal("4.10"))
    assert ("(price 4.10 at or below stop 4.16: set on the row; limit 4.10, walking to 3.70 in 3 step(s) "
            "(10% from bid 4.10)) -> filled 10 at 4.1: closed") in result.stdout
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["exit_price"]) == ("closed", "stop_loss", Decimal("4.1"))
    assert (closed["close_trigger_price"], closed["close_trigger_source"]) == (Decimal("4.1"), "bid")


def test_on_its_last_trade_alone_the_same_stop_would_not_have_fired(desk, state, database_url):
    """The converse, so the test above cannot pass by accident: a bid above the stop holds, whatever the print."""
    row = call_row(database_url, state, stop_loss=Decimal("4.16"))
    state.set_price(CALL, Decimal("3.00"))
    state.set_quote(CALL, Decimal("4.20"), Decimal("4.40"))
    assert desk("check", "--account", "a").exit_code == 0
    assert orders(state) == []
    [held] = fetch_rows(database_url, f"id = {row}")
    assert (held["status"], held["current_price"], held["price_source"]) == ("open", Decimal("4.2"), "bid")


def test_a_stale_or_empty_quote_triggers_no_stop_and_alerts_once_within_the_cooldown(desk, state, database_url):
    row = call_row(database_url, state, stop_loss=Decimal("4.16"))
    state.set_price(CALL, Decimal("3.00"))
    state.set_quote(CALL, Decimal("3.00"), Decimal("3.20"), age_seconds=600)

    first = desk("check", "--account", "a")
    second = desk("check", "--account", "a")

    assert first.exit_code == second.exit_code == 0
    assert orders(state) == []
    assert fetch_rows(database_url, f"id = {row}")[0]["status"] == "open"
    assert ("ALERT warning quote_unusable on row 1 GOOGL260220C00340000: row 1 GOOGL260220C00340000: no price rule "
            "acts this cycle: stale: quote 3.00 x 3.20 is 600 s old, over the 120 s max_quote_age_seconds from the "
            "built-in default -> recorded") in first.stdout
    assert "quote_unusable" in second.stdout and "already alerted within the cooldown" in second.stdout
    assert len(events_of(database_url, row, "quote_unusable")) == 1

    state.set_clock(timestamp=NOON + timedelta(hours=2))
    state.set_quote(CALL, Decimal("0"), Decimal("0.05"))
    assert desk("check", "--account", "a").exit_code == 0
    assert orders(state) == []
    [alert] = [e for e in events_of(database_url, row, "quote_unusable") if "zero_bid" in e["event_data"]["why"]]
    assert "has no bid: nobody to sell to" in alert["event_data"]["why"]


def test_a_time_based_exit_still_goes_out_on_a_stale_quote(desk, state, database_url):
    row = call_row(database_url, state, max_hold_minutes=30)
    state.set_price(CALL, Decimal("4.00"))
    state.set_quote(CALL, Decimal("4.00"), Decimal("4.20"), age_seconds=3600)

    result = desk("check", "--account", "a")

    assert result.exit_code == 0, result.stdout + result.stderr
    [order] = orders(state)
    assert (order.type, order.limit_price, order.status) == ("limit", Decimal("4.00"), "filled")
    assert fetch_rows(database_url, f"id = {row}")[0]["close_reason"] == "max_hold_time"
    assert "quote_unusable" in result.stdout


def test_an_unfilled_limit_walks_by_patch_to_a_fill_within_the_slippage_bound(desk, state, database_url):
    row = call_row(database_url, state, stop_loss=Decimal("4.16"))
    state.set_price(CALL, Decimal("4.50"))
    state.set_quote(CALL, Decimal("4.10"), Decimal("4.60"))
    state.before_request("/v2/orders", lambda: state.set_quote(CALL, Decimal("3.60"), Decimal("4.40")), method="POST")

    assert desk("check", "--account", "a").exit_code == 0
    [first] = orders(state)
    assert (first.limit_price, first.status, first.client_order_id) == (Decimal("4.10"), "new", "pmctl-a-1-0")
    assert fetch_rows(database_url, f"id = {row}")[0]["status"] == "closing"

    assert desk("check", "--account", "a").exit_code == 0
    assert len(orders(state)) == 1, "a limit is re-priced only once it has worked the walk's interval"
    later(state)
    walked = desk("check", "--account", "a")
    assert walked.exit_code == 0, walked.stdout + walked.stderr
    assert (f"walk row {row} {CALL}: replace order {first.id} with a limit of 3.70 as pmctl-a-1-0-w1 (limit 4.10 "
            "unfilled: step 1 of 3 to 3.70, toward the bound 3.70 (10% from the trigger 4.10))") in walked.stdout
    first, second = orders(state)
    assert (first.status, second.client_order_id, second.limit_price, second.status) == (
        "replaced", "pmctl-a-1-0-w1", Decimal("3.70"), "new")

    later(state)
    assert desk("check", "--account", "a").exit_code == 0
    assert len(orders(state)) == 2, "at its bound the walk waits for a fill or a deadline"

    state.set_quote(CALL, Decimal("3.75"), Decimal("4.20"))
    assert second.status == "filled" and second.filled_avg_price == Decimal("3.75")
    assert desk("check", "--account", "a").exit_code == 0
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["exit_price"]) == ("closed", Decimal("3.75"))
    assert closed["exit_price"] >= closed["close_trigger_price"] * Decimal("0.9")
    assert [e["event_type"] for e in fetch_events(database_url) if e["position_id"] == row] == [
        "exit_triggered", "order_submitted", "order_replaced", "closed"]


def test_with_no_usable_quote_the_walk_takes_its_equal_steps(desk, state, database_url):
    call_row(database_url, state, stop_loss=Decimal("4.16"))
    state.set_price(CALL, Decimal("4.50"))
    state.set_quote(CALL, Decimal("4.10"), Decimal("4.60"))
    state.before_request("/v2/orders", lambda: state.set_quote(CALL, Decimal("3.00"), Decimal("4.40"),
                                                               age_seconds=3600), method="POST")
    assert desk("check", "--account", "a").exit_code == 0
    for _ in range(4):
        later(state)
        assert desk("check", "--account", "a").exit_code == 0
    assert [(order.client_order_id, order.limit_price) for order in orders(state)] == [
        ("pmctl-a-1-0", Decimal("4.10")), ("pmctl-a-1-0-w1", Decimal("3.95")), ("pmctl-a-1-0-w2", Decimal("3.80")),
        ("pmctl-a-1-0-w3", Decimal("3.70"))]


def test_the_expiry_deadline_turns_the_walk_into_a_market_order_before_alpacas_liquidation(desk, state, database_url):
    row = call_row(database_url, state, stop_loss=Decimal("4.16"))
    state.set_clock(timestamp=EXPIRY_DAY, is_open=True, next_close=EXPIRY_DAY.replace(hour=21, minute=0))
    state.set_price(CALL, Decimal("4.50"))
    state.set_quote(CALL, Decimal("4.10"), Decimal("4.60"))
    state.before_request("/v2/orders", lambda: state.set_quote(CALL, Decimal("3.40"), Decimal("4.40")), method="POST")
    assert desk("check", "--account", "a").exit_code == 0
    [limit] = orders(state)
    assert (limit.type, limit.status) == ("limit", "new")

    state.set_clock(timestamp=EXPIRY_DAY.replace(minute=59), is_open=True)
    assert desk("check", "--account", "a").exit_code == 0
    assert [order.type for order in orders(state)] == ["limit", "limit"], "14:59: still walking"

    deadline = EXPIRY_DAY.replace(hour=20, minute=0)
    state.set_clock(timestamp=deadline, is_open=True)
    result = desk("check", "--account", "a")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "past the expiry deadline 15:00 New York on expiration day (from the built-in default): at market" in (
        result.stdout)
    *limits, market = orders(state)
    assert [order.status for order in limits] == ["replaced", "canceled"]
    assert (market.type, market.client_order_id, market.status, market.filled_avg_price) == (
        "market", "pmctl-a-1-0-m", "filled", Decimal("3.40"))
    assert market.created_at == market.filled_at == deadline < deadline.replace(minute=15)
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["exit_price"]) == ("closed", "stop_loss", Decimal("3.4"))


def test_a_stock_closes_at_market_through_its_position_where_its_profile_says_so(desk, state, database_url, tmp_path):
    policy = tmp_path / "pmctl.toml"
    policy.write_text('[defaults.stock]\ntrigger = "bid_ask"\nclose_order = "market"\n')
    state.set_position("a", "AMD", Decimal("100"), Decimal("150"))
    state.set_price("AMD", Decimal("146"))
    state.set_quote("AMD", Decimal("139.98"), Decimal("140.02"))
    row = insert_row(database_url, ticker="AMD", quantity=100, entry_price=Decimal("150"), stop_loss=Decimal("140"))

    result = desk("check", "--account", "a", env={"PMCTL_POLICY_FILE": str(policy)})

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "via DELETE /v2/positions/AMD?qty=100" in result.stdout
    [order] = orders(state, "AMD")
    assert (order.type, order.filled_avg_price) == ("market", Decimal("139.98"))
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["close_reason"], closed["close_trigger_price"], closed["close_trigger_source"]) == (
        "stop_loss", Decimal("139.98"), "bid")


def test_quotes_are_read_in_one_request_per_asset_class_only_for_rows_that_need_them(desk, state, database_url):
    call_row(database_url, state)
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    state.set_price("SPY", Decimal("689"))
    insert_row(database_url, ticker="SPY", quantity=20, entry_price=Decimal("690"))
    state.reset_requests()
    assert desk("check", "--account", "a").exit_code == 0
    data = [(r.path, r.feed) for r in state.requests if "/latest" in r.path]
    assert data == [("/v1beta1/options/quotes/latest", "indicative")]


def test_a_step_whose_answer_was_lost_is_found_by_its_client_order_id_and_settled_at_its_fill(
        desk, state, database_url):
    row = call_row(database_url, state, stop_loss=Decimal("4.16"))
    state.set_price(CALL, Decimal("4.50"))
    state.set_quote(CALL, Decimal("4.10"), Decimal("4.60"))
    state.before_request("/v2/orders", lambda: state.set_quote(CALL, Decimal("3.85"), Decimal("4.40")), method="POST")
    assert desk("check", "--account", "a").exit_code == 0
    [first] = orders(state)
    state.inject_fault(f"/v2/orders/{first.id}", "lost_answer", count=1, method="PATCH")
    later(state)

    lost = desk("check", "--account", "a")

    assert lost.exit_code == 1
    assert "sent, no clear answer: the next cycle looks up pmctl-a-1-0-w1" in lost.stdout
    _, replacement = orders(state)
    assert (replacement.client_order_id, replacement.status, replacement.filled_avg_price) == (
        "pmctl-a-1-0-w1", "filled", Decimal("3.85"))
    assert fetch_rows(database_url, f"id = {row}")[0]["status"] == "closing"

    settled = desk("check", "--account", "a")

    assert settled.exit_code == 0, settled.stdout + settled.stderr
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["exit_price"], closed["close_order_id"]) == (
        "closed", Decimal("3.85"), str(replacement.id))
    assert len(orders(state)) == 2


def test_status_shows_the_price_judged_where_it_came_from_and_how_old_it_is(desk, state, database_url):
    row = call_row(database_url, state, stop_loss=Decimal("3.00"))
    state.set_price(CALL, Decimal("4.50"))
    state.set_quote(CALL, Decimal("4.20"), Decimal("4.40"), age_seconds=7)

    live = desk("status", "-a", "a", "--format", "json")

    assert live.exit_code == 0, live.stderr
    [shown] = json.loads(live.stdout)["positions"]
    assert (shown["current_price"], shown["price_source"], shown["price_age_seconds"], shown["quote_problem"]) == (
        "4.2", "bid", "7", None)
    plain = desk("status", "-a", "a", "--format", "plain")
    assert "bid, 7 s" in plain.stdout

    state.set_quote(CALL, Decimal("4.20"), Decimal("4.40"), age_seconds=600)
    stale = json.loads(desk("status", "-a", "a", "--format", "json").stdout)["positions"][0]
    assert (stale["current_price"], stale["price_source"], stale["price_age_seconds"], stale["quote_problem"]) == (
        "4.5", "last", None, "stale")
    assert "last, quote stale" in desk("status", "-a", "a", "--format", "plain").stdout

    state.set_quote(CALL, Decimal("4.20"), Decimal("4.40"), age_seconds=3)
    assert desk("check", "--account", "a").exit_code == 0
    offline = json.loads(desk("status", "-a", "a", "--offline", "--format", "json").stdout)["positions"][0]
    assert (offline["id"], offline["current_price"], offline["price_source"]) == (row, "4.2000", "bid")
    quoted_at = NOON - timedelta(seconds=3)  # the row's price_at; offline, the age is by this machine's clock
    assert abs(int(offline["price_age_seconds"]) - (datetime.now(UTC) - quoted_at).total_seconds()) < 60


def test_report_shows_slippage_against_the_trigger_per_exit_reason(desk, state, database_url):
    """The walk above filled at 3.75 on a stop triggered at a bid of 4.10: 0.35 a contract given up, $350 on 10,
    8.54% of the $4,100 the position was worth at the trigger. A close by hand has no trigger to measure."""
    test_an_unfilled_limit_walks_by_patch_to_a_fill_within_the_slippage_bound(desk, state, database_url)
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    state.set_price("SPY", Decimal("691"))
    spy = insert_row(database_url, ticker="SPY", quantity=20, entry_price=Decimal("690"), instrument_type="STOCK")
    assert desk("close", str(spy), "-a", "a", "--yes").exit_code == 0

    result = desk("report", "--date", "2026-02-03", "--account", "a", "--format", "json")

    assert result.exit_code == 0, result.stderr
    reasons = {line["reason"]: line for line in json.loads(result.stdout)["by_reason"]}
    assert (reasons["stop_loss"]["slippage"], reasons["stop_loss"]["slippage_percent"]) == ("350.0000", "8.54")
    [by_hand] = [line for reason, line in reasons.items() if reason != "stop_loss"]
    assert (by_hand["slippage"], by_hand["slippage_percent"]) == (None, None)
    table = desk("report", "--date", "2026-02-03", "--account", "a", "--format", "plain").stdout
    assert "slippage $" in table and "350" in table
