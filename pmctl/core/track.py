"""``pmctl track``: an operator's plan for a position, held now or about to be filled.

The third source of a plan (after the desk's ledger and the broker's own
bracket legs): a row already tracked gets the operator's levels and strategy as
``edit`` gives them; a position held without a row is adopted with them; a
position not held yet gets a plan that waits for it, for a bounded time, and is
taken by the cycle that adopts the position.
"""

from datetime import timedelta
from decimal import Decimal

from pmctl.core.edit import edit_action
from pmctl.core.model import PendingPlan, Snapshot
from pmctl.core.plan import AwaitPosition, Plan
from pmctl.core.sync import adoption, primary_rows, with_plan
from pmctl.core.vocabulary import Status
from pmctl.errors import UsageError


def plan_track(snapshot: Snapshot, symbol: str, changes: dict[str, Decimal | int | str], wait: timedelta,
               force: bool = False) -> Plan:
    row = primary_rows(snapshot.rows).get(symbol)
    if row is not None and row.status == Status.OPEN:
        return Plan(snapshot.account, edit_action(row, changes, snapshot, force))
    position = snapshot.position(symbol)
    if position is not None and row is None:
        plan = PendingPlan(0, symbol, snapshot.clock.timestamp, **_fields(changes))
        return Plan(snapshot.account, (with_plan(adoption(position, snapshot), plan, "the operator's track"),))
    if row is not None:
        raise UsageError(f"row {row.id} ({symbol}) is closing: a plan for it would come too late")
    return Plan(snapshot.account, (AwaitPosition(
        symbol, _fields(changes), snapshot.clock.timestamp + wait,
        f"the broker holds no {symbol} yet: the plan waits for it until "
        f"{snapshot.clock.timestamp + wait:%Y-%m-%d %H:%M} UTC"),))


def _fields(changes: dict) -> dict:
    return {field: (None if value == "none" else value) for field, value in changes.items()}
