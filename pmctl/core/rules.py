"""Every exit rule, decided for one open position at its current broker price.

All rules are checked every cycle and every one that fires is reported, so the
operator sees the whole picture; the position is closed once, for the first.
Price rules come first because they name the level the desk chose, then the
rules about the calendar, and the hold-time limit last.

Levels derived here are rounded the way the ledger stores them (four places,
half away from zero, as PostgreSQL rounds), and the rule compares against the
rounded level, so what the operator reads in the table is what was checked. It
is the distance from the entry or the peak that is rounded, not the level, so a
long and its mirror short sit exactly the same distance away.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from pmctl.core.market import Clock, Session, utc_text
from pmctl.config import RuleDefaults
from pmctl.core.model import Row
from pmctl.core.numbers import stored
from pmctl.core.vocabulary import Reason, Side

_CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Exit:
    """A rule that fired: ``reason`` goes to ``close_reason``, ``detail`` to the operator."""

    reason: str
    detail: str


@dataclass(frozen=True)
class Evaluation:
    """The verdict on one row and the trailing-stop state to store for the next cycle.

    ``stop_loss`` and ``take_profit`` are the levels in force after defaults;
    the trailing fields are None where no trailing stop applies.
    """

    exits: tuple[Exit, ...]
    stop_loss: Decimal | None
    take_profit: Decimal | None
    trailing_stop_percent: Decimal | None
    peak_price: Decimal | None
    trailing_stop_price: Decimal | None

    @property
    def first(self) -> Exit | None:
        """The exit the close is sent for; None means hold."""
        return self.exits[0] if self.exits else None


@dataclass(frozen=True)
class Levels:
    """Stop and target derived from the defaults; None where no default is set."""

    stop_loss: Decimal | None
    take_profit: Decimal | None


@dataclass(frozen=True)
class _Trail:
    percent: Decimal
    peak: Decimal
    stop: Decimal


def evaluate(
    row: Row,
    price: Decimal,
    clock: Clock,
    sessions: tuple[Session, ...],
    defaults: RuleDefaults,
) -> Evaluation:
    """Check every rule for ``row`` at ``price``, in priority order.

    ``sessions`` is the broker calendar for the range ``calendar_window`` asked for.
    """
    levels = effective_levels(row, defaults)
    stop, target = levels.stop_loss, levels.take_profit
    trail = _trail(row, price, defaults)
    checks = (
        _stop_loss(row, price, stop),
        _take_profit(row, price, target),
        _trailing_stop(row, price, trail),
        _day_trade_close(row, clock, defaults),
        _expiration_risk(row, clock, sessions, defaults.expiration_lead_days),
        _max_hold_time(row, clock, defaults),
    )
    return Evaluation(
        exits=tuple(check for check in checks if check is not None),
        stop_loss=stop,
        take_profit=target,
        trailing_stop_percent=trail.percent if trail else None,
        peak_price=trail.peak if trail else None,
        trailing_stop_price=trail.stop if trail else None,
    )


def calendar_window(rows: Iterable[Row], today: date, lead_days: int) -> tuple[date, date] | None:
    """The broker calendar to fetch so ``evaluate`` can decide ``expiration_risk`` for every row.

    None when no option expires within reach, so a cycle with no near expiry
    costs no calendar request. Otherwise from ``today`` to the latest expiry in
    reach (never before ``today``, so an already expired row still makes a valid
    range).

    Reach is ``2 * lead_days + 10`` calendar days, and an expiry that far out or
    further cannot fire yet: the ``m >= 2 * lead_days + 9`` days strictly between
    today and it hold at least ``(5m - 10) / 7 >= lead_days + 3 * lead_days / 7 + 5``
    weekdays. That surplus of five sessions or more over ``lead_days`` is more
    than exchange holidays ever take out of such a span (Christmas, New Year's
    and a day of mourning within sixteen days; four days after 9/11), so the
    ``lead_days``-th session before the expiry lies after today and has not
    opened.
    """
    reach = today + timedelta(days=_reach_days(lead_days))
    near = [row.expiration_date for row in rows if row.expiration_date is not None and row.expiration_date <= reach]
    if not near:
        return None
    return today, max(max(near), today)


def effective_levels(row: Row, defaults: RuleDefaults) -> Levels:
    """The stop and target in force for a row: its own where it has them, else the defaults'."""
    levels = default_levels(row.side, row.entry_price, defaults)
    return Levels(row.stop_loss if row.stop_loss is not None else levels.stop_loss,
                  row.take_profit if row.take_profit is not None else levels.take_profit)


def default_levels(side: str, entry_price: Decimal, defaults: RuleDefaults) -> Levels:
    """The stop and target the defaults give a position entered at ``entry_price``.

    A short cannot gain below a price of zero, so a derived target there is no
    target at all.
    """
    short = side == Side.SHORT
    stop = target = None
    if defaults.stop_loss_percent is not None:
        stop = _away(entry_price, defaults.stop_loss_percent, against=True, short=short)
    if defaults.take_profit_percent is not None:
        target = _away(entry_price, defaults.take_profit_percent, against=False, short=short)
    return Levels(stop, None if short and target is not None and target <= 0 else target)


def rederived(level: Decimal | None, old_entry: Decimal, new_entry: Decimal) -> Decimal | None:
    """A level derived as a percent of ``old_entry``, the same percent away from ``new_entry``.

    The distance is rounded as the ledger stores it, as ``default_levels`` rounds it.
    """
    if level is None or old_entry == 0:
        return level
    return new_entry + stored((level - old_entry) * new_entry / old_entry)


def _reach_days(lead_days: int) -> int:
    return 2 * lead_days + 10


def _trail(row: Row, price: Decimal, defaults: RuleDefaults) -> _Trail | None:
    """The best price seen so far (highest for a long, lowest for a short) and the stop it drags behind it."""
    percent = row.trailing_stop_percent if row.trailing_stop_percent is not None else defaults.trailing_stop_percent
    if percent is None:
        return None
    start = row.peak_price if row.peak_price is not None else row.entry_price
    peak = stored(min(start, price) if row.is_short else max(start, price))
    return _Trail(percent, peak, _away(peak, percent, against=True, short=row.is_short))


def _away(base: Decimal, percent: Decimal, against: bool, short: bool) -> Decimal:
    """``base`` moved ``percent`` against the position (a stop) or in its favour (a target)."""
    distance = stored(base * percent / 100)
    below = against != short  # a long's stop and a short's target lie below the base
    return base - distance if below else base + distance


def _stop_loss(row: Row, price: Decimal, stop: Decimal | None) -> Exit | None:
    if stop is None or not _stopped(row, price, stop):
        return None
    return Exit(Reason.STOP_LOSS, f"price {_money(price)} at or {_worse_word(row)} stop {_money(stop)}")


def _take_profit(row: Row, price: Decimal, target: Decimal | None) -> Exit | None:
    if target is None or not _reached(row, price, target):
        return None
    better = "below" if row.is_short else "above"
    return Exit(Reason.TAKE_PROFIT, f"price {_money(price)} at or {better} target {_money(target)}")


def _trailing_stop(row: Row, price: Decimal, trail: _Trail | None) -> Exit | None:
    if trail is None or not _stopped(row, price, trail.stop):
        return None
    side = f"{_percent(trail.percent)}% above low" if row.is_short else f"{_percent(trail.percent)}% under peak"
    return Exit(
        Reason.TRAILING_STOP,
        f"price {_money(price)} at or {_worse_word(row)} trailing stop {_money(trail.stop)} "
        f"({side} {_money(trail.peak)})",
    )


def _stopped(row: Row, price: Decimal, stop: Decimal) -> bool:
    return price >= stop if row.is_short else price <= stop


def _reached(row: Row, price: Decimal, target: Decimal) -> bool:
    return price <= target if row.is_short else price >= target


def _worse_word(row: Row) -> str:
    return "above" if row.is_short else "below"


def _day_trade_close(row: Row, clock: Clock, defaults: RuleDefaults) -> Exit | None:
    """Uses the broker's next close, so a half day's 13:00 close pulls day trades out early too."""
    if row.strategy_type != "day_trade" or not clock.is_open:
        return None
    minutes = defaults.day_trade_close_minutes
    if clock.timestamp < clock.next_close - timedelta(minutes=minutes):
        return None
    return Exit(Reason.DAY_TRADE_CLOSE, f"day trade within {minutes} minutes of the {utc_text(clock.next_close)} close")


def _max_hold_time(row: Row, clock: Clock, defaults: RuleDefaults) -> Exit | None:
    limit = row.max_hold_minutes if row.max_hold_minutes is not None else defaults.max_hold_minutes
    if limit is None:
        return None
    held = clock.timestamp - row.entry_time
    if held < timedelta(minutes=limit):
        return None
    return Exit(Reason.MAX_HOLD_TIME, f"held {held // timedelta(minutes=1)} minutes, limit {limit}")


def _expiration_risk(row: Row, clock: Clock, sessions: tuple[Session, ...], lead_days: int) -> Exit | None:
    """Fires from the open of the ``lead_days``-th session before expiry (lead 0: expiry day's own open).

    An expiry beyond ``calendar_window``'s reach cannot fire, and its sessions
    were not fetched, so it is skipped before the calendar is consulted; both
    count from the clock's market date, so every row looked at here lies inside
    the window that was fetched.

    Too few sessions before the expiry means the trigger lies before the start
    of the calendar (it was fetched from today) or the expiry has passed: fire,
    since early is safe and late is not. An expiry that is not a trading day
    counts back from the last session before it, even with lead 0.
    """
    expiry = row.expiration_date
    today = clock.market_date
    if expiry is None or expiry >= today + timedelta(days=_reach_days(lead_days)):
        return None
    trigger = _trigger_session(expiry, sessions, lead_days)
    if trigger is None:
        return Exit(Reason.EXPIRATION_RISK, f"expires {expiry}, less than {max(lead_days, 1)} trading session(s) to go")
    if clock.timestamp < trigger.open:
        return None
    return Exit(
        Reason.EXPIRATION_RISK,
        f"expires {expiry}; exits from the {trigger.day} session, open since {utc_text(trigger.open)}",
    )


def _trigger_session(expiry: date, sessions: tuple[Session, ...], lead_days: int) -> Session | None:
    if lead_days == 0:
        for session in sessions:
            if session.day == expiry:
                return session
    before = [session for session in sessions if session.day < expiry]
    count = max(lead_days, 1)
    return before[-count] if len(before) >= count else None



def _money(value: Decimal) -> str:
    """Prices read as the desk writes them: at least cents, more places only where they matter."""
    normal = value.normalize()
    if normal.as_tuple().exponent < -2:
        return f"{normal:f}"
    return f"{value.quantize(_CENTS):f}"


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}"

