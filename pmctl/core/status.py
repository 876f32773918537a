"""The open book as an operator reads it: each row beside what the broker holds."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pmctl.core import pricing, rules
from pmctl.core.exit_plan import ExitPlan, plan_for, plan_in
from pmctl.core.quotes import TriggerPrice
from pmctl.core.policy import Policy
from pmctl.core.market import hours_to_expiration
from pmctl.core.numbers import num
from pmctl.core.model import Row, Snapshot
from pmctl.core.pnl import pnl
from pmctl.core.vocabulary import PriceSource


@dataclass(frozen=True)
class Line:
    row: Row
    price: Decimal | None
    pnl_dollars: Decimal | None
    pnl_percent: Decimal | None
    stop_loss: Decimal | None
    take_profit: Decimal | None
    trailing_stop_price: Decimal | None
    hours_to_expiration: Decimal | None
    broker_qty: Decimal | None
    broker: str
    plan: str = ""
    next_exit: str = ""
    #: Where ``price`` came from (``bid``, ``ask``, ``mid``, ``pessimistic_mid``, ``last``), how many seconds old
    #: it is (None: the broker gave no time, as for a last trade), and why the quote was not used, if it was not.
    price_source: str | None = None
    price_age: Decimal | None = None
    quote_problem: str = ""


def lines(snapshot: Snapshot) -> list[Line]:
    return [_line(row, snapshot) for row in snapshot.rows]


def offline_lines(rows: tuple[Row, ...], now: datetime, policy: Policy) -> list[Line]:
    """The database's view alone, for when the broker cannot be asked."""
    result = []
    for row in rows:
        plan = plan_for(row, policy)
        dollars, percent = pnl(row, row.current_price) if row.current_price is not None else (None, None)
        result.append(Line(row, row.current_price, dollars, percent, _price(plan.stop), _price(plan.target),
                           row.trailing_stop_price,
                           hours_to_expiration(row.expiration_date, now), None, "not asked", plan_label(row, plan),
                           price_source=row.price_source, price_age=_age(row, now)))
    return result


def _line(row: Row, snapshot: Snapshot) -> Line:
    position = snapshot.position(row.symbol)
    price, waits, source, age, problem = _judged(row, position, snapshot)
    plan = plan_in(snapshot, row)
    if price is not None:
        evaluation = rules.evaluate(row, price, snapshot.clock, snapshot.sessions, plan,
                                    snapshot.underlying_price(row), waits=waits)
        dollars, percent = pnl(row, price)
        stop, target, trailing = evaluation.stop_loss, evaluation.take_profit, evaluation.trailing_stop_price
        upcoming = next_exit_text(evaluation)
    else:
        dollars = percent = trailing = None
        stop, target, upcoming = _price(plan.stop), _price(plan.target), ""
    return Line(row, price, dollars, percent, stop, target, trailing,
                hours_to_expiration(row.expiration_date, snapshot.clock.timestamp),
                position.qty if position else None, _agreement(row, position), plan_label(row, plan), upcoming,
                source, age, problem)


def _judged(row: Row, position, snapshot: Snapshot) -> tuple[Decimal | None, str, str | None, Decimal | None, str]:
    """The price the check judges the row at (``pmctl.core.pricing``), why its price rules wait if they do, where
    the price came from, its age in seconds and the quote's problem; with no position, the row's last recorded
    price, as its last check recorded it."""
    if position is None:
        return row.current_price, "", row.price_source, _age(row, snapshot.clock.timestamp), ""
    judged = pricing.judged(row, position, snapshot)
    if isinstance(judged, TriggerPrice):
        age = Decimal(int(judged.age.total_seconds())) if judged.age is not None else None
        return judged.price, "", judged.source, age, ""
    price = position.current_price if position.current_price is not None else row.current_price
    return price, f"no usable quote ({judged.problem})", PriceSource.LAST, None, judged.problem


def _age(row: Row, now: datetime) -> Decimal | None:
    """Seconds since the row's recorded price was quoted (None: no time was recorded with it)."""
    if row.price_at is None:
        return None
    return Decimal(max(0, int((now - row.price_at).total_seconds())))


def plan_label(row: Row, plan: ExitPlan) -> str:
    """Where the row's plan comes from, and the policy profile it is judged by: ``ledger, profiles.swing_trade``."""
    source = row.plan_source or "desk"
    return f"{source}, {plan.profile.profile}"


def next_exit_text(evaluation: rules.Evaluation) -> str:
    """The rule firing now (``NOW``), else the first with a level: ``stop_loss 1.60``, ``max_hold_time 240 min``."""
    check = evaluation.next
    if check is None:
        return ""
    now = " NOW" if check.fired is not None else ""
    return f"{check.reason} {check.level}{now}".strip()


def _price(level) -> Decimal | None:
    return level.price if level is not None else None


def _agreement(row: Row, position) -> str:
    if position is None:
        return "missing at broker"
    signed = -row.quantity if row.is_short else row.quantity
    if position.qty != signed:
        return f"broker holds {num(position.qty)}"
    return "agrees"
