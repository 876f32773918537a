"""Every exit rule, decided for one open position at its current price, from its exit plan.

All rules are checked every cycle and every one that fires is reported, so the
operator sees the whole picture (``pmctl plan``); the position is closed once,
for the first full exit in this order: the price rules first because they name
the level the desk chose, then the calendar's, the hold-time limit, and last a
scale-out, which sells part and lets the rest ride. Inside the profile's
minimum hold the price rules wait, unless the loss reaches its catastrophic
level; the calendar and the clock never wait.

Levels derived here are rounded the way the ledger stores them (four places,
half away from zero, as PostgreSQL rounds), and the rule compares against the
rounded level, so what the operator reads in the table is what was checked.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from pmctl.core.exit_plan import ExitPlan, Level, away
from pmctl.core.market import Clock, Session, utc_text
from pmctl.core.model import Row
from pmctl.core.numbers import num, stored
from pmctl.core.policy import ExpiryStep
from pmctl.core.vocabulary import Reason

_CENTS = Decimal("0.01")
_PRICE_RULES = frozenset({Reason.STOP_LOSS, Reason.TAKE_PROFIT, Reason.TRAILING_STOP, Reason.SCALE_OUT})


@dataclass(frozen=True)
class Exit:
    """A rule that fired: ``reason`` goes to ``close_reason``, ``text`` to the operator: the ``detail`` of what
    happened and the ``source`` of the level it crossed (the policy's profile, the execution, the operator)."""

    reason: str
    detail: str
    source: str = field(default="", compare=False)

    @property
    def text(self) -> str:
        return f"{self.detail}: {self.source}" if self.source else self.detail


@dataclass(frozen=True)
class Check:
    """One rule as ``pmctl plan`` shows it: its level, where that came from, and what it says now."""

    reason: Reason
    level: str
    source: str
    fired: Exit | None
    note: str = ""


@dataclass(frozen=True)
class ScaleOut:
    """Sell ``quantity`` now: the ladder's step ``step`` (counted from 1) is reached."""

    step: int
    quantity: Decimal
    exit: Exit


@dataclass(frozen=True)
class Evaluation:
    """The verdict on one row, and the trailing-stop state to store for the next cycle.

    ``stop_loss`` and ``take_profit`` are the levels in force; the trailing
    fields are None where no trailing stop applies.
    """

    exits: tuple[Exit, ...]
    scale_out: ScaleOut | None
    checks: tuple[Check, ...]
    stop_loss: Decimal | None
    take_profit: Decimal | None
    trailing_stop_percent: Decimal | None
    peak_price: Decimal | None
    trailing_stop_price: Decimal | None

    @property
    def first(self) -> Exit | None:
        """The full exit the close is sent for; None means hold (or only scale out)."""
        return self.exits[0] if self.exits else None

    @property
    def next(self) -> Check | None:
        """The first rule that fires now, else the first with a level: what ``status`` shows as the next exit."""
        fired = [check for check in self.checks if check.fired is not None]
        return (fired or [check for check in self.checks if check.level])[0] if self.checks else None


@dataclass(frozen=True)
class _Trail:
    percent: Level
    peak: Decimal
    stop: Decimal | None


def evaluate(row: Row, price: Decimal, clock: Clock, sessions: tuple[Session, ...], plan: ExitPlan,
             underlying_price: Decimal | None = None, waits: str = "") -> Evaluation:
    """Check every rule for ``row`` at ``price`` under ``plan``.

    ``sessions`` is the broker calendar for the range ``calendar_window`` asked for; ``underlying_price`` the
    last trade of an option's underlying, where the plan has underlying levels. ``waits``: why the price rules
    may not act this cycle whatever the price (a quote that cannot be used), as inside the minimum hold; the
    calendar's rules and the clock's still do.
    """
    profit = _profit_percent(row, price)
    held = clock.timestamp - row.entry_time
    waiting = waits or _minimum_hold(plan, held, profit)
    trail = _trail(row, price, plan)
    checks = [
        _level_check(Reason.STOP_LOSS, "stop", plan.stop, row, price, against=True),
        _underlying_check(Reason.STOP_LOSS, "underlying stop", plan.underlying_stop, row, underlying_price, True),
        _level_check(Reason.TAKE_PROFIT, "target", plan.target, row, price, against=False),
        _underlying_check(Reason.TAKE_PROFIT, "underlying target", plan.underlying_target, row, underlying_price,
                          False),
        _trailing_check(row, price, trail, plan),
        _day_trade_close(row, clock, plan),
        *_expiration_risk(row, clock, sessions, plan, profit),
        _max_hold_time(clock, held, plan),
    ]
    checks = [check for check in checks if check is not None]
    if waiting:
        checks = [_held_back(check, waiting) if check.reason in _PRICE_RULES else check for check in checks]
    scale = None if waiting else _scale_out(row, price, profit, plan)
    if scale is not None:
        step = plan.profile.scale_out[scale.step - 1]
        checks.append(Check(Reason.SCALE_OUT, f"+{num(step.at_profit_percent)}%",
                            plan.profile.source_text("scale_out"), scale.exit))
    return Evaluation(
        exits=tuple(check.fired for check in checks if check.fired is not None and check.reason != Reason.SCALE_OUT),
        scale_out=scale,
        checks=tuple(checks),
        stop_loss=plan.stop.price if plan.stop else None,
        take_profit=plan.target.price if plan.target else None,
        trailing_stop_percent=trail.percent.price if trail else None,
        peak_price=trail.peak if trail else None,
        trailing_stop_price=trail.stop if trail else None,
    )


def expiry_lead(plans: Iterable[ExitPlan]) -> int:
    """The most sessions before an expiry that any row's expiry rule looks: how far the calendar must reach."""
    return max((step.days_to_expiry for plan in plans for step in plan.profile.expiry), default=0)


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


def rederived(level: Decimal | None, old_entry: Decimal, new_entry: Decimal) -> Decimal | None:
    """A level derived as a percent of ``old_entry``, the same percent away from ``new_entry``.

    The distance is rounded as the ledger stores it, as ``default_levels`` rounds it.
    """
    if level is None or old_entry == 0:
        return level
    return new_entry + stored((level - old_entry) * new_entry / old_entry)


def _profit_percent(row: Row, price: Decimal) -> Decimal:
    if not row.entry_price:
        return Decimal(0)
    move = row.entry_price - price if row.is_short else price - row.entry_price
    return move / row.entry_price * 100


def _minimum_hold(plan: ExitPlan, held: timedelta, profit: Decimal) -> str:
    """Why the price rules wait (the profile's minimum hold, not lifted by a catastrophic loss), or ''."""
    minimum = plan.profile.min_hold_minutes
    if not minimum or held >= timedelta(minutes=minimum):
        return ""
    catastrophic = plan.profile.catastrophic_loss_percent
    if catastrophic is not None and -profit >= catastrophic:
        return ""
    lifted = f"; a loss of {num(catastrophic)}% lifts it" if catastrophic is not None else ""
    return (f"held {held // timedelta(minutes=1)} of the {minimum} minutes' minimum hold from "
            f"{plan.profile.source_text('min_hold_minutes')}{lifted}")


def _held_back(check: Check, why: str) -> Check:
    note = f"would fire ({check.fired.detail}) but waits: {why}" if check.fired else f"waits: {why}"
    return Check(check.reason, check.level, check.source, None, note)


def _level_check(reason: Reason, name: str, level: Level | None, row: Row, price: Decimal,
                 against: bool) -> Check | None:
    if level is None:
        return None
    hit = _stopped(row, price, level.price) if against else _reached(row, price, level.price)
    word = _worse_word(row) if against else ("below" if row.is_short else "above")
    fired = Exit(reason, f"price {_money(price)} at or {word} {name} {_money(level.price)}", level.source)
    return Check(reason, _money(level.price), level.source, fired if hit else None)


def _underlying_check(reason: Reason, name: str, level: Level | None, row: Row, price: Decimal | None,
                      against: bool) -> Check | None:
    """An option's level on its underlying: a long call (or short put) gains as the underlying rises."""
    if level is None:
        return None
    if price is None:
        return Check(reason, _money(level.price), level.source, None, f"no price for {row.ticker} this cycle")
    rising = (row.instrument_type == "CALL") != row.is_short
    below = against == rising  # a rising position's stop, and a falling one's target, lie below
    hit = price <= level.price if below else price >= level.price
    fired = Exit(reason, f"underlying {row.ticker} {_money(price)} at or {'below' if below else 'above'} {name} "
                         f"{_money(level.price)}", level.source)
    return Check(reason, f"{row.ticker} {_money(level.price)}", level.source, fired if hit else None)


def _trail(row: Row, price: Decimal, plan: ExitPlan) -> _Trail | None:
    """The best price seen so far (highest for a long, lowest for a short) and the stop it drags behind it,
    once the peak's profit reaches the profile's ``trailing_starts_at_profit_percent``."""
    percent = plan.trailing_percent
    if percent is None:
        return None
    start = row.peak_price if row.peak_price is not None else row.entry_price
    peak = stored(min(start, price) if row.is_short else max(start, price))
    if _profit_percent(row, peak) < plan.profile.trailing_starts_at_profit_percent:
        return _Trail(percent, peak, None)
    return _Trail(percent, peak, away(peak, percent.price, against=True, short=row.is_short))


def _trailing_check(row: Row, price: Decimal, trail: _Trail | None, plan: ExitPlan) -> Check | None:
    if trail is None:
        return None
    if trail.stop is None:
        starts = plan.profile.trailing_starts_at_profit_percent
        return Check(Reason.TRAILING_STOP, "", trail.percent.source, None,
                     f"starts once the position is up {num(starts)}% "
                     f"({plan.profile.source_text('trailing_starts_at_profit_percent')})")
    percent = _percent(trail.percent.price)
    side = f"{percent}% above low" if row.is_short else f"{percent}% under peak"
    fired = Exit(Reason.TRAILING_STOP, f"price {_money(price)} at or {_worse_word(row)} trailing stop "
                                       f"{_money(trail.stop)} ({side} {_money(trail.peak)})", trail.percent.source)
    return Check(Reason.TRAILING_STOP, _money(trail.stop), trail.percent.source,
                 fired if _stopped(row, price, trail.stop) else None)


def _stopped(row: Row, price: Decimal, stop: Decimal) -> bool:
    return price >= stop if row.is_short else price <= stop


def _reached(row: Row, price: Decimal, target: Decimal) -> bool:
    return price <= target if row.is_short else price >= target


def _worse_word(row: Row) -> str:
    return "above" if row.is_short else "below"


def _day_trade_close(row: Row, clock: Clock, plan: ExitPlan) -> Check | None:
    """Uses the broker's next close, so a half day's 13:00 close pulls day trades out early too."""
    minutes = plan.profile.day_trade_close_minutes
    if minutes is None:
        return None
    source = plan.profile.source_text("day_trade_close_minutes")
    level = f"{minutes} min before the close"
    if not clock.is_open or clock.timestamp < clock.next_close - timedelta(minutes=minutes):
        return Check(Reason.DAY_TRADE_CLOSE, level, source, None)
    return Check(Reason.DAY_TRADE_CLOSE, level, source, Exit(
        Reason.DAY_TRADE_CLOSE, f"day trade within {minutes} minutes of the {utc_text(clock.next_close)} close",
        source))


def _max_hold_time(clock: Clock, held: timedelta, plan: ExitPlan) -> Check | None:
    limit = plan.max_hold_minutes
    if limit is None:
        return None
    fired = Exit(Reason.MAX_HOLD_TIME, f"held {held // timedelta(minutes=1)} minutes, limit {limit}",
                 plan.max_hold_source)
    return Check(Reason.MAX_HOLD_TIME, f"{limit} min", plan.max_hold_source,
                 fired if held >= timedelta(minutes=limit) else None)


def _expiration_risk(row: Row, clock: Clock, sessions: tuple[Session, ...], plan: ExitPlan,
                     profit: Decimal) -> list[Check]:
    """One check per step of the profile's expiry rule; each fires from the open of the ``days_to_expiry``-th
    session before expiry (0: the expiry day's own open), unless the position is up its ``unless`` percent.

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
    if expiry is None:
        return []
    source = plan.profile.source_text("expiry")
    checks = []
    for step in plan.profile.expiry:
        level = f"{step.days_to_expiry} session(s) before {expiry}" + _unless_text(step)
        fired = _expiry_step(expiry, clock, sessions, step, profit, source)
        checks.append(Check(Reason.EXPIRATION_RISK, level, source, fired))
    return sorted(checks, key=lambda check: check.fired is None)


def _expiry_step(expiry: date, clock: Clock, sessions: tuple[Session, ...], step: ExpiryStep,
                 profit: Decimal, source: str) -> Exit | None:
    lead = step.days_to_expiry
    if expiry >= clock.market_date + timedelta(days=_reach_days(lead)):
        return None
    if step.unless_profit_percent is not None and profit >= step.unless_profit_percent:
        return None
    kept = (f"; up {num(stored(profit))}%, below the {num(step.unless_profit_percent)}% that would keep it"
            if step.unless_profit_percent is not None else "")
    trigger = _trigger_session(expiry, sessions, lead)
    if trigger is None:
        return Exit(Reason.EXPIRATION_RISK,
                    f"expires {expiry}, less than {max(lead, 1)} trading session(s) to go{kept}", source)
    if clock.timestamp < trigger.open:
        return None
    return Exit(Reason.EXPIRATION_RISK,
                f"expires {expiry}; exits from the {trigger.day} session, open since {utc_text(trigger.open)}{kept}",
                source)


def _unless_text(step: ExpiryStep) -> str:
    return "" if step.unless_profit_percent is None else f" unless up {num(step.unless_profit_percent)}%"


def _scale_out(row: Row, price: Decimal, profit: Decimal, plan: ExitPlan) -> ScaleOut | None:
    """The ladder's next step once the profit reaches it: ``sell_percent`` of the position as first held,
    whole contracts (and whole shares where the position is whole), never more than is held now."""
    ladder = plan.profile.scale_out
    if row.scale_out_done >= len(ladder):
        return None
    step = ladder[row.scale_out_done]
    if profit < step.at_profit_percent:
        return None
    whole = row.is_option or row.quantity == row.quantity.to_integral_value()
    first = row.original_quantity or row.quantity
    quantity = first * step.sell_percent / 100
    quantity = quantity.to_integral_value(rounding=ROUND_DOWN) if whole else stored(quantity)
    quantity = min(max(quantity, Decimal(1)), row.quantity)
    detail = (f"up {num(stored(profit))}% at {_money(price)}: step {row.scale_out_done + 1} of the ladder sells "
              f"{num(step.sell_percent)}% ({num(quantity)})")
    return ScaleOut(row.scale_out_done + 1, quantity, Exit(Reason.SCALE_OUT, detail,
                                                            plan.profile.source_text("scale_out")))


def _reach_days(lead_days: int) -> int:
    return 2 * lead_days + 10


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
