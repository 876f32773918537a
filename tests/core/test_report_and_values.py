"""The day's counts and the operator's numbers, over generated input."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import NOON
from pmctl.cli import values
from pmctl.core.report import Closed, Exit, daily_report
from pmctl.errors import UsageError
from test_plans import row


@given(st.lists(st.one_of(st.none(), st.integers(90, 110)), max_size=12))
def test_every_known_close_is_exactly_one_of_win_loss_or_break_even(exits):
    closed = [Closed(row(n, entry_price=Decimal(100)), None if price is None else Decimal(price), NOON, "stop_loss")
              for n, price in enumerate(exits, start=1)]
    report = daily_report(date(2026, 2, 3), ("a",), 0, closed)
    known = [price for price in exits if price is not None]
    assert report.wins + report.losses + report.break_even == len(known)
    assert report.break_even == known.count(100)
    decisive = [item for item in closed if item.exit_price != Decimal(100)]
    assert report.win_rate == daily_report(date(2026, 2, 3), ("a",), 0, decisive).win_rate


def test_a_break_even_day_has_no_win_rate():
    report = daily_report(date(2026, 2, 3), ("a",), 1, [Closed(row(1), Decimal(100), NOON + timedelta(hours=1), "x")])
    assert (report.wins, report.losses, report.break_even, report.win_rate) == (0, 0, 1, None)


NUMERIC_12_4 = Decimal("99999999.9999")


@given(st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"-?[0-9]{1,30}(\.[0-9]{1,8})?(e-?[0-9]{1,4})?", fullmatch=True),
    st.text(max_size=60),
))
def test_an_amount_is_accepted_only_if_numeric_12_4_holds_it_exactly(text):
    try:
        value = values.amount("--qty", text)
    except UsageError as refused:
        message = str(refused)
        assert message.startswith("--qty ") and len(message) < 120
        return
    assert value.is_finite() and abs(value) <= NUMERIC_12_4
    assert value == value.quantize(Decimal("0.0001"))


@pytest.mark.parametrize(("text", "expected"), [("90", 90), ("1e3", 1000), ("2147483647", 2**31 - 1)])
def test_minutes_as_whole_numbers_within_an_integer(text, expected):
    assert values.minutes("--max-hold-minutes", text) == expected


@pytest.mark.parametrize("text", ["2147483648", "1.5", "1e400", "inf"])
def test_minutes_an_integer_cannot_hold_are_refused(text):
    with pytest.raises(UsageError):
        values.minutes("--max-hold-minutes", text)


def test_slippage_is_what_a_fill_gave_up_against_its_trigger_for_a_long_and_a_short_alike():
    """A long sold under its trigger and a short bought back over it both gave up money; a fill better than the
    trigger is negative slippage; an exit with no trigger (a close by hand) is not measured."""
    long_, short = row(1, "SPY"), row(2, "QQQ", side="short")
    exits = [Exit(long_, Decimal(10), Decimal("99.50"), "stop_loss", Decimal(100)),
             Exit(short, Decimal(10), Decimal("101"), "stop_loss", Decimal(100)),
             Exit(long_, Decimal(5), Decimal("110.20"), "take_profit", Decimal(110)),
             Exit(short, Decimal(5), Decimal("90"), "forced_close")]
    lines = {line.reason: line for line in daily_report(NOON.date(), ("a",), 0, [], exits).by_reason}
    assert (lines["stop_loss"].slippage, lines["stop_loss"].slippage_percent) == (Decimal("15"), Decimal("0.75"))
    assert (lines["take_profit"].slippage, lines["take_profit"].slippage_percent) == (Decimal("-1"), Decimal("-0.18"))
    assert (lines["forced_close"].slippage, lines["forced_close"].slippage_percent) == (None, None)
