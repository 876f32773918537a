"""The cycle's prices on plain snapshots: the rules judge the quote, a bad quote holds the price rules back, a
limit close is walked from the settle step, and the walk's orders are found by their client order ids."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from helpers import NOON
from pmctl.core import pricing, walk
from pmctl.core.check import plan_check
from pmctl.core.market import Clock, Order
from pmctl.core.plan import Alert, Close, Refresh, WalkClose
from pmctl.core.policy import Policy
from pmctl.core.quotes import Quote
from test_plans import CALL, position, row, snapshot

EXPIRY_CLOCK = Clock(NOON.replace(day=20, hour=20), True, NOON.replace(day=23, hour=14, minute=30),
                     NOON.replace(day=20, hour=21))


def quote(bid: str, ask: str, age: int = 0, symbol: str = CALL) -> dict[str, Quote]:
    return {symbol: Quote(symbol, Decimal(bid), Decimal(ask), Decimal(10), Decimal(10),
                          NOON - timedelta(seconds=age))}


def call(**fields):
    values = dict(entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"), expiration_date=NOON.date().replace(day=20))
    return row(1, CALL, **{**values, **fields})


def limit_order(client_id: str, limit: str, status: str = "new", filled: str = "0", at=NOON) -> Order:
    return Order(f"o-{client_id}", client_id, CALL, "sell", Decimal(10), Decimal(filled), None, "limit", status, at,
                 None, "sell_to_close", limit_price=Decimal(limit))


def test_the_stop_fires_on_the_bid_not_on_the_last_trade_and_goes_as_a_limit():
    plan = plan_check(snapshot([call()], [position(CALL, price="4.50")], quotes=quote("4.10", "4.60")))
    [close] = plan.of(Close)
    assert (close.order_type, close.limit_price, close.trigger_price, close.trigger_source) == (
        "limit", Decimal("4.10"), Decimal("4.10"), "bid")
    [refresh] = plan.of(Refresh)
    assert (refresh.current_price, refresh.price_source, refresh.price_at) == (Decimal("4.10"), "bid", NOON)


def test_a_stale_quote_holds_the_stop_back_and_says_why():
    plan = plan_check(snapshot([call()], [position(CALL, price="3.00")], quotes=quote("3.00", "3.10", age=300)))
    assert plan.of(Close) == []
    [alert] = plan.of(Alert)
    assert alert.kind == "quote_unusable" and "is 300 s old" in alert.why
    [refresh] = plan.of(Refresh)
    assert (refresh.current_price, refresh.price_source, refresh.price_at) == (Decimal("3.00"), "last", None)


def test_the_clock_still_closes_a_row_whose_quote_cannot_be_used_and_its_trailing_stop_does_not_move():
    held = call(max_hold_minutes=30, stop_loss=None, trailing_stop_percent=Decimal(10), peak_price=Decimal("5.50"),
                trailing_stop_price=Decimal("4.95"))
    plan = plan_check(snapshot([held], [position(CALL, price="9.00")], quotes=quote("0", "0.05")))
    [close] = plan.of(Close)
    assert (close.reason, close.order_type, close.trigger_source) == ("max_hold_time", "limit", "last")
    [refresh] = plan.of(Refresh)
    assert (refresh.peak_price, refresh.trailing_stop_price) == (Decimal("5.50"), Decimal("4.95"))


def closing(**fields):
    values = dict(status="closing", close_client_order_id="pmctl-a-1-0", close_reason="stop_loss",
                  close_trigger_price=Decimal("4.10"), close_trigger_source="bid")
    return call(**{**values, **fields})


def test_the_settle_step_walks_a_working_limit_close_a_step_once_it_has_worked_the_interval():
    working = limit_order("pmctl-a-1-0", "4.10", at=NOON - timedelta(seconds=10))
    plan = plan_check(snapshot([closing()], [position(CALL, available="0")], [working]))
    [step] = plan.of(WalkClose)
    assert (step.order_id, step.client_order_id, step.old_limit, step.new_limit) == (
        "o-pmctl-a-1-0", "pmctl-a-1-0-w1", Decimal("4.10"), Decimal("3.95"))
    assert plan.has_changes
    fresh = limit_order("pmctl-a-1-0", "4.10", at=NOON - timedelta(seconds=9))
    assert plan_check(snapshot([closing()], [position(CALL, available="0")], [fresh])).of(WalkClose) == []


def test_past_the_deadline_the_walk_becomes_a_market_close_built_by_the_guard():
    working = limit_order("pmctl-a-1-0-w2", "3.80", filled="4")
    snap = snapshot([closing()], [position(CALL, qty="6", available="0")], [working], clock=EXPIRY_CLOCK)
    [step] = plan_check(snap).of(WalkClose)
    assert step.to_market and step.client_order_id == "pmctl-a-1-0-m"
    assert (step.request.qty, step.request.side, step.request.position_intent, step.request.order_type) == (
        Decimal(6), "sell", "sell_to_close", "market")


def test_a_limit_cancelled_past_the_deadline_is_sent_at_market_and_before_it_the_row_reopens():
    cancelled = limit_order("pmctl-a-1-0-w1", "3.95", status="canceled")
    row_ = closing()
    late = snapshot([row_], [position(CALL)], close_orders={"pmctl-a-1-0": cancelled}, clock=EXPIRY_CLOCK)
    [step] = plan_check(late).of(WalkClose)
    assert step.to_market and step.request.qty == Decimal(10)
    early = replace(late, clock=replace(EXPIRY_CLOCK, timestamp=EXPIRY_CLOCK.timestamp - timedelta(hours=1)))
    plan = plan_check(early)
    assert plan.of(WalkClose) == [] and [a.kind for a in plan.of(Alert)] == ["order_failed"]


def test_a_market_close_or_a_row_without_its_trigger_is_never_walked():
    market = replace(limit_order("pmctl-a-1-0", "4.10"), order_type="market", limit_price=None)
    assert plan_check(snapshot([closing()], [position(CALL)], [market])).of(WalkClose) == []
    untriggered = closing(close_trigger_price=None)
    assert plan_check(snapshot([untriggered], [position(CALL)], [limit_order("pmctl-a-1-0", "4.10")])).of(
        WalkClose) == []


def test_a_close_that_never_reached_the_broker_is_sent_again_priced_from_its_recorded_trigger():
    snap = snapshot([closing()], [position(CALL)], close_orders={"pmctl-a-1-0": None}, quotes=quote("3.90", "4.20"))
    [resend] = plan_check(snap).of(Close)
    assert (resend.client_order_id, resend.order_type, resend.limit_price, resend.trigger_price) == (
        "pmctl-a-1-0", "limit", Decimal("3.90"), Decimal("4.10"))
    unpriced = snapshot([closing(close_trigger_price=None, close_trigger_source=None)], [position(CALL)],
                        close_orders={"pmctl-a-1-0": None})
    assert [c.order_type for c in plan_check(unpriced).of(Close)] == ["market"]


def test_the_order_that_speaks_for_a_walk_is_its_newest_not_replaced():
    claim = "pmctl-a-1-0"
    chain = [limit_order(claim, "4.10", status="replaced"), limit_order(f"{claim}-w1", "3.95", status="replaced"),
             limit_order(f"{claim}-w2", "3.80", at=NOON + timedelta(seconds=5)),
             limit_order("pmctl-a-1-01", "9.99", at=NOON + timedelta(minutes=1))]
    assert walk.latest(claim, chain).client_order_id == f"{claim}-w2"
    same_instant = [limit_order(f"{claim}-w3", "3.70", status="canceled"),
                    replace(limit_order(f"{claim}-m", "0", status="filled"), order_type="market")]
    assert walk.latest(claim, same_instant).client_order_id == f"{claim}-m"
    assert walk.latest(claim, []) is None


def test_quotes_are_asked_only_for_held_rows_whose_profile_needs_them():
    rows = [call(), row(2, "SPY"), row(3, "QQQ"), row(4, "AMD", status="closing")]
    held = [position(CALL), position("SPY"), position("AMD")]
    assert pricing.quoted_symbols(rows, held, Policy.parse({})) == ([], [CALL])
    quoted = Policy.parse({"defaults": {"stock": {"trigger": "mid"}}})
    assert pricing.quoted_symbols(rows, held, quoted) == (["AMD", "SPY"], [CALL])
    last = Policy.parse({"defaults": {"option": {"trigger": "last", "close_order": "market"}}})
    assert pricing.quoted_symbols(rows, held, last) == ([], [])


PROTECTED = Policy.parse({"defaults": {"protect_at_broker": True}})


def test_a_deadlines_market_order_carries_the_protection_to_rest_if_refused_but_never_a_second_one():
    """The walk's first close cancelled the row's stop-limit: if the broker refuses the market order, the stop
    rests again for all the limit held. A stop resting already (a partial close's, for what it left) is resized by
    the next cycle instead: a row never has two."""
    working = limit_order("pmctl-a-1-0-w2", "3.80")
    held = position(CALL, price="4.50", available="0")
    [step] = plan_check(snapshot([closing()], [held], [working], clock=EXPIRY_CLOCK, policy=PROTECTED)).of(WalkClose)
    assert step.to_market and (step.rearm.order.qty, step.rearm.order.stop_price) == (Decimal(10), Decimal("4.15"))
    assert step.rearm.order.client_order_id == "pmctl-a-1-stop-1"

    rests = Order("o-s", "pmctl-a-1-stop-1", CALL, "sell", Decimal(4), Decimal(0), None, "stop_limit", "new", NOON,
                  None, "sell_to_close", limit_price=Decimal("3.70"), stop_price=Decimal("4.15"))
    beside = snapshot([closing()], [held], [working, rests], clock=EXPIRY_CLOCK, policy=PROTECTED)
    [step] = plan_check(beside).of(WalkClose)
    assert step.to_market and step.rearm is None
