"""The close invariant: a close never opens or increases a position, whatever the plan asked for."""

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmctl.core.market import Order, Position
from pmctl.core import closing
from pmctl.core.model import Row
from helpers import NOON

symbols = st.sampled_from(["GOOGL", "GOOGL260220C00340000", "SPY", "QCOM260220P00145000"])
quantities = st.decimals(min_value=Decimal("-500"), max_value=Decimal("500"), places=0)


@st.composite
def positions(draw):
    symbol = draw(symbols)
    qty = draw(quantities.filter(lambda q: q != 0))
    available = draw(st.decimals(min_value=Decimal(0), max_value=abs(qty), places=0))
    return Position(symbol, qty, available, Decimal("5"), Decimal("4"), "us_equity")


def exposure_after(position: Position, side: str, qty: Decimal) -> Decimal:
    return position.qty - qty if side == "sell" else position.qty + qty


@given(position=st.one_of(st.none(), positions()), symbol=symbols, qty=quantities,
       available=st.decimals(min_value=Decimal(0), max_value=Decimal(600), places=0))
def test_a_close_never_increases_exposure_or_touches_another_symbol(position, symbol, qty, available):
    try:
        request = closing.close_request(position, symbol, qty, available, "pmctl-a-1-0")
    except closing.CloseRefused:
        return
    assert position is not None
    assert request.symbol == position.symbol == symbol
    assert 0 < request.qty <= min(abs(position.qty), available)
    after = exposure_after(position, request.side, request.qty)
    assert abs(after) < abs(position.qty)
    assert (after >= 0) == (position.qty > 0) or after == 0


def test_the_side_comes_from_the_broker_not_the_row():
    short = Position("AMD", Decimal("-100"), Decimal("100"), Decimal("150"), Decimal("140"), "us_equity")
    assert closing.close_request(short, "AMD", Decimal("100"), Decimal("100"), "x").side == "buy"


def test_options_carry_an_explicit_closing_intent_and_whole_contracts():
    long_call = Position("GOOGL260220C00340000", Decimal("10"), Decimal("10"), Decimal("5.2"), Decimal("4"), "us_option")
    request = closing.close_request(long_call, long_call.symbol, Decimal("10"), Decimal("10"), "x")
    assert request.position_intent == "sell_to_close"
    with pytest.raises(closing.CloseRefused, match="whole contracts"):
        closing.close_request(long_call, long_call.symbol, Decimal("2.5"), Decimal("10"), "x")


@pytest.mark.parametrize(
    ("symbol", "qty", "available", "message"),
    [
        ("GOOGL", Decimal("10"), Decimal("10"), "the broker holds no GOOGL"),
        ("GOOGL260220C00340000", Decimal("11"), Decimal("10"), "more than the 10"),
        ("GOOGL260220C00340000", Decimal("6"), Decimal("4"), "only 4 of GOOGL260220C00340000 is available"),
        ("GOOGL260220C00340000", Decimal("0"), Decimal("10"), "must be positive"),
    ],
)
def test_refusals_name_the_broken_part(symbol, qty, available, message):
    held = Position("GOOGL260220C00340000", Decimal("10"), Decimal("10"), Decimal("5.2"), Decimal("4"), "us_option")
    with pytest.raises(closing.CloseRefused, match=message):
        closing.close_request(held, symbol, qty, available, "x")


def order(id_, client_id, side, qty, symbol="SPY"):
    return Order(id_, client_id, symbol, side, Decimal(qty), Decimal(0), None, "stop", "new", NOON, None, None)


def test_own_working_orders_are_released_but_never_beyond_what_is_held():
    spy = Position("SPY", Decimal("20"), Decimal("5"), Decimal("690"), Decimal("689"), "us_equity")
    orders = (order("1", "pmctl-a-7-0", "sell", "10"), order("2", "desk-manual", "sell", "5"),
              order("3", "x", "sell", "5"), order("4", "pmctl-a-9-0", "buy", "3"))
    own = closing.own_orders(spy, orders, ("3",))
    assert [o.id for o in own] == ["1", "3"]
    assert closing.closable(spy, own) == Decimal("20")
    assert closing.closable(spy, own[:1]) == Decimal("15")


def test_a_stock_closes_by_position_and_an_option_by_an_order_with_its_intent():
    stock = Position("AMD", Decimal("100"), Decimal("100"), Decimal("150"), Decimal("140"), "us_equity")
    call = Position("GOOGL260220C00340000", Decimal("-2"), Decimal("2"), Decimal("5"), Decimal("4"), "us_option")
    by_delete = closing.close_request(stock, "AMD", Decimal("40"), Decimal("100"), "pmctl-a-1-0")
    by_order = closing.close_request(call, call.symbol, Decimal("2"), Decimal("2"), "pmctl-a-2-0")
    assert (by_delete.by_position, by_delete.position_intent) == (True, None)
    assert (by_order.by_position, by_order.position_intent) == (False, "buy_to_close")


def sent(id_, side="sell", qty="100", at=0, kind="market", symbol="AMD", status="filled"):
    return Order(id_, f"broker-{id_}", symbol, side, Decimal(qty), Decimal(qty), Decimal("140"), kind, status,
                 NOON + timedelta(seconds=at), NOON + timedelta(seconds=at), None)


def claimed(**fields):
    values = dict(id=7, account_name="a", symbol="AMD", ticker="AMD", instrument_type="STOCK",
                  strategy_type="swing_trade", side="long", quantity=Decimal(100), entry_price=Decimal(150),
                  entry_time=NOON - timedelta(hours=1), status="closing", close_client_order_id="pmctl-a-7-0",
                  close_quantity=Decimal(100), close_submitted_at=NOON)
    values.update(fields)
    return Row(**values)


def test_a_delete_close_is_recognised_by_symbol_reducing_side_and_claim_time():
    """No client order id comes back from DELETE /v2/positions: the order is what it must be, or nothing."""
    others = [sent("before", at=-5), sent("buy", side="buy"), sent("limit", kind="limit"),
              sent("spy", symbol="SPY"), sent("stop", kind="market")]
    row = claimed(stop_order_id="stop")
    assert closing.sent_by_position(row, others, None) is None
    assert closing.sent_by_position(row, [*others, sent("ours", at=1)], None).id == "ours"
    short = claimed(side="short")
    assert closing.sent_by_position(short, [sent("sell"), sent("cover", side="buy", at=2)], None).id == "cover"


def test_of_several_candidates_the_claimed_quantity_comes_first_then_the_earliest():
    row = claimed(close_quantity=Decimal(60))
    hand, ours, later = sent("hand", qty="40", at=1), sent("ours", qty="60", at=2), sent("later", qty="60", at=3)
    assert closing.sent_by_position(row, [later, hand, ours], None).id == "ours"
    assert closing.sent_by_position(row, [later, hand], None).id == "later"
    assert closing.sent_by_position(claimed(close_quantity=Decimal(10)), [later, hand], None).id == "hand"


def test_the_lookup_starts_just_before_the_claim():
    assert closing.lookup_start(claimed()) == NOON - closing.LOOKUP_MARGIN
