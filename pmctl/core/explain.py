"""``pmctl plan ID``: every exit rule of one row as the cycle judges it now, in words an operator reads."""

from pmctl.core import pricing, rules
from pmctl.core.exit_plan import plan_in
from pmctl.core.quotes import TriggerPrice
from pmctl.core.vocabulary import PriceSource
from pmctl.core.model import Snapshot
from pmctl.core.numbers import num
from pmctl.errors import UsageError


def explain(snapshot: Snapshot, row_id: int) -> list[str]:
    row = next((row for row in snapshot.rows if row.id == row_id), None)
    if row is None:
        raise UsageError(f"row {row_id} is not open or closing")
    plan = plan_in(snapshot, row)
    position = snapshot.position(row.symbol)
    price, said, waits = _price(row, position, snapshot)
    head = [
        f"row {row.id} {row.symbol}: {row.direction} {num(row.quantity)} at {num(row.entry_price)}, "
        f"strategy {row.strategy_type or 'none'}, {row.status}",
        f"plan from {row.plan_source or 'the desk (the row as written)'}, judged by {plan.profile.profile} "
        f"(strategy {plan.strategy or 'none'}, {plan.profile.instrument})",
    ]
    if price is None:
        return [*head, f"the broker shows no price for {row.symbol}: no rule can be judged now"]
    evaluation = rules.evaluate(row, price, snapshot.clock, snapshot.sessions, plan, snapshot.underlying_price(row),
                                waits=waits)
    lines = [*head, f"price {num(price)} ({said}), {snapshot.clock.timestamp:%Y-%m-%d %H:%M} UTC"]
    if not evaluation.checks:
        lines.append("no exit rule applies to this row")
    for check in evaluation.checks:
        verdict = f"FIRES: {check.fired.detail}" if check.fired else (check.note or "holds")
        level = check.level or "-"
        lines.append(f"  {check.reason:<16} {level:<28} {verdict}  [{check.source}]")
    if row.quarantined:
        lines.append("quarantined (an unexpected short): no rule closes it; pmctl edit --strategy releases it")
    return lines


def _price(row, position, snapshot: Snapshot):
    """The price the cycle judges the row at, what it is, and why the price rules wait if they do."""
    if position is None:
        return None, "", ""
    judged = pricing.judged(row, position, snapshot)
    if isinstance(judged, TriggerPrice):
        if judged.source == PriceSource.LAST:
            return judged.price, "the broker's last trade", ""
        return judged.price, f"{judged.source}, {int(judged.age.total_seconds())} s old", ""
    why = f"no usable quote ({judged.problem}: {judged.detail})"
    return position.current_price, f"the broker's last trade; {why}", why
