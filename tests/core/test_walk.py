"""Pricing a close: a tick-valid marketable limit, its walk to the slippage bound, and the deadlines that end it
at market. Friday 2026-02-20 is the contract's expiration day; 20:00 UTC is 15:00 in New York."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmctl.core import ticks, walk
from pmctl.core.market import Clock, Order
from pmctl.core.plan import Close, Plan, WalkClose
from pmctl.core.policy import Policy
from pmctl.core.quotes import LastTrade, Quote, TriggerPrice
from pmctl.core.vocabulary import PriceSource

UTC = timezone.utc
CALL = "GOOGL260220C00340000"
TUESDAY = datetime(2026, 2, 17, 16, 0, tzinfo=UTC)
EXPIRY_DAY = datetime(2026, 2, 20, 16, 0, tzinfo=UTC)
CLAIM = "pmctl-a-7-0"


def policy(**option):
    return Policy.parse({"profiles": {"swing_trade": {"option": option, "stock": {}},
                                      "day_trade": {"option": option}}})


MARKET = policy().market


def profile(strategy: str = "swing_trade", instrument: str = "option", **option):
    return policy(**option).resolve(strategy, instrument)


def clock(moment: datetime = TUESDAY, is_open: bool = True) -> Clock:
    close = moment.replace(hour=21, minute=0, second=0)
    return Clock(moment, is_open, close + timedelta(hours=17, minutes=30), close)


def quote(bid: str, ask: str, symbol: str = CALL) -> Quote:
    return Quote(symbol, Decimal(bid), Decimal(ask), Decimal(5), Decimal(5), TUESDAY)


def close(symbol: str = CALL, side: str = "sell", intent: str | None = "sell_to_close") -> Close:
    return Close(7, symbol, side, Decimal(2), "stop_loss", CLAIM, intent, (), "price 1.85 at or below stop 1.90")


def bid(price: str) -> TriggerPrice:
    return TriggerPrice(Decimal(price), PriceSource.BID, timedelta(seconds=2))


def test_an_option_stop_goes_as_a_limit_at_the_bid_with_its_walk_in_the_plan():
    priced = walk.priced(close(), quote("1.85", "2.05"), bid("1.85"), None, clock(), profile(), MARKET)
    assert (priced.order_type, priced.limit_price, priced.trigger_price, priced.trigger_source) == (
        "limit", Decimal("1.85"), Decimal("1.85"), "bid")
    assert priced.why == ("price 1.85 at or below stop 1.90; limit 1.85, walking to 1.67 in 3 step(s) "
                          "(10% from bid 1.85)")
    assert priced.request.order_type == "limit" and priced.request.limit_price == Decimal("1.85")


@pytest.mark.parametrize(("offset", "bid_", "ask", "limit"), [
    (2, "1.85", "2.05", "1.87"),
    (50, "1.85", "2.05", "2.05"),
    (0, "3.52", "3.80", "3.50"),
    (1, "3.52", "3.80", "3.55"),
    (1, "2.99", "3.20", "3.00"),
])
def test_the_first_limit_is_on_a_tick_offset_better_but_never_past_the_other_side(offset, bid_, ask, limit):
    rules = profile(limit_offset_ticks=offset, max_slippage_percent=50)
    priced = walk.priced(close(), quote(bid_, ask), bid(bid_), None, clock(), rules, MARKET)
    assert priced.limit_price == Decimal(limit)


def test_a_short_buys_back_from_the_ask_rounded_up_and_walks_up():
    buy = close(side="buy", intent="buy_to_close")
    trigger = TriggerPrice(Decimal("3.52"), PriceSource.ASK, None)
    priced = walk.priced(buy, quote("3.30", "3.52"), trigger, None, clock(), profile(), MARKET)
    assert (priced.limit_price, walk.slippage_bound(CALL, "buy", Decimal("3.52"), profile(), MARKET)) == (
        Decimal("3.55"), Decimal("3.85"))


def test_a_mid_trigger_still_starts_at_the_bid_but_never_beyond_the_bound_from_the_mid():
    mid = TriggerPrice(Decimal("2.20"), PriceSource.MID, timedelta(seconds=1))
    priced = walk.priced(close(), quote("1.90", "2.50"), mid, None, clock(), profile(max_slippage_percent=5),
                         MARKET)
    assert priced.limit_price == Decimal("2.09")  # 2.20 less 5 %, rounded up: the bid 1.90 is beyond the bound


def test_a_profile_that_says_market_sends_market_and_still_records_the_trigger():
    priced = walk.priced(close(), quote("1.85", "2.05"), bid("1.85"), None, clock(), profile(close_order="market"),
                         MARKET)
    assert (priced.order_type, priced.limit_price, priced.trigger_price, priced.why) == (
        "market", None, Decimal("1.85"), "price 1.85 at or below stop 1.90")


def test_a_stock_closes_at_market_through_its_position_even_where_the_profile_asks_for_a_limit():
    stock = close(symbol="GOOGL", intent=None)
    rules = Policy.parse({"defaults": {"stock": {"close_order": "limit"}}}).resolve("swing_trade", "stock")
    priced = walk.priced(stock, quote("335.38", "335.42", "GOOGL"), bid("335.38"), None, clock(), rules, MARKET)
    assert (priced.order_type, priced.route) == ("market", "DELETE /v2/positions/GOOGL?qty=2")
    assert priced.why.endswith("; at market: a stock closes through DELETE /v2/positions, which takes no limit")
    plain = walk.priced(stock, None, None, LastTrade(Decimal("335.40")), clock(), profile(instrument="stock"),
                        MARKET)
    assert (plain.order_type, plain.trigger_price, plain.trigger_source, plain.why) == (
        "market", Decimal("335.40"), "last", "price 1.85 at or below stop 1.90")


@pytest.mark.parametrize(("moment", "order_type"), [
    (datetime(2026, 2, 20, 19, 59, 59, tzinfo=UTC), "limit"),
    (datetime(2026, 2, 20, 20, 0, tzinfo=UTC), "market"),
    (datetime(2026, 2, 19, 20, 30, tzinfo=UTC), "limit"),
])
def test_on_expiration_day_the_deadline_at_15_00_new_york_sends_market(moment, order_type):
    priced = walk.priced(close(), quote("0.10", "0.20"), bid("0.10"), None, clock(moment), profile(), MARKET)
    assert priced.order_type == order_type
    if order_type == "market":
        assert priced.why.endswith("; at market: past the expiry deadline 15:00 New York on expiration day "
                                   "(from the built-in default)")


def test_the_expiry_deadline_is_the_profiles_and_a_day_trade_goes_at_market_before_the_bell():
    early = profile(expiry_deadline="11:00")
    assert walk.past_deadline(CALL, clock(EXPIRY_DAY), early).startswith("past the expiry deadline 11:00")
    day = profile("day_trade")
    assert walk.past_deadline(CALL, clock(TUESDAY.replace(hour=20, minute=54)), day) is None
    assert walk.past_deadline(CALL, clock(TUESDAY.replace(hour=20, minute=55)), day) == (
        "past the day-trade close (5 min before the close, from the built-in default)")
    assert walk.past_deadline(CALL, clock(TUESDAY.replace(hour=20, minute=55)), profile()) is None


@pytest.mark.parametrize(("quote_", "last", "price", "source", "order_type"), [
    (("1.40", "2.60"), None, "1.40", "bid", "limit"),
    (("0", "0.05"), LastTrade(Decimal("0.30")), "0.30", "last", "limit"),
    (("0", "0"), None, None, None, "market"),
])
def test_a_clock_rule_with_an_unusable_quote_still_goes_priced_from_what_there_is(quote_, last, price, source,
                                                                                  order_type):
    priced = walk.priced(close(), quote(*quote_), None, last, clock(), profile(), MARKET)
    assert (priced.trigger_price, priced.trigger_source, priced.order_type) == (
        Decimal(price) if price else None, source, order_type)
    if order_type == "market":
        assert priced.why.endswith("at market: no quote or last trade to price a limit")


def working(limit: str = "1.85", trigger: str = "1.85", client_order_id: str = CLAIM, side: str = "sell"):
    return walk.WorkingClose(7, CALL, side, "order-1", CLAIM, client_order_id, Decimal(limit), Decimal(trigger))


def test_an_unfilled_limit_walks_in_equal_steps_to_the_bound_and_stays_there():
    rules, market = profile(), MARKET
    order, seen = working(), []
    while (step := walk.walk_step(order, None, clock(), rules, market)) is not None:
        seen.append((step.client_order_id, step.old_limit, step.new_limit))
        order = replace(order, client_order_id=step.client_order_id, limit_price=step.new_limit)
    assert seen == [(f"{CLAIM}-w1", Decimal("1.85"), Decimal("1.79")),
                    (f"{CLAIM}-w2", Decimal("1.79"), Decimal("1.73")),
                    (f"{CLAIM}-w3", Decimal("1.73"), Decimal("1.67"))]


def test_a_step_says_where_it_goes_and_why():
    step = walk.walk_step(working(), None, clock(), profile(), MARKET)
    assert step == WalkClose(7, CALL, "order-1", f"{CLAIM}-w1", Decimal("1.85"), Decimal("1.79"),
                             "limit 1.85 unfilled: step 1 of 3 to 1.79, toward the bound 1.67 "
                             "(10% from the trigger 1.85)")


def test_a_step_goes_straight_to_the_bid_when_the_bid_already_lies_within_the_bound():
    step = walk.walk_step(working(), quote("1.70", "1.90"), clock(), profile(), MARKET)
    assert step.new_limit == Decimal("1.70")
    below_bound = walk.walk_step(working(), quote("1.20", "1.90"), clock(), profile(), MARKET)
    assert below_bound.new_limit == Decimal("1.67")


def test_a_buy_walks_up_toward_the_bound_above_the_ask():
    step = walk.walk_step(working("3.55", "3.52", side="buy"), None, clock(), profile(), MARKET)
    assert step.new_limit == Decimal("3.65")


def test_a_deadline_turns_the_walk_into_a_market_order_under_its_own_client_order_id():
    step = walk.walk_step(working("1.79", client_order_id=f"{CLAIM}-w1"), None,
                          clock(datetime(2026, 2, 20, 20, 1, tzinfo=UTC)), profile(), MARKET)
    assert step.to_market and step.client_order_id == f"{CLAIM}-m"
    assert step.why == ("limit 1.79 unfilled past the expiry deadline 15:00 New York on expiration day "
                        "(from the built-in default): at market")


def test_no_option_order_moves_outside_regular_hours():
    assert walk.walk_step(working(), None, clock(is_open=False), profile(), MARKET) is None
    assert walk.hours_problem(CALL, clock(is_open=False)) == "option orders are sent only in regular hours"
    assert walk.hours_problem("GOOGL", clock(is_open=False)) is None


def test_the_walks_client_order_ids_name_their_step_and_nothing_else_is_taken_for_one():
    assert walk.step_of(CLAIM, CLAIM) == 0
    assert walk.step_of(CLAIM, f"{CLAIM}-w12") == 12
    assert walk.step_of(CLAIM, "pmctl-a-7-01") is None
    assert walk.step_of(CLAIM, f"{CLAIM}-m") is None
    assert walk.belongs_to(CLAIM, f"{CLAIM}-m") and not walk.belongs_to(CLAIM, "pmctl-a-7-1")
    assert [walk.claim_of(cid) for cid in (CLAIM, f"{CLAIM}-w3", f"{CLAIM}-m", "pmctl-a-7-1")] == [
        CLAIM, CLAIM, CLAIM, "pmctl-a-7-1"]
    with pytest.raises(ValueError):
        walk.step_client_order_id(CLAIM, 0)


money = st.integers(min_value=1, max_value=5000).map(lambda n: Decimal(n) / 100)


@settings(max_examples=300, deadline=None)
@given(near=money, spread=st.integers(0, 200).map(lambda n: Decimal(n) / 100), side=st.sampled_from(("sell", "buy")),
       slippage=st.integers(1, 99), steps=st.integers(1, 10), offset=st.integers(0, 5),
       symbol=st.sampled_from((CALL, "SPY260220C00600000", "XYZ260220C00020000")))
def test_every_limit_of_a_walk_is_on_a_tick_within_the_bound_and_the_bound_is_reached_in_walk_steps(
        near, spread, side, slippage, steps, offset, symbol):
    rules = profile(max_slippage_percent=slippage, walk_steps=steps, limit_offset_ticks=offset)
    market = Policy.parse({"market": {"non_penny_symbols": ["XYZ"]}}).market
    selling = side == "sell"
    near = ticks.round_limit(symbol, "buy", near, market)  # a quote is on its class's grid
    book = Quote(symbol, near, near + spread, Decimal(1), Decimal(1), TUESDAY) if selling else \
        Quote(symbol, max(near - spread, Decimal(0)), near, Decimal(1), Decimal(1), TUESDAY)
    trigger = TriggerPrice(near, PriceSource.BID if selling else PriceSource.ASK, None)
    first = walk.priced(close(symbol, side, f"{side}_to_close"), book, trigger, None, clock(), rules, market)
    bound = walk.slippage_bound(symbol, side, near, rules, market)
    allowed = near * (1 - Decimal(slippage) / 100) if selling else near * (1 + Decimal(slippage) / 100)
    assert bound >= allowed if selling else bound <= allowed
    order = walk.WorkingClose(7, symbol, side, "o", CLAIM, CLAIM, first.limit_price, near)
    limits = [order.limit_price]
    for _ in range(steps):
        step = walk.walk_step(order, None, clock(), rules, market)
        if step is None:
            break
        limits.append(step.new_limit)
        order = replace(order, client_order_id=step.client_order_id, limit_price=step.new_limit)
    assert walk.walk_step(order, None, clock(), rules, market) is None
    assert limits[-1] == bound or limits[0] == bound
    for earlier, later in zip(limits, limits[1:]):
        assert later < earlier if selling else later > earlier
    for limit in limits:
        assert ticks.on_tick(symbol, limit, market) and limit.as_tuple().exponent >= -2
        assert limit >= bound if selling else limit <= bound


def test_a_close_is_a_market_order_unless_priced_and_a_walk_is_a_change_a_dry_run_reports():
    plain = close()
    assert (plain.order_type, plain.limit_price, plain.request.order_type, plain.request.limit_price) == (
        "market", None, "market", None)
    step = walk.walk_step(working(), None, clock(), profile(), MARKET)
    assert Plan("a", (step,)).has_changes


def test_a_limit_is_re_priced_only_once_it_has_worked_the_interval_but_a_deadline_does_not_wait():
    placed = TUESDAY - timedelta(seconds=9)
    young = replace(working(), placed_at=placed)
    assert walk.walk_step(young, None, clock(), profile(), MARKET) is None
    assert walk.walk_step(young, None, clock(TUESDAY + timedelta(seconds=1)), profile(), MARKET).new_limit == \
        Decimal("1.79")
    assert walk.walk_step(young, None, clock(), profile(walk_interval_seconds=5), MARKET) is not None
    at_deadline = datetime(2026, 2, 20, 20, 1, tzinfo=UTC)
    just_placed = replace(working(), placed_at=at_deadline)
    assert walk.walk_step(just_placed, None, clock(at_deadline), profile(), MARKET).to_market


def test_the_watcher_wakes_for_the_accounts_walking_limit_closes_only():
    def order(client_order_id: str, order_type: str = "limit", symbol: str = CALL) -> Order:
        return Order(client_order_id, client_order_id, symbol, "sell", Decimal(1), Decimal(0), None, order_type, "new",
                     TUESDAY, None, None, limit_price=Decimal("1.85"))

    orders = [order("pmctl-a-7-0"), order("pmctl-a-8-1-w2", symbol="SPY"), order("pmctl-a-9-stop-2", "stop_limit"),
              order("pmctl-a-10-oco-1", symbol="AMD"), order("pmctl-b-11-0", symbol="QQQ"),
              order("desk-order-1", symbol="IWM"), order("pmctl-a-12-0-m", "market", symbol="TSLA")]
    assert walk.walking("a", orders) == frozenset({CALL, "SPY"})
