"""The close invariant: a close never opens or increases a position, whatever the plan asked for."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmctl.broker.types import Order, Position
from pmctl.core import closing
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
