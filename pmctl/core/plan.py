"""A plan: the actions one decision wants, each saying why.

``--dry-run`` prints a plan; a real run hands the same plan to the apply step.
Nothing here performs anything.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pmctl.core.exits import ExitFill
from pmctl.core.market import MARKET, CloseRequest
from pmctl.core.numbers import num
from pmctl.core.protective_actions import PROTECTIONS, Arm, Disarm, Rearm, RecordProtection


@dataclass(frozen=True)
class Close:
    """Send a reducing order for a row's position (after cancelling pmctl's own orders on it).

    ``client_order_id`` is the claim recorded on the row; only an order with an
    intent (an option's) carries it to the broker (``CloseRequest``).
    ``order_type`` is ``market`` or ``limit`` (at ``limit_price``, walked each
    cycle it stays unfilled: ``pmctl.core.walk``); ``trigger_price`` and
    ``trigger_source`` are the price the rule fired on and where it came from
    (``bid``, ``mid``, ``last`` …), kept so slippage can be measured against
    the fill.
    ``rearm``: the protection to rest again at the broker if the close is refused
    while the position is still held (the close cancels it first: it holds the
    quantity); ``rest``: the protection for what a partial close leaves, rested
    once the close is sent.
    """

    row_id: int
    symbol: str
    side: str
    qty: Decimal
    reason: str
    client_order_id: str
    position_intent: str | None
    cancel_order_ids: tuple[str, ...]
    why: str
    order_type: str = MARKET
    limit_price: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger_source: str | None = None
    rearm: Arm | None = None
    rest: Arm | None = None

    @property
    def request(self) -> CloseRequest:
        """What the adapter sends: built from what the close guard decided, never decided again.

        The trigger stays here: it is pmctl's measure of the close, not part of the order.
        """
        return CloseRequest(self.symbol, self.side, self.qty, self.client_order_id, self.position_intent,
                            self.order_type, self.limit_price)

    @property
    def route(self) -> str:
        """How the close reaches the broker, as an operator would look it up in Alpaca's API reference."""
        if self.position_intent:
            return "POST /v2/orders"
        return f"DELETE /v2/positions/{self.symbol}?qty={num(self.qty)}"


@dataclass(frozen=True)
class WalkClose:
    """Re-price a limit close still working at the broker: ``PATCH /v2/orders/{order_id}`` to ``new_limit``.

    ``client_order_id`` is the one the replacement is sent under, derived from
    the row's claim and the step (``pmctl.core.walk.step_client_order_id``), so
    a replacement whose answer was lost is found again by it. ``new_limit``
    None: a deadline has passed, the limit is cancelled and the rest goes as a
    market order: ``request``, as the close guard built it for what the limit
    leaves (``client_order_id`` is then the claim's ``-m``), and ``rearm``, the
    protection to rest again if the broker refuses that market order (a
    protected row's first close had cancelled it).
    """

    row_id: int
    symbol: str
    order_id: str
    client_order_id: str
    old_limit: Decimal
    new_limit: Decimal | None
    why: str
    request: CloseRequest | None = None
    rearm: Arm | None = None

    @property
    def to_market(self) -> bool:
        return self.new_limit is None


@dataclass(frozen=True)
class Defer:
    """A close that is due but cannot be sent now; the row stays open."""

    row_id: int
    symbol: str
    reason: str
    why: str


@dataclass(frozen=True)
class MarkClosed:
    """Close a row in the database: its position is gone at the broker.

    ``exits``: the fills that took it (the exits ledger's lines, written with the close). ``closed_by``:
    ``broker`` where a resting protective order closed it (recorded in the ``closed`` event).
    """

    row_id: int
    symbol: str
    reason: str
    exit_price: Decimal | None
    exit_time: datetime | None
    order_id: str | None
    why: str
    evidence: dict = field(default_factory=dict)
    exits: tuple[ExitFill, ...] = ()
    closed_by: str | None = None


@dataclass(frozen=True)
class Reopen:
    """Put a closing row back to open: its close order ended without closing the position.

    ``exited``: the order filled as sent for part of the position (a partial exit, a scale-out step), so the
    next close waits for no backoff; ``scaled_out``: it was a step of the scale-out ladder, now taken.
    """

    row_id: int
    symbol: str
    quantity: Decimal
    why: str
    exited: bool = False
    scaled_out: bool = False


@dataclass(frozen=True)
class Adopt:
    """Start tracking a broker position that has no row.

    ``strategy_type`` is one of the desk's strategies, as its database requires;
    ``tracked_as`` says adopted or quarantined, ``plan_source`` where the levels came from.
    """

    symbol: str
    ticker: str
    instrument_type: str
    side: str
    quantity: Decimal
    entry_price: Decimal
    entry_time: datetime
    strike_price: Decimal | None
    expiration_date: date | None
    stop_loss: Decimal | None
    take_profit: Decimal | None
    trailing_stop_percent: Decimal | None
    max_hold_minutes: int | None
    current_price: Decimal | None
    why: str
    tracked_as: str
    strategy_type: str
    plan_source: str
    underlying_stop: Decimal | None = None
    underlying_target: Decimal | None = None
    pending_plan_id: int | None = None
    execution_uuid: UUID | None = None
    stop_order_id: str | None = None
    target_order_id: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TakePlan:
    """Give a tracked row the plan of its trade, found in the desk's execution ledger (``pmctl.core.ledger``).

    The values are the row's afterwards. ``was_plan_source`` and ``was_execution_uuid`` are the row's as read: a
    row another writer changed meanwhile (an operator's edit) is left as that writer left it.
    """

    row_id: int
    symbol: str
    execution_uuid: UUID
    strategy_type: str
    stop_loss: Decimal | None
    take_profit: Decimal | None
    underlying_stop: Decimal | None
    underlying_target: Decimal | None
    trailing_stop_percent: Decimal | None
    max_hold_minutes: int | None
    stop_order_id: str | None
    target_order_id: str | None
    entry_time: datetime
    tracked_as: str | None
    plan_source: str | None
    was_plan_source: str | None
    was_execution_uuid: UUID | None
    why: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeQuantity:
    """Make a row's quantity follow the broker's (a partial fill or a partial exit).

    ``exits``: what a smaller quantity sold (the exits ledger's lines, written with the change).
    """

    row_id: int
    symbol: str
    old: Decimal
    new: Decimal
    original: Decimal
    why: str
    exits: tuple[ExitFill, ...] = ()


@dataclass(frozen=True)
class FollowEntry:
    """Make a row's entry price the broker's average entry (the position was added to).

    ``stop_loss`` and ``take_profit`` are the row's levels afterwards: derived
    again from the new entry where the policy derived them, the row's own otherwise.
    """

    row_id: int
    symbol: str
    old: Decimal
    new: Decimal
    stop_loss: Decimal | None
    take_profit: Decimal | None
    why: str


@dataclass(frozen=True)
class Refresh:
    """Bookkeeping: the latest price, P&L and trailing levels of an open row.

    ``price_source``: where ``current_price`` came from (``bid``, ``mid``, ``last`` …); ``price_at``: when it was
    quoted or printed (None: the broker gave no time).
    """

    row_id: int
    current_price: Decimal
    pnl_dollars: Decimal
    pnl_percent: Decimal
    peak_price: Decimal | None
    trailing_stop_price: Decimal | None
    price_source: str | None = None
    price_at: datetime | None = None


@dataclass(frozen=True)
class Alert:
    """Something an operator must hear about; recorded as an event of ``kind``.

    ``cooled``: the same kind was recorded for the symbol within the cooldown, so this one is shown and logged
    but neither recorded nor delivered again.
    """

    row_id: int | None
    symbol: str
    kind: str
    severity: str
    why: str
    cooled: bool = False


@dataclass(frozen=True)
class Edit:
    """An operator's change to a row's exit parameters: the fields that change, each before and after (None: not
    set). Written with its ``edited`` event in one transaction, stamped with the broker's clock."""

    row_id: int
    symbol: str
    old: dict
    new: dict
    release: bool = False

    def text(self) -> str:
        """``stop_loss 700 -> 720, take_profit none -> 800``: one format for every value, in the audit and on screen."""
        changes = ", ".join(f"{field} {_shown(self.old[field])} -> {_shown(self.new[field])}" for field in self.new)
        return changes + (", released from quarantine" if self.release else "")

    def recorded(self) -> dict:
        """The event's data: the readable text, and the values as JSON (decimals as plain strings, none as null)."""
        released = {"released_from_quarantine": True} if self.release else {}
        return {"symbol": self.symbol, "text": self.text(), **released,
                "old": {field: _stored(value) for field, value in self.old.items()},
                "new": {field: _stored(value) for field, value in self.new.items()}}


@dataclass(frozen=True)
class AwaitPosition:
    """Keep an operator's plan (``pmctl track``) for a position the broker does not hold yet, until ``expires_at``;
    the cycle that adopts the position adopts it with this plan."""

    symbol: str
    plan: dict
    expires_at: datetime
    why: str


#: The word for an exit parameter that is not set, as an operator types it and as it is shown.
CLEAR = "none"


def _shown(value: Decimal | int | None) -> str:
    if value is None:
        return CLEAR
    return num(value) if isinstance(value, Decimal) else str(value)


def _stored(value: Decimal | int | None) -> str | int | None:
    return num(value) if isinstance(value, Decimal) else value


@dataclass(frozen=True)
class ClearBrackets:
    """Forget protective order ids the broker no longer holds open, so they are reported once, not every cycle."""

    row_id: int
    symbol: str
    order_ids: tuple[str, ...]


Action = (Close | WalkClose | Defer | MarkClosed | Reopen | Adopt | TakePlan | ChangeQuantity | FollowEntry | Refresh
          | Alert | ClearBrackets | Edit | AwaitPosition | Arm | Rearm | Disarm | RecordProtection)

#: Actions that change a position's state or send an order; a dry-run holding one exits 3.
CHANGES = (Close, WalkClose, MarkClosed, Reopen, Adopt, TakePlan, ChangeQuantity, FollowEntry, Edit, AwaitPosition,
           *PROTECTIONS)


@dataclass(frozen=True)
class Plan:
    """``findings``: what a reconciling decision found, each with the action it takes (or none: report only).
    ``left``: differences it found and leaves to another command (cleanup-phantoms settles phantoms only)."""

    account: str
    actions: tuple[Action, ...] = field(default_factory=tuple)
    findings: tuple = ()
    left: tuple = ()

    @property
    def has_changes(self) -> bool:
        return any(isinstance(action, CHANGES) for action in self.actions)

    def of(self, kind: type) -> list:
        return [action for action in self.actions if isinstance(action, kind)]

    def cooled(self, recent: frozenset[tuple[str, str]]) -> "Plan":
        """The plan with every alert already recorded within the cooldown (``recent``: kind, symbol) marked so."""
        return replace(self, actions=tuple(
            replace(action, cooled=True) if isinstance(action, Alert) and (action.kind, action.symbol) in recent
            else action for action in self.actions))
