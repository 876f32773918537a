"""P&L as the ledger stores it: signed by side, 100x for a contract, fitting NUMERIC(12,4) and (8,4)."""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmctl.core.model import Row
from pmctl.core.pnl import pnl

ENTRY_TIME = datetime(2026, 2, 17, 15, 0, tzinfo=timezone.utc)
CONTRACT = "GOOGL260220C00340000"


def stock(side="long", quantity="10", entry="100") -> Row:
    return Row(
        id=1,
        account_name="a",
        symbol="GOOGL",
        ticker="GOOGL",
        instrument_type="STOCK",
        strategy_type="swing",
        side=side,
        quantity=Decimal(quantity),
        entry_price=Decimal(entry),
        entry_time=ENTRY_TIME,
    )


def option(side="long", quantity="2", entry="4.00") -> Row:
    return Row(
        id=2,
        account_name="a",
        symbol=CONTRACT,
        ticker="GOOGL",
        instrument_type="CALL",
        strategy_type="swing",
        side=side,
        quantity=Decimal(quantity),
        entry_price=Decimal(entry),
        entry_time=ENTRY_TIME,
        expiration_date=date(2026, 2, 20),
    )


@pytest.mark.parametrize(
    ("row", "price", "expected"),
    [
        (stock("long"), "110", ("100.0000", "10.0000")),
        (stock("long"), "95", ("-50.0000", "-5.0000")),
        (stock("short"), "110", ("-100.0000", "-10.0000")),
        (stock("short"), "95", ("50.0000", "5.0000")),
        (option("long"), "5.00", ("200.0000", "25.0000")),
        (option("short"), "5.00", ("-200.0000", "-25.0000")),
        (option("short"), "1.00", ("600.0000", "75.0000")),
    ],
)
def test_pnl_is_signed_by_side_and_counts_the_contract_multiplier(row, price, expected):
    assert pnl(row, Decimal(price)) == (Decimal(expected[0]), Decimal(expected[1]))


def test_values_are_rounded_to_four_places_for_the_ledger():
    dollars, percent = pnl(stock(quantity="1", entry="3"), Decimal("4"))
    assert (dollars, percent) == (Decimal("1.0000"), Decimal("33.3333"))
    assert dollars.as_tuple().exponent == percent.as_tuple().exponent == -4


def test_rounding_is_half_away_from_zero_like_postgresql():
    assert pnl(stock(quantity="1", entry="1"), Decimal("1.00005"))[0] == Decimal("0.0001")
    assert pnl(stock(quantity="1", entry="1"), Decimal("0.99995"))[0] == Decimal("-0.0001")


def test_a_zero_entry_price_has_no_percent():
    assert pnl(option(entry="0"), Decimal("0.50")) == (Decimal("100.0000"), Decimal("0"))


def test_percent_is_clamped_to_what_numeric_8_4_holds():
    assert pnl(option(entry="0.01"), Decimal("12.00"))[1] == Decimal("9999.9999")
    assert pnl(option("short", entry="0.01"), Decimal("12.00"))[1] == Decimal("-9999.9999")
    assert pnl(option(entry="0.01"), Decimal("12.00"))[0] == Decimal("2398.0000")


prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=4)
quantities = st.integers(min_value=1, max_value=1000).map(Decimal)


@given(entry=prices, price=prices, quantity=quantities)
def test_a_short_makes_exactly_what_the_same_long_loses(entry, price, quantity):
    long = pnl(stock("long", quantity, entry), price)
    short = pnl(stock("short", quantity, entry), price)
    assert short == (-long[0], -long[1])


@given(entry=prices, price=prices, quantity=quantities, side=st.sampled_from(["long", "short"]))
def test_a_contract_moves_a_hundred_times_a_share(entry, price, quantity, side):
    shares = pnl(stock(side, quantity, entry), price)
    contracts = pnl(option(side, quantity, entry), price)
    assert contracts == (shares[0] * 100, shares[1])


@given(entry=prices, price=prices, quantity=quantities, side=st.sampled_from(["long", "short"]))
def test_percent_always_fits_numeric_8_4(entry, price, quantity, side):
    percent = pnl(option(side, quantity, entry), price)[1]
    assert abs(percent) <= Decimal("9999.9999")
    assert percent.as_tuple().exponent == -4
