"""Every plan action as a sentence, and what came of it: the one wording the journal, the terminal and the JSON
share, so a log line and a dry run never describe the same action two ways."""

from decimal import Decimal

from pmctl.core.numbers import money, num
from pmctl.core.plan import (Adopt, Alert, AwaitPosition, ChangeQuantity, ClearBrackets, Close, Defer, Edit,
                             FollowEntry, MarkClosed, Reopen, TakePlan, WalkClose)
from pmctl.core.protective_actions import Arm, Disarm, Rearm, RecordProtection
from pmctl.core.vocabulary import TRADE_PLANS


def describe(action) -> str:
    """An action as a sentence that reads after "would" (dry run) or before its outcome (real run)."""
    if isinstance(action, Close):
        sent = (f"({action.position_intent}) as {action.client_order_id}" if action.position_intent
                else f"via {action.route}, claimed as {action.client_order_id}")
        cancels = f", cancelling {len(action.cancel_order_ids)} own order(s) first" if action.cancel_order_ids else ""
        return (f"close row {action.row_id} for {action.reason}: {action.side} {num(action.qty)} "
                f"{action.symbol} {sent}{cancels} ({action.why})")
    if isinstance(action, WalkClose):
        if action.to_market:
            return (f"walk row {action.row_id} {action.symbol}: cancel order {action.order_id} and close "
                    f"{num(action.request.qty)} at market as {action.client_order_id} ({action.why})")
        return (f"walk row {action.row_id} {action.symbol}: replace order {action.order_id} with a limit of "
                f"{money(action.new_limit)} as {action.client_order_id} ({action.why})")
    if isinstance(action, Defer):
        return f"hold row {action.row_id} {action.symbol}: {action.reason} due, {action.why}"
    if isinstance(action, MarkClosed):
        price = num(action.exit_price) if action.exit_price is not None else "unknown"
        return f"mark row {action.row_id} {action.symbol} closed ({action.reason}), exit price {price}: {action.why}"
    if isinstance(action, Reopen):
        return f"reopen row {action.row_id} {action.symbol}: {action.why}"
    if isinstance(action, Adopt):
        plan = f", plan {plan_text(action)}" if action.plan_source in TRADE_PLANS else ""
        return (f"adopt {action.symbol}: {action.side} {num(action.quantity)} at {num(action.entry_price)}{plan} "
                f"({action.why})")
    if isinstance(action, TakePlan):
        return f"give row {action.row_id} {action.symbol} its trade's plan: {plan_text(action)} ({action.why})"
    if isinstance(action, ChangeQuantity):
        return (f"change row {action.row_id} {action.symbol} quantity {num(action.old)} -> {num(action.new)} "
                f"({action.why})")
    if isinstance(action, FollowEntry):
        return f"change row {action.row_id} {action.symbol} entry {num(action.old)} -> {num(action.new)} ({action.why})"
    if isinstance(action, Alert):
        where = f"row {action.row_id} " if action.row_id is not None else ""
        return f"ALERT {action.severity} {action.kind} on {where}{action.symbol}: {action.why}"
    if isinstance(action, ClearBrackets):
        return (f"forget row {action.row_id} {action.symbol}'s protective order(s) {', '.join(action.order_ids)}, "
                "no longer open at the broker")
    if isinstance(action, Edit):
        return f"edit row {action.row_id} {action.symbol}: {action.text()}"
    if isinstance(action, (Arm, Rearm, Disarm, RecordProtection)):
        return _protection(action)
    if isinstance(action, AwaitPosition):
        return f"keep a plan for {action.symbol} ({describe_plan(action.plan)}): {action.why}"
    raise TypeError(f"no description for {type(action).__name__}")


def plan_text(action: Adopt | TakePlan) -> str:
    """A trade's plan in a line: strategy and each level it sets (an option's on the underlying)."""
    levels = [f"{label} {num(value)}" for label, value in (
        ("stop", action.stop_loss), ("target", action.take_profit), ("underlying stop", action.underlying_stop),
        ("underlying target", action.underlying_target)) if value is not None]
    hold = [f"max hold {action.max_hold_minutes} min"] if action.max_hold_minutes is not None else []
    notes = [f"; {note}" for note in action.notes]
    return f"{action.strategy_type}" + "".join(f", {part}" for part in levels + hold) + "".join(notes)


def _protection(action: Arm | Rearm | Disarm | RecordProtection) -> str:
    """What protects a row at the broker: the order as Alpaca's API takes it, and its client order id."""
    if isinstance(action, Arm):
        return f"protect row {action.row_id} {action.symbol} as {action.order.client_order_id}: {action.why}"
    if isinstance(action, Rearm):
        return (f"move row {action.row_id} {action.symbol}'s protective order {action.order_id} "
                f"(PATCH /v2/orders/{action.order_id}, as {action.client_order_id}): {action.why}")
    if isinstance(action, Disarm):
        where = f"row {action.row_id} " if action.row_id is not None else ""
        return (f"cancel {where}{action.symbol}'s protective order {action.client_order_id} ({action.order_id}) "
                f"and confirm: {action.why}")
    return (f"record row {action.row_id} {action.symbol}'s protective order(s) "
            f"{', '.join(filter(None, (action.stop_order_id, action.target_order_id)))}: {action.why}")


def outcome_line(outcome) -> str:
    """What was to be done and what came of it; a deferral's outcome is its reason, said once."""
    action = outcome.action
    if isinstance(action, Defer) and outcome.result == action.why:
        return f"hold row {action.row_id} {action.symbol}: {action.reason} due -> {action.why}"
    return f"{describe(action)} -> {outcome.result}"


def describe_plan(fields: dict) -> str:
    return ", ".join(f"{key} {num(value) if isinstance(value, Decimal) else value}" for key, value in fields.items()
                     if value is not None) or "no levels (the policy's)"
