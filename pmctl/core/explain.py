"""``pmctl plan ID``: every exit rule of one row as the cycle judges it now, in words an operator reads."""

from pmctl.core import rules
from pmctl.core.model import Snapshot
from pmctl.core.numbers import num
from pmctl.errors import UsageError


def explain(snapshot: Snapshot, row_id: int) -> list[str]:
    row = next((row for row in snapshot.rows if row.id == row_id), None)
    if row is None:
        raise UsageError(f"row {row_id} is not open or closing")
    plan = snapshot.plan(row)
    position = snapshot.position(row.symbol)
    price = position.current_price if position is not None else None
    head = [
        f"row {row.id} {row.symbol}: {row.direction} {num(row.quantity)} at {num(row.entry_price)}, "
        f"strategy {row.strategy_type or 'none'}, {row.status}",
        f"plan from {row.plan_source or 'the desk (the row as written)'}, judged by {plan.profile.profile} "
        f"(strategy {plan.strategy or 'none'}, {plan.profile.instrument})",
    ]
    if price is None:
        return [*head, f"the broker shows no price for {row.symbol}: no rule can be judged now"]
    evaluation = rules.evaluate(row, price, snapshot.clock, snapshot.sessions, plan, snapshot.underlying_price(row))
    lines = [*head, f"price {num(price)} (the broker's last trade), {snapshot.clock.timestamp:%Y-%m-%d %H:%M} UTC"]
    if not evaluation.checks:
        lines.append("no exit rule applies to this row")
    for check in evaluation.checks:
        verdict = f"FIRES: {check.fired.detail}" if check.fired else (check.note or "holds")
        level = check.level or "-"
        lines.append(f"  {check.reason:<16} {level:<28} {verdict}  [{check.source}]")
    if row.quarantined:
        lines.append("quarantined (an unexpected short): no rule closes it; pmctl edit --strategy releases it")
    return lines
