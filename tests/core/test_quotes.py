"""The price a row's rules judge: the trigger methods, and the quotes that may not trigger anything."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmctl.core.policy import Policy
from pmctl.core.quotes import LastTrade, Quote, TriggerPrice, Unusable, trigger_price, unusable_alert
from pmctl.core.vocabulary import AlertKind, PriceSource, QuoteProblem

NOW = datetime(2026, 2, 3, 16, 0, tzinfo=timezone.utc)
CALL = "GOOGL260220C00340000"


def profile(trigger: str = "bid_ask", instrument: str = "option", **keys):
    table = {"trigger": trigger, **keys}
    return Policy.parse({"profiles": {"swing_trade": {instrument: table}}}).resolve("swing_trade", instrument)


def quote(bid: str, ask: str, age: int = 5, symbol: str = CALL) -> Quote:
    return Quote(symbol, Decimal(bid), Decimal(ask), Decimal(10), Decimal(12), NOW - timedelta(seconds=age))


@pytest.mark.parametrize(("trigger", "short", "price", "source", "text"), [
    ("bid_ask", False, "1.80", PriceSource.BID, "bid 1.80, 5 s old"),
    ("bid_ask", True, "2.00", PriceSource.ASK, "ask 2.00, 5 s old"),
    ("mid", False, "1.90", PriceSource.MID, "mid 1.90, 5 s old"),
    ("mid", True, "1.90", PriceSource.MID, "mid 1.90, 5 s old"),
    ("pessimistic_mid", False, "1.85", PriceSource.PESSIMISTIC_MID, "pessimistic_mid 1.85, 5 s old"),
    ("pessimistic_mid", True, "1.95", PriceSource.PESSIMISTIC_MID, "pessimistic_mid 1.95, 5 s old"),
])
def test_each_trigger_method_picks_its_point_of_the_quote_for_the_side_the_exit_trades_into(
        trigger, short, price, source, text):
    found = trigger_price(quote("1.80", "2.00"), LastTrade(Decimal("2.50")), short, profile(trigger), NOW)
    assert found == TriggerPrice(Decimal(price), source, timedelta(seconds=5))
    assert found.text == text


def test_last_uses_the_last_trade_and_ignores_even_a_broken_quote():
    found = trigger_price(quote("0", "0", age=86400), LastTrade(Decimal("2.50")), False, profile("last"), NOW)
    assert found == TriggerPrice(Decimal("2.50"), PriceSource.LAST, None)
    assert found.text == "last 2.50"
    timed = trigger_price(None, LastTrade(Decimal("2.50"), NOW - timedelta(minutes=3)), False, profile("last"), NOW)
    assert timed.age == timedelta(minutes=3)


def test_a_quote_trigger_never_falls_back_to_the_last_trade():
    """The bug this exists for: Alpaca's current_price is a print that may be days old."""
    found = trigger_price(None, LastTrade(Decimal("2.50")), False, profile("bid_ask"), NOW)
    assert isinstance(found, Unusable)
    assert found.problem == QuoteProblem.MISSING


def test_last_with_no_last_trade_has_no_price():
    found = trigger_price(quote("1.80", "2.00"), None, False, profile("last"), NOW)
    assert isinstance(found, Unusable) and found.problem == QuoteProblem.NO_LAST


@pytest.mark.parametrize(("bid", "ask", "age", "short", "problem", "says"), [
    ("1.80", "2.00", 121, False, QuoteProblem.STALE,
     "quote 1.80 x 2.00 is 121 s old, over the 120 s max_quote_age_seconds from the built-in default"),
    ("0", "0.10", 1, False, QuoteProblem.ZERO_BID, "quote 0.00 x 0.10 has no bid: nobody to sell to"),
    ("0.50", "0", 1, True, QuoteProblem.ZERO_ASK, "quote 0.50 x 0.00 has no ask: nobody to buy from"),
    ("2.10", "2.00", 1, False, QuoteProblem.CROSSED, "quote 2.10 x 2.00 is crossed (bid above ask)"),
    ("2.00", "2.00", 1, True, QuoteProblem.LOCKED, "quote 2.00 x 2.00 is locked (bid equal to ask)"),
    ("1.00", "2.00", 1, False, QuoteProblem.WIDE,
     "quote 1.00 x 2.00 is 66.7% wide, over the 50% max_spread_percent from the built-in default"),
])
def test_a_bad_quote_is_unusable_with_its_reason_and_the_limit_it_broke(bid, ask, age, short, problem, says):
    found = trigger_price(quote(bid, ask, age), LastTrade(Decimal("1.90")), short, profile(), NOW)
    assert isinstance(found, Unusable)
    assert (found.problem, found.detail) == (problem, says)


def test_the_limits_come_from_the_profile_and_are_named_with_it():
    strict = profile(max_quote_age_seconds=10, max_spread_percent=5)
    stale = trigger_price(quote("1.80", "2.00", age=11), None, False, strict, NOW)
    assert stale.detail.endswith("over the 10 s max_quote_age_seconds from profile swing_trade/option")
    wide = trigger_price(quote("1.80", "2.00", age=1), None, False, strict, NOW)
    assert (wide.problem, wide.detail) == (
        QuoteProblem.WIDE, "quote 1.80 x 2.00 is 10.5% wide, over the 5% max_spread_percent from profile swing_trade/option")
    assert isinstance(trigger_price(quote("1.80", "2.00", age=10), None, False, strict, NOW), Unusable)
    assert isinstance(trigger_price(quote("1.95", "2.00", age=10), None, False, strict, NOW), TriggerPrice)


def test_age_is_by_the_broker_clock_and_a_quote_ahead_of_it_is_fresh():
    ahead = Quote(CALL, Decimal("1.80"), Decimal("2.00"), Decimal(1), Decimal(1), NOW + timedelta(seconds=3))
    assert trigger_price(ahead, None, False, profile(), NOW).age == timedelta(0)


def test_a_quote_refuses_negative_prices_and_naive_times():
    with pytest.raises(ValueError):
        Quote(CALL, Decimal("-0.01"), Decimal("1"), Decimal(1), Decimal(1), NOW)
    with pytest.raises(ValueError):
        Quote(CALL, Decimal("1"), Decimal("1.1"), Decimal(1), Decimal(1), NOW.replace(tzinfo=None))


def test_the_alert_for_an_unusable_quote_says_which_row_and_why():
    alert = unusable_alert(7, CALL, trigger_price(quote("0", "0.10"), None, False, profile(), NOW))
    assert alert.kind == AlertKind.QUOTE_UNUSABLE and alert.kind.recorded and alert.kind.delivered
    assert alert.why == (f"row 7 {CALL}: no price rule acts this cycle: zero_bid: quote 0.00 x 0.10 has no bid: "
                         "nobody to sell to")


cents = st.integers(min_value=0, max_value=100_000).map(lambda n: Decimal(n) / 100)


@settings(max_examples=400, deadline=None)
@given(bid=cents, ask=cents, age=st.integers(0, 300), short=st.booleans(),
       trigger=st.sampled_from(("bid_ask", "mid", "pessimistic_mid")))
def test_a_usable_quote_prices_inside_itself_and_never_better_than_the_mid_for_the_holder(bid, ask, age, short,
                                                                                         trigger):
    """Whatever the quote, a price it gives lies inside the book, on the holder's unfavourable side of the
    mid; and no quote that is old, empty on the exit's side, crossed, locked or too wide gives one."""
    rules = profile(trigger)
    found = trigger_price(quote(str(bid), str(ask), age), None, short, rules, NOW)
    broken = (age > rules.max_quote_age_seconds or (bid == 0 and not short) or (ask == 0 and short) or bid >= ask
              or (ask - bid) / ((ask + bid) / 2) * 100 > rules.max_spread_percent)
    assert isinstance(found, Unusable) == broken
    if not broken:
        mid = (bid + ask) / 2
        assert bid <= found.price <= ask
        assert found.price >= mid if short else found.price <= mid
