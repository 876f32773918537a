"""Exit rules on plain data: which rule fires, at exactly which price or moment, and in which order.

February 2026: Monday the 16th is Presidents' Day, the 20th a Friday. Sessions
run 14:30-21:00 UTC (09:30-16:00 ET); the day after Thanksgiving closes 18:00 UTC.
"""

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmctl.core.market import Clock, Session
from pmctl.config import RuleDefaults
from pmctl.core.model import Row
from pmctl.core.exit_plan import derived_levels, plan_for, policy_of
from pmctl.core.vocabulary import Reason
from pmctl.core.rules import (
    Evaluation,
    Exit,
    calendar_window,
    evaluate,
)

UTC = timezone.utc
FRIDAY = date(2026, 2, 20)
PRESIDENTS_DAY = date(2026, 2, 16)
NO_DEFAULTS = RuleDefaults(
    stop_loss_percent=None,
    take_profit_percent=None,
    trailing_stop_percent=None,
    max_hold_minutes=None,
    day_trade_close_minutes=5,
    expiration_lead_days=1,
)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC)


ENTRY_TIME = at(date(2026, 2, 17), 15, 0)
TUESDAY_NOON = at(date(2026, 2, 17), 17, 0)


def rules(**changes) -> RuleDefaults:
    return replace(NO_DEFAULTS, **changes)


def stock(**changes) -> Row:
    fields = dict(
        id=1,
        account_name="a",
        symbol="GOOGL",
        ticker="GOOGL",
        instrument_type="STOCK",
        strategy_type="swing",
        side="long",
        quantity=Decimal(10),
        entry_price=Decimal(100),
        entry_time=ENTRY_TIME,
    )
    return Row(**{**fields, **changes})


def option(**changes) -> Row:
    fields = dict(
        symbol="GOOGL260220C00340000",
        instrument_type="CALL",
        quantity=Decimal(2),
        entry_price=Decimal("4.00"),
        expiration_date=FRIDAY,
    )
    return stock(**{**fields, **changes})


def clock(moment: datetime, is_open: bool = True, next_close: datetime | None = None) -> Clock:
    close = next_close or at(moment.date(), 21, 0)
    return Clock(timestamp=moment, is_open=is_open, next_open=at(moment.date() + timedelta(days=1), 14, 30),
                 next_close=close)


def session(day: date) -> Session:
    return Session(day=day, open=at(day, 14, 30), close=at(day, 21, 0))


def calendar(first: date, last: date, holidays: frozenset[date] = frozenset({PRESIDENTS_DAY})) -> tuple[Session, ...]:
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return tuple(session(day) for day in days if day.weekday() < 5 and day not in holidays)


FEBRUARY = calendar(date(2026, 2, 2), date(2026, 2, 27))


def check(row: Row, price: str, moment: datetime = TUESDAY_NOON, sessions: tuple[Session, ...] = FEBRUARY,
          defaults: RuleDefaults = NO_DEFAULTS, **clock_changes) -> Evaluation:
    return evaluate(row, Decimal(price), clock(moment, **clock_changes), sessions, plan(row, defaults))


def plan(row: Row, defaults: RuleDefaults = NO_DEFAULTS):
    return plan_for(row, policy_of(defaults))


def default_levels(side: str, entry: Decimal, defaults: RuleDefaults) -> tuple[Decimal | None, Decimal | None]:
    profile = policy_of(defaults).resolve("swing", "stock")
    stop, target = derived_levels(side, entry, profile, option=False)
    return (stop.price if stop else None, target.price if target else None)


def reasons(evaluation: Evaluation) -> list[str]:
    return [exit.reason for exit in evaluation.exits]


# stop_loss


def test_a_long_stops_at_or_below_its_stop():
    row = stock(stop_loss=Decimal(95))
    assert reasons(check(row, "95.01")) == []
    assert check(row, "95").exits == (Exit(Reason.STOP_LOSS, "price 95.00 at or below stop 95.00"),)
    assert reasons(check(row, "80")) == [Reason.STOP_LOSS]


def test_a_short_stops_at_or_above_its_stop():
    row = stock(side="short", stop_loss=Decimal(105))
    assert reasons(check(row, "104.99")) == []
    assert check(row, "105").exits == (Exit(Reason.STOP_LOSS, "price 105.00 at or above stop 105.00"),)
    assert reasons(check(row, "130")) == [Reason.STOP_LOSS]


def test_the_default_stop_is_derived_from_the_entry_price_of_a_long():
    row = option(entry_price=Decimal("5.20"))
    evaluation = check(row, "4.00", defaults=rules(stop_loss_percent=Decimal(20)))
    assert evaluation.stop_loss == Decimal("4.16")
    assert evaluation.exits == (Exit(Reason.STOP_LOSS, "price 4.00 at or below stop 4.16"),)
    assert reasons(check(row, "4.17", defaults=rules(stop_loss_percent=Decimal(20)))) == []


def test_the_default_stop_of_a_short_is_above_its_entry():
    defaults = rules(stop_loss_percent=Decimal(20))
    row = stock(side="short")
    assert check(row, "119.99", defaults=defaults).stop_loss == Decimal(120)
    assert reasons(check(row, "119.99", defaults=defaults)) == []
    assert reasons(check(row, "120", defaults=defaults)) == [Reason.STOP_LOSS]


def test_a_rows_own_stop_wins_over_the_default():
    evaluation = check(stock(stop_loss=Decimal(90)), "94", defaults=rules(stop_loss_percent=Decimal(5)))
    assert evaluation.stop_loss == Decimal(90)
    assert evaluation.exits == ()


def test_without_a_stop_a_long_rides_all_the_way_down():
    evaluation = check(stock(), "0.01")
    assert evaluation.stop_loss is None
    assert evaluation.exits == ()


def test_derived_levels_are_rounded_half_up_to_what_the_ledger_stores():
    defaults = rules(stop_loss_percent=Decimal("2.5"), take_profit_percent=Decimal("2.5"))
    assert default_levels("long", Decimal("33.37"), defaults) == (Decimal("32.5357"), Decimal("34.2043"))
    assert default_levels("short", Decimal("33.37"), defaults) == (Decimal("34.2043"), Decimal("32.5357"))
    assert check(stock(entry_price=Decimal("33.37")), "32.5357", defaults=defaults).first.reason == Reason.STOP_LOSS


# take_profit


def test_a_long_takes_profit_at_or_above_its_target():
    row = stock(take_profit=Decimal(120))
    assert reasons(check(row, "119.99")) == []
    assert check(row, "120").exits == (Exit(Reason.TAKE_PROFIT, "price 120.00 at or above target 120.00"),)


def test_a_short_takes_profit_at_or_below_its_target():
    row = stock(side="short", take_profit=Decimal(80))
    assert reasons(check(row, "80.01")) == []
    assert check(row, "80").exits == (Exit(Reason.TAKE_PROFIT, "price 80.00 at or below target 80.00"),)


def test_the_default_target_is_derived_from_the_entry_price():
    defaults = rules(take_profit_percent=Decimal(50))
    assert check(option(), "5.99", defaults=defaults).take_profit == Decimal("6.00")
    assert reasons(check(option(), "5.99", defaults=defaults)) == []
    assert reasons(check(option(), "6.00", defaults=defaults)) == [Reason.TAKE_PROFIT]
    short = option(side="short")
    assert check(short, "2.00", defaults=defaults).take_profit == Decimal("2.00")
    assert reasons(check(short, "2.00", defaults=defaults)) == [Reason.TAKE_PROFIT]
    assert reasons(check(short, "2.01", defaults=defaults)) == []


def test_a_rows_own_target_wins_over_the_default():
    evaluation = check(stock(take_profit=Decimal(130)), "115", defaults=rules(take_profit_percent=Decimal(10)))
    assert evaluation.take_profit == Decimal(130)
    assert evaluation.exits == ()


def test_a_short_has_no_default_target_at_or_below_zero():
    defaults = rules(take_profit_percent=Decimal(100))
    assert default_levels("short", Decimal("4.00"), defaults) == (None, None)
    assert default_levels("long", Decimal("4.00"), defaults) == (None, Decimal("8.00"))
    evaluation = check(option(side="short"), "0.00", defaults=defaults)
    assert evaluation.take_profit is None
    assert evaluation.exits == ()


# trailing_stop


def ratchet(row: Row, prices: list[str], defaults: RuleDefaults = NO_DEFAULTS) -> list[Evaluation]:
    """Evaluate cycle after cycle, storing each cycle's peak and stop on the row as the caller does."""
    evaluations = []
    for price in prices:
        evaluation = check(row, price, defaults=defaults)
        evaluations.append(evaluation)
        row = replace(row, peak_price=evaluation.peak_price, trailing_stop_price=evaluation.trailing_stop_price)
    return evaluations


def test_a_longs_trailing_stop_follows_the_peak_up_and_never_down():
    evaluations = ratchet(stock(trailing_stop_percent=Decimal(10)), ["105", "120", "110", "108.01", "108"])
    assert [e.peak_price for e in evaluations] == [Decimal(n) for n in (105, 120, 120, 120, 120)]
    assert [e.trailing_stop_price for e in evaluations] == [Decimal(n) for n in ("94.5", 108, 108, 108, 108)]
    assert [reasons(e) for e in evaluations] == [[], [], [], [], [Reason.TRAILING_STOP]]
    assert evaluations[-1].first == Exit(
        Reason.TRAILING_STOP, "price 108.00 at or below trailing stop 108.00 (10% under peak 120.00)"
    )


def test_a_shorts_trailing_stop_follows_the_low_down_and_never_up():
    evaluations = ratchet(stock(side="short", trailing_stop_percent=Decimal(10)), ["95", "80", "85", "87.99", "88"])
    assert [e.peak_price for e in evaluations] == [Decimal(n) for n in (95, 80, 80, 80, 80)]
    assert [e.trailing_stop_price for e in evaluations] == [Decimal(n) for n in ("104.5", 88, 88, 88, 88)]
    assert [reasons(e) for e in evaluations] == [[], [], [], [], [Reason.TRAILING_STOP]]
    assert evaluations[-1].first == Exit(
        Reason.TRAILING_STOP, "price 88.00 at or above trailing stop 88.00 (10% above low 80.00)"
    )


def test_the_trail_starts_from_the_entry_price():
    row = stock(trailing_stop_percent=Decimal(10))
    assert reasons(check(row, "90.01")) == []
    evaluation = check(row, "90")
    assert (evaluation.peak_price, evaluation.trailing_stop_price) == (Decimal(100), Decimal(90))
    assert reasons(evaluation) == [Reason.TRAILING_STOP]


def test_the_default_trailing_percent_applies_unless_the_row_has_its_own():
    defaults = rules(trailing_stop_percent=Decimal(10))
    inherited = check(stock(), "95", defaults=defaults)
    assert (inherited.trailing_stop_percent, inherited.trailing_stop_price, inherited.exits) == (Decimal(10), 90, ())
    own = check(stock(trailing_stop_percent=Decimal(5)), "95", defaults=defaults)
    assert (own.trailing_stop_percent, own.trailing_stop_price, reasons(own)) == (Decimal(5), 95, [Reason.TRAILING_STOP])


def test_without_a_trailing_percent_there_is_no_trail_to_store():
    evaluation = check(stock(peak_price=Decimal(200)), "100")
    assert (evaluation.trailing_stop_percent, evaluation.peak_price, evaluation.trailing_stop_price) == (None,) * 3
    assert evaluation.exits == ()


def test_an_options_trailing_stop_is_on_the_premium_rounded_to_four_places():
    long = check(option(entry_price=Decimal("4.37"), trailing_stop_percent=Decimal("7.5")), "4.37")
    short = check(option(side="short", entry_price=Decimal("4.37"), trailing_stop_percent=Decimal("7.5")), "4.37")
    assert long.trailing_stop_price == Decimal("4.0422")  # 4.37 - 0.32775 rounded to 0.3278
    assert short.trailing_stop_price == Decimal("4.6978")
    assert reasons(check(option(entry_price=Decimal("4.37"), trailing_stop_percent=Decimal("7.5")), "4.0422")) == [
        Reason.TRAILING_STOP
    ]


# day_trade_close


def test_a_day_trade_closes_five_minutes_before_the_close():
    row = option(strategy_type="day_trade")
    assert reasons(check(row, "4.00", at(date(2026, 2, 17), 20, 54, 59))) == []
    evaluation = check(row, "4.00", at(date(2026, 2, 17), 20, 55))
    assert evaluation.exits == (
        Exit(Reason.DAY_TRADE_CLOSE, "day trade within 5 minutes of the 2026-02-17 21:00 UTC close"),
    )


def test_an_early_close_pulls_day_trades_out_early():
    thanksgiving_friday = date(2026, 11, 27)
    early = at(thanksgiving_friday, 18, 0)
    row = stock(strategy_type="day_trade", entry_time=at(thanksgiving_friday, 15, 0))
    assert reasons(check(row, "100", at(thanksgiving_friday, 17, 54, 59), next_close=early)) == []
    assert reasons(check(row, "100", at(thanksgiving_friday, 17, 55), next_close=early)) == [Reason.DAY_TRADE_CLOSE]


def test_the_day_trade_lead_is_configurable():
    row = stock(strategy_type="day_trade")
    defaults = rules(day_trade_close_minutes=15)
    assert reasons(check(row, "100", at(date(2026, 2, 17), 20, 44, 59), defaults=defaults)) == []
    assert reasons(check(row, "100", at(date(2026, 2, 17), 20, 45), defaults=defaults)) == [Reason.DAY_TRADE_CLOSE]


def test_no_day_trade_close_while_the_market_is_closed_or_for_other_strategies():
    late = at(date(2026, 2, 17), 20, 58)
    assert reasons(check(stock(strategy_type="day_trade"), "100", late, is_open=False)) == []
    assert reasons(check(stock(strategy_type="swing"), "100", late)) == []


# max_hold_time


def test_a_position_is_closed_once_held_for_its_maximum():
    row = stock(max_hold_minutes=60)
    assert reasons(check(row, "100", ENTRY_TIME + timedelta(minutes=59, seconds=59))) == []
    evaluation = check(row, "100", ENTRY_TIME + timedelta(minutes=60))
    assert evaluation.exits == (Exit(Reason.MAX_HOLD_TIME, "held 60 minutes, limit 60"),)


def test_the_default_hold_limit_applies_unless_the_row_has_its_own():
    defaults = rules(max_hold_minutes=60)
    two_hours = ENTRY_TIME + timedelta(minutes=120)
    assert reasons(check(stock(), "100", two_hours, defaults=defaults)) == [Reason.MAX_HOLD_TIME]
    assert reasons(check(stock(max_hold_minutes=180), "100", two_hours, defaults=defaults)) == []


def test_without_a_hold_limit_a_position_is_held_indefinitely():
    assert reasons(check(stock(), "100", ENTRY_TIME + timedelta(days=400))) == []


# expiration_risk


def test_lead_one_fires_from_the_open_of_the_last_session_before_expiry():
    sessions = calendar(date(2026, 2, 17), FRIDAY)
    assert reasons(check(option(), "4.00", TUESDAY_NOON, sessions)) == []
    assert reasons(check(option(), "4.00", at(date(2026, 2, 19), 14, 29, 59), sessions)) == []
    evaluation = check(option(), "4.00", at(date(2026, 2, 19), 14, 30), sessions)
    assert evaluation.exits == (
        Exit(Reason.EXPIRATION_RISK, "expires 2026-02-20; exits from the 2026-02-19 session, open since 2026-02-19 14:30 UTC"),
    )


def test_a_holiday_before_expiry_moves_the_exit_a_session_earlier():
    sessions = calendar(date(2026, 2, 17), FRIDAY, holidays=frozenset({PRESIDENTS_DAY, date(2026, 2, 19)}))
    assert reasons(check(option(), "4.00", at(date(2026, 2, 18), 14, 29, 59), sessions)) == []
    assert reasons(check(option(), "4.00", at(date(2026, 2, 18), 14, 30), sessions)) == [Reason.EXPIRATION_RISK]


def test_a_weekend_and_a_holiday_before_expiry_reach_back_to_friday():
    tuesday_expiry = option(expiration_date=date(2026, 2, 17))
    sessions = calendar(date(2026, 2, 12), date(2026, 2, 17))
    assert reasons(check(tuesday_expiry, "4.00", at(date(2026, 2, 12), 21, 0), sessions)) == []
    assert reasons(check(tuesday_expiry, "4.00", at(date(2026, 2, 13), 14, 30), sessions)) == [Reason.EXPIRATION_RISK]


def test_a_monday_expiry_fires_from_fridays_open_not_thursdays():
    monday_expiry = option(expiration_date=date(2026, 2, 23))
    sessions = calendar(date(2026, 2, 19), date(2026, 2, 23))
    assert reasons(check(monday_expiry, "4.00", at(date(2026, 2, 19), 20, 0), sessions)) == []
    assert reasons(check(monday_expiry, "4.00", at(date(2026, 2, 20), 14, 30), sessions)) == [Reason.EXPIRATION_RISK]


@pytest.mark.parametrize(
    ("lead", "first_day"),
    [(0, FRIDAY), (1, date(2026, 2, 19)), (2, date(2026, 2, 18)), (3, date(2026, 2, 17)), (4, date(2026, 2, 13))],
)
def test_the_lead_counts_trading_sessions_back_from_expiry(lead, first_day):
    sessions = calendar(date(2026, 2, 12), FRIDAY)
    defaults = rules(expiration_lead_days=lead)
    assert reasons(check(option(), "4.00", at(first_day, 14, 29, 59), sessions, defaults)) == []
    assert reasons(check(option(), "4.00", at(first_day, 14, 30), sessions, defaults)) == [Reason.EXPIRATION_RISK]


@pytest.mark.parametrize("lead", [0, 1, 3])
@pytest.mark.parametrize("today", [date(2026, 2, 21), date(2026, 2, 23)])
def test_expiration_risk_keeps_firing_after_the_expiration_date(lead, today):
    sessions = calendar(today, today)
    defaults = rules(expiration_lead_days=lead)
    assert reasons(check(option(), "0.01", at(today, 15, 0), sessions, defaults)) == [Reason.EXPIRATION_RISK]


def test_fewer_sessions_left_than_the_lead_fires_at_once():
    sessions = calendar(date(2026, 2, 19), FRIDAY)
    evaluation = check(option(), "4.00", at(date(2026, 2, 19), 12, 0), sessions, rules(expiration_lead_days=3))
    assert evaluation.exits == (Exit(Reason.EXPIRATION_RISK, "expires 2026-02-20, less than 3 trading session(s) to go"),)


def test_an_expiry_beyond_the_calendar_window_never_fires_without_a_calendar():
    far = option(expiration_date=date(2026, 2, 17) + timedelta(days=13))
    assert calendar_window([far], date(2026, 2, 17), 1) is None
    assert reasons(check(far, "4.00", TUESDAY_NOON, ())) == []


def test_an_evening_market_date_a_day_behind_utc_never_fires_an_unfetched_expiry():
    evening = at(date(2026, 2, 18), 2, 0)  # 21:00 ET on the 17th
    row = option(expiration_date=date(2026, 3, 2))
    assert calendar_window([row], date(2026, 2, 17), 1) is None
    assert reasons(check(row, "4.00", evening, ())) == []


def test_a_stock_has_no_expiration_risk():
    assert reasons(check(stock(), "100", at(FRIDAY, 20, 0), calendar(date(2026, 2, 17), FRIDAY))) == []


# calendar_window


def test_no_calendar_is_fetched_without_a_near_option():
    today = date(2026, 2, 2)
    assert calendar_window([], today, 1) is None
    assert calendar_window([stock(), stock(id=2)], today, 1) is None
    assert calendar_window([option(expiration_date=today + timedelta(days=13))], today, 1) is None


def test_the_window_runs_from_today_to_the_latest_expiry_in_reach():
    today = date(2026, 2, 2)
    rows = [
        stock(),
        option(expiration_date=today + timedelta(days=3)),
        option(expiration_date=today + timedelta(days=12)),
        option(expiration_date=today + timedelta(days=13)),
    ]
    assert calendar_window(rows, today, 1) == (today, today + timedelta(days=12))
    assert calendar_window(rows, today, 0) == (today, today + timedelta(days=3))
    assert calendar_window(rows, today, 2) == (today, today + timedelta(days=13))


def test_an_already_expired_option_still_asks_for_a_valid_range():
    today = date(2026, 2, 23)
    assert calendar_window([option()], today, 1) == (today, today)


holiday_sets = st.sets(st.integers(min_value=0, max_value=60), max_size=4)


@given(
    today=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    hour=st.integers(min_value=0, max_value=23),
    lead=st.integers(min_value=0, max_value=15),
    offset=st.integers(min_value=-5, max_value=50),
    holidays=holiday_sets,
    market_date_behind=st.booleans(),
)
def test_the_fetched_window_decides_as_a_complete_calendar_would(
    today, hour, lead, offset, holidays, market_date_behind
):
    """Whatever the caller fetches (nothing for a far expiry) gives the answer the whole calendar gives.

    The caller may reckon today as the market's date, a day behind UTC in the evening.
    """
    closed = frozenset(today + timedelta(days=n) for n in holidays)
    whole = calendar(today - timedelta(days=30), today + timedelta(days=90), holidays=closed)
    row = option(expiration_date=today + timedelta(days=offset))
    now = at(today, hour)
    caller_today = today - timedelta(days=1) if market_date_behind and hour < 5 else today
    window = calendar_window([row], caller_today, lead)
    fetched = tuple(s for s in whole if window and window[0] <= s.day <= window[1])
    defaults = rules(expiration_lead_days=lead)

    fired = Reason.EXPIRATION_RISK in reasons(evaluate(row, Decimal(4), clock(now, is_open=False), fetched, plan(row, defaults)))

    assert fired == (now >= trigger(row.expiration_date, whole, lead).open)


def trigger(expiry: date, sessions: tuple[Session, ...], lead: int) -> Session:
    on_day = [s for s in sessions if s.day == expiry]
    before = [s for s in sessions if s.day < expiry]
    return on_day[0] if lead == 0 and on_day else before[-max(lead, 1)]


# priority


def test_every_rule_that_fires_is_reported_in_priority_order():
    friday_close = at(FRIDAY, 20, 57)
    row = option(
        strategy_type="day_trade",
        stop_loss=Decimal("3.00"),
        trailing_stop_percent=Decimal(10),
        peak_price=Decimal("5.00"),
        max_hold_minutes=60,
    )
    evaluation = check(row, "2.50", friday_close, calendar(date(2026, 2, 17), FRIDAY))
    assert reasons(evaluation) == [Reason.STOP_LOSS, Reason.TRAILING_STOP, Reason.DAY_TRADE_CLOSE, Reason.EXPIRATION_RISK, Reason.MAX_HOLD_TIME]
    assert evaluation.first.reason == Reason.STOP_LOSS


def test_take_profit_outranks_the_trail_the_calendar_and_the_clock():
    row = option(take_profit=Decimal("6.00"), trailing_stop_percent=Decimal(10), peak_price=Decimal("8.00"),
                 max_hold_minutes=60)
    evaluation = check(row, "6.50", at(date(2026, 2, 19), 15, 0), calendar(date(2026, 2, 17), FRIDAY))
    assert reasons(evaluation) == [Reason.TAKE_PROFIT, Reason.TRAILING_STOP, Reason.EXPIRATION_RISK, Reason.MAX_HOLD_TIME]
    assert evaluation.first.reason == Reason.TAKE_PROFIT


def test_nothing_fires_means_hold():
    evaluation = check(stock(stop_loss=Decimal(90), take_profit=Decimal(110), max_hold_minutes=600), "100")
    assert evaluation.exits == ()
    assert evaluation.first is None


# properties

cents = st.integers(min_value=1, max_value=1_000_000).map(lambda n: Decimal(n) / 100)
percents = st.integers(min_value=1, max_value=5000).map(lambda n: Decimal(n) / 100)


@given(entry=cents, percent=percents, prices=st.lists(cents, min_size=1, max_size=20), short=st.booleans())
def test_the_peak_and_the_trailing_stop_only_ever_move_in_the_positions_favour(entry, percent, prices, short):
    row = stock(side="short" if short else "long", entry_price=entry, trailing_stop_percent=percent)
    evaluations = ratchet(row, [str(price) for price in prices])
    peaks = [entry] + [e.peak_price for e in evaluations]
    stops = [e.trailing_stop_price for e in evaluations]
    favour = (lambda a, b: a >= b) if short else (lambda a, b: a <= b)
    assert all(favour(earlier, later) for earlier, later in zip(peaks, peaks[1:]))
    assert all(favour(earlier, later) for earlier, later in zip(stops, stops[1:]))


@given(
    entry=cents,
    stop=percents.filter(lambda p: p < 100),
    target=percents.filter(lambda p: p < 100),
    fraction=st.integers(min_value=1, max_value=1999),
)
def test_a_long_and_its_mirror_short_stop_and_take_profit_alike(entry, stop, target, fraction):
    defaults = rules(stop_loss_percent=stop, take_profit_percent=target)
    price = (entry * fraction / 1000).quantize(Decimal("0.0001"))
    mirror = 2 * entry - price
    long_row, short_row = stock(entry_price=entry), stock(side="short", entry_price=entry)
    long = evaluate(long_row, price, clock(TUESDAY_NOON), (), plan(long_row, defaults))
    short = evaluate(short_row, mirror, clock(TUESDAY_NOON), (), plan(short_row, defaults))
    assert reasons(long) == reasons(short)
    assert long.stop_loss + short.stop_loss == 2 * entry
    assert long.take_profit + short.take_profit == 2 * entry
