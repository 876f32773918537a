"""The desk's execution ledger as the source of a position's plan (issue 13, "Where a plan comes from", 1).

The original service's dispatcher records every trade it sends in ``dispatch_executions``
with the plan it was opened with: a stop, a target, a maximum hold and a strategy. A
position the account holds whose trade is in the ledger takes that plan, whichever
comes first: a position not tracked yet is adopted with it instead of the policy's, and
the row cron adopted a moment before the ledger was written is given it (``TakePlan``).
Either way the row ends the same, linked to its execution by ``execution_uuid``: one
row per execution, never a second row, never a failure.

Several executions of one symbol and side: the newest is the position's plan, the
others are named once, in the event of the row that takes it (the store reads no
execution older than one a row of its symbol has taken, so they are not offered again).

An option's levels in the ledger are the underlying's (the dispatcher priced them on the
stock: a call's stop below and target above, a put's stop above and target below), while
its entry is the premium. They become the row's ``underlying_stop``/``underlying_target``,
judged against the underlying's price, and never its stop or target, which are compared
with the option's own price.
"""

from dataclasses import dataclass, replace
from decimal import Decimal

from pmctl import occ
from pmctl.core.market import Position, utc_text
from pmctl.core.model import Execution, Row, Snapshot
from pmctl.core.numbers import num, stored
from pmctl.core.plan import Adopt, TakePlan
from pmctl.core.policy_values import MINUTES_LIMIT
from pmctl.core.vocabulary import PlanSource, Side, Status, Tracking

#: The strategies the desk's database accepts (the original's CHECK on ``strategy_type``): an execution's
#: strategy outside them is not written, since the row would be refused.
DESK_STRATEGIES = frozenset({"day_trade", "swing_trade", "conservative"})
#: Modes of the ledger that are trades at the broker; ``SIMULATED`` and ``SIMULATED_FALLBACK`` never are.
REAL_MODES = ("ALPACA_PAPER", "LIVE")
#: What ``active_positions`` can hold: NUMERIC(12, 4) levels, VARCHAR(100) order ids.
_LEVEL_LIMIT = Decimal("1E8")
_ORDER_ID_LIMIT = 100
#: Plans the ledger replaces whole: the policy's percentages, or an earlier execution's plan.
_REPLACED = (PlanSource.POLICY, PlanSource.LEDGER)


@dataclass(frozen=True)
class Offer:
    """The execution a held position takes its plan from, and the older ones of the same symbol it supersedes."""

    execution: Execution
    superseded: tuple[Execution, ...]


@dataclass(frozen=True)
class _Plan:
    stop_loss: Decimal | None
    take_profit: Decimal | None
    underlying_stop: Decimal | None
    underlying_target: Decimal | None


def execution_symbol(instrument_type: str | None, ticker: str | None, option_symbol: str | None) -> str | None:
    """The symbol the broker holds for an execution: a contract's OCC symbol, or a stock's ticker.

    An option execution with no well-formed contract symbol matches nothing: matching it by its ticker
    would give an option's plan to the underlying stock (seed 02's confusion, the other way round).
    """
    if (instrument_type or "").upper() in ("CALL", "PUT"):
        return option_symbol if option_symbol and occ.is_option(option_symbol) else None
    return ticker or None


def execution_side(side: str | None, action: str | None) -> Side:
    """The direction of the position an execution opened: short only where the ledger says so (``side``
    'short', or a ``SELL_…`` action: a sale opens a short or closes a long, and neither is a long's plan)."""
    if (side or "").lower() == Side.SHORT or (action or "").upper().startswith("SELL"):
        return Side.SHORT
    return Side.LONG


def offer(position: Position, snapshot: Snapshot) -> Offer | None:
    """The newest execution of the position's symbol and side in the ledger; None when there is none."""
    if not snapshot.executions:
        return None
    mine = sorted((e for e in snapshot.executions if e.symbol == position.symbol and e.side == position.side),
                  key=lambda e: (e.executed_at, str(e.execution_id)), reverse=True)
    return Offer(mine[0], tuple(mine[1:])) if mine else None


def adopted_with(adopt: Adopt, found: Offer) -> Adopt:
    """An adoption with the plan of the position's trade instead of the policy's.

    The trade opened the position on purpose, so a short stock it opened is the desk's, not quarantined.
    What the plan leaves unset (a trailing stop, a missing level, the max hold) the policy of the trade's
    strategy supplies when the rules judge the row.
    """
    execution = found.execution
    plan = _plan(execution, adopt.instrument_type != "STOCK")
    strategy, refused = _strategy(execution, adopt.strategy_type)
    return replace(
        adopt,
        strategy_type=strategy,
        stop_loss=plan.stop_loss,
        take_profit=plan.take_profit,
        underlying_stop=plan.underlying_stop,
        underlying_target=plan.underlying_target,
        trailing_stop_percent=None,
        max_hold_minutes=_minutes(execution.max_hold_minutes),
        stop_order_id=_order_id(execution.stop_order_id),
        target_order_id=_order_id(execution.target_order_id),
        execution_uuid=execution.execution_id,
        entry_time=min(adopt.entry_time, execution.executed_at),
        tracked_as=Tracking.ADOPTED,
        plan_source=PlanSource.LEDGER,
        why=f"{adopt.why}; its trade is {_described(execution)}: adopted with that plan",
        notes=_notes(found, refused),
    )


def enrichment(row: Row, position: Position, snapshot: Snapshot) -> list[TakePlan]:
    """The plan of an open row's trade, found in the ledger after the row was written (cron adopted it first)."""
    if row.status != Status.OPEN or position.side != row.direction:
        return []
    found = offer(position, snapshot)
    return [] if found is None else [_take(row, found)]


def underlyings_needed(snapshot: Snapshot) -> tuple[str, ...]:
    """The underlyings whose last trade this cycle's rules need: every open row watching an underlying level,
    and every held contract a ledger execution gives one to now. Empty: no market-data request at all."""
    held = {position.symbol for position in snapshot.positions}
    watched = {row.ticker for row in snapshot.rows if row.status == Status.OPEN and row.is_option
               and (row.underlying_stop is not None or row.underlying_target is not None)}
    offered = {execution.ticker for execution in snapshot.executions
               if execution.symbol in held and occ.is_option(execution.symbol)
               and (_level(execution.stop_loss) is not None or _level(execution.take_profit) is not None)}
    return tuple(sorted(watched | offered))


def _take(row: Row, found: Offer) -> TakePlan:
    """The row as its trade's plan leaves it. An operator's plan stands (the row is only linked to its trade);
    the policy's, or an earlier execution's, is replaced whole; levels the desk's tools or the broker's legs set
    stay where the execution has none. A quarantined short whose trade the ledger shows is released."""
    execution = found.execution
    strategy, refused = _strategy(execution, row.strategy_type)
    notes = list(_notes(found, refused))
    if row.quarantined:
        notes.append(f"released from quarantine: execution {_short(execution)} opened this short")
    if row.plan_source == PlanSource.OPERATOR:
        notes.append("the operator's plan stands: the row is linked to its trade, its levels are kept")
        return _linked(row, execution, row.strategy_type, notes, _kept(row))
    whole = row.plan_source in _REPLACED
    plan = _plan(execution, row.is_option)
    levels = _Plan(*(new if new is not None or whole else old for new, old in zip(
        (plan.stop_loss, plan.take_profit, plan.underlying_stop, plan.underlying_target),
        (row.stop_loss, row.take_profit, row.underlying_stop, row.underlying_target))))
    hold = _minutes(execution.max_hold_minutes)
    return replace(
        _linked(row, execution, strategy, notes, levels),
        trailing_stop_percent=None if whole else row.trailing_stop_percent,
        max_hold_minutes=hold if hold is not None or whole else row.max_hold_minutes,
        plan_source=PlanSource.LEDGER,
    )


def _linked(row: Row, execution: Execution, strategy: str, notes: list[str], levels: _Plan) -> TakePlan:
    was = f"the {row.plan_source} plan" if row.plan_source else "the plan the desk's tools wrote"
    return TakePlan(
        row_id=row.id, symbol=row.symbol, execution_uuid=execution.execution_id, strategy_type=strategy,
        stop_loss=levels.stop_loss, take_profit=levels.take_profit, underlying_stop=levels.underlying_stop,
        underlying_target=levels.underlying_target, trailing_stop_percent=row.trailing_stop_percent,
        max_hold_minutes=row.max_hold_minutes,
        stop_order_id=_order_id(execution.stop_order_id) or row.stop_order_id,
        target_order_id=_order_id(execution.target_order_id) or row.target_order_id,
        entry_time=min(row.entry_time, execution.executed_at),
        tracked_as=Tracking.ADOPTED if row.quarantined else row.tracked_as,
        plan_source=row.plan_source, was_plan_source=row.plan_source, was_execution_uuid=row.execution_uuid,
        why=f"row {row.id}'s trade is {_described(execution)}; its plan replaces {was}",
        notes=tuple(notes),
    )


def _kept(row: Row) -> _Plan:
    return _Plan(row.stop_loss, row.take_profit, row.underlying_stop, row.underlying_target)


def _plan(execution: Execution, option: bool) -> _Plan:
    """The execution's levels where they belong: an option's on the underlying, a stock's on its own price."""
    stop, target = _level(execution.stop_loss), _level(execution.take_profit)
    if option:
        return _Plan(None, None, stop, target)
    return _Plan(stop, target, None, None)


def _strategy(execution: Execution, current: str) -> tuple[str, str | None]:
    """The execution's strategy where the desk's database accepts it; else the row's, and the refused value."""
    wanted = execution.strategy_type
    if wanted is None or wanted == current:
        return current, None
    if wanted in DESK_STRATEGIES:
        return wanted, None
    return current, wanted


def _notes(found: Offer, refused: str | None) -> tuple[str, ...]:
    notes = []
    if found.superseded:
        notes.append("superseded: older execution(s) of the same symbol "
                     + ", ".join(f"{_short(e)} of {utc_text(e.executed_at)}" for e in found.superseded))
    if refused is not None:
        notes.append(f"strategy {refused!r} of the execution is not one the desk's database accepts "
                     f"({', '.join(sorted(DESK_STRATEGIES))}): the row keeps its own")
    return tuple(notes)


def _level(value: Decimal | None) -> Decimal | None:
    """A level as the row stores it; none where the ledger's value is no price (zero, negative, too large)."""
    if value is None or not value.is_finite() or not 0 < value < _LEVEL_LIMIT:
        return None
    return stored(value)


def _minutes(value: int | None) -> int | None:
    return value if value is not None and 0 < value <= MINUTES_LIMIT else None


def _order_id(value: str | None) -> str | None:
    return value if value and len(value) <= _ORDER_ID_LIMIT else None


def _short(execution: Execution) -> str:
    return str(execution.execution_id)[:8]


def _described(execution: Execution) -> str:
    return (f"execution {_short(execution)} ({execution.instrument_type} {num(execution.quantity)} at "
            f"{num(execution.entry_price)}, {utc_text(execution.executed_at)})")
