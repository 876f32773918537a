"""What the core decides on: a row of ``active_positions`` and a snapshot of one account."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from pmctl.core.market import Clock, Fill, NonTradeActivity, Order, Position, Session
from pmctl.config import RuleDefaults
from pmctl.core.policy import Policy
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pmctl.core.quotes import Quote
from pmctl.core.vocabulary import Side, Status, Tracking


@dataclass(frozen=True, slots=True)
class Row:
    """One open or closing position as the database records it. Times are UTC.

    ``strategy_type`` and ``side`` hold the desk's values; ``tracked_as`` is
    pmctl's own word on the row (None: the desk's tools wrote it) and
    ``plan_source`` says where its stop and target came from (None: explicit).
    Slots: a cycle holds thousands, and past 30 attributes an instance
    dictionary no longer shares its keys (four times the memory).
    """

    id: int
    account_name: str
    symbol: str
    ticker: str
    instrument_type: str
    strategy_type: str
    side: str
    quantity: Decimal
    entry_price: Decimal
    entry_time: datetime
    status: str = Status.OPEN
    expiration_date: date | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    trailing_stop_percent: Decimal | None = None
    peak_price: Decimal | None = None
    trailing_stop_price: Decimal | None = None
    max_hold_minutes: int | None = None
    original_quantity: Decimal | None = None
    current_price: Decimal | None = None
    stop_order_id: str | None = None
    target_order_id: str | None = None
    close_client_order_id: str | None = None
    close_order_id: str | None = None
    close_quantity: Decimal | None = None
    close_attempts: int = 0
    close_submitted_at: datetime | None = None
    close_reason: str | None = None
    tracked_as: str | None = None
    plan_source: str | None = None
    last_checked_at: datetime | None = None
    underlying_stop: Decimal | None = None
    underlying_target: Decimal | None = None
    scale_out_done: int = 0
    execution_uuid: UUID | None = None
    close_trigger_price: Decimal | None = None
    close_trigger_source: str | None = None
    price_source: str | None = None
    price_at: datetime | None = None
    protect_seq: int = 0

    @property
    def is_short(self) -> bool:
        """Only 'short' is short: the desk's tools also write 'call' and 'put' for a long option."""
        return self.side == Side.SHORT

    @property
    def direction(self) -> str:
        """The side as the broker's signed quantity says it: long or short."""
        return Side.SHORT if self.is_short else Side.LONG

    @property
    def quarantined(self) -> bool:
        return self.tracked_as == Tracking.QUARANTINE

    @property
    def is_option(self) -> bool:
        return self.instrument_type in ("CALL", "PUT")


@dataclass(frozen=True)
class Snapshot:
    """Everything one decision about one account may look at, read at one moment.

    ``close_orders`` holds what the broker says about each closing row's order,
    looked up by client order id (``None``: the broker never received it).
    ``sessions`` covers the calendar from today to the nearest expirations that
    could matter; it is empty when no option is near expiry. ``recent_alerts``
    holds the (kind, symbol) pairs already alerted within the cooldown.
    ``fills`` are the broker's fills since the earliest time a row needs them:
    the rows that disagree with their position (closed and opened again, or
    added to) and, for reconcile, the rows the broker no longer holds;
    ``option_events`` are reconcile's evidence for the latter. Both are empty
    when nothing needs them. Rows younger than ``grace_seconds`` are never
    called phantom. ``policy`` is the exit policy (``pmctl.toml`` over the
    ``PMCTL_*`` defaults); ``executions`` the desk's ledger entries not yet
    linked to a row, ``pending_plans`` the plans ``pmctl track`` recorded for
    positions not yet held, ``underlying_prices`` the last trade of every
    underlying whose level a row watches. ``recorded_exits`` holds, read with
    the fills, the order ids each row's exits ledger already has: their fills
    are never taken for another exit. ``protect_orders`` holds what the broker
    says of each protective order a row names that is no longer open (looked up
    by id; None: unknown to the broker): filled, the row settles at its fill.
    ``quotes``: the latest quote of every held symbol whose profile prices it
    from the quote (``pmctl.core.pricing``).
    """

    account: str
    rows: tuple[Row, ...]
    positions: tuple[Position, ...]
    open_orders: tuple[Order, ...]
    clock: Clock
    rules: RuleDefaults
    adopt: bool = True
    sessions: tuple[Session, ...] = ()
    close_orders: dict[str, Order | None] = field(default_factory=dict)
    recent_alerts: frozenset[tuple[str, str]] = frozenset()
    fills: tuple[Fill, ...] = ()
    option_events: tuple[NonTradeActivity, ...] = ()
    grace_seconds: int = 120
    policy: Policy | None = None
    executions: tuple["Execution", ...] = ()
    pending_plans: tuple["PendingPlan", ...] = ()
    underlying_prices: Mapping[str, Decimal] = field(default_factory=dict)
    recorded_exits: Mapping[int, frozenset[str]] = field(default_factory=dict)
    quotes: Mapping[str, "Quote"] = field(default_factory=dict)
    protect_orders: Mapping[str, Order | None] = field(default_factory=dict)

    @property
    def market_date(self):
        """The day the decision is made on, as the market counts it (never the UTC date)."""
        return self.clock.market_date

    def recorded_orders(self, row: Row) -> frozenset[str]:
        """The order ids the row's exits ledger already has (read with the fills)."""
        return self.recorded_exits.get(row.id, frozenset())

    def position(self, symbol: str) -> Position | None:
        return self._positions_by_symbol.get(symbol)

    def underlying_price(self, row: Row) -> Decimal | None:
        return self.underlying_prices.get(row.ticker) if row.is_option else None

    @cached_property
    def _positions_by_symbol(self) -> dict[str, Position]:
        """Looked up once per row every cycle: an index keeps a 5,000-position cycle linear."""
        return {position.symbol: position for position in self.positions}


@dataclass(frozen=True)
class Execution:
    """One trade from the desk's execution ledger (``dispatch_executions``, or the view a desk names instead).

    ``stop_loss`` and ``take_profit`` are as the ledger has them: for an option,
    the dispatcher priced them on the underlying, not on the premium.
    """

    execution_id: UUID
    symbol: str
    ticker: str
    instrument_type: str
    strategy_type: str | None
    side: str
    quantity: Decimal
    entry_price: Decimal
    executed_at: datetime
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    max_hold_minutes: int | None = None
    stop_order_id: str | None = None
    target_order_id: str | None = None


@dataclass(frozen=True)
class PendingPlan:
    """A plan ``pmctl track`` recorded for a position the broker does not hold yet; it waits until ``expires_at``."""

    id: int
    symbol: str
    expires_at: datetime
    strategy_type: str | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    trailing_stop_percent: Decimal | None = None
    max_hold_minutes: int | None = None
    underlying_stop: Decimal | None = None
    underlying_target: Decimal | None = None


def too_recent(row: Row, now: datetime, grace: timedelta) -> bool:
    """Entered, or sent for closing, within the grace: the broker may not show it yet."""
    started = max(filter(None, (row.entry_time, row.close_submitted_at if row.status == Status.CLOSING else None)))
    return now - started < grace
