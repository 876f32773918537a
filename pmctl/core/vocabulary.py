"""The words pmctl writes into the ledger and the logs, each idea one list.

A close reason, an alert kind, a row's status: each is written by one place and
read by several (the rules, reconcile, notices, metrics, ``events --kind``, the
report). Adding one is an edit here and in the rule that emits it; everything
that lists or sorts them reads them from these enums. Being ``StrEnum``s, their
members are the very strings the database holds.
"""

from enum import StrEnum


class Status(StrEnum):
    """``active_positions.status``: a row is open, has a close in flight, or is closed."""

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class Side(StrEnum):
    LONG = "long"
    SHORT = "short"


class Tracking(StrEnum):
    """``active_positions.tracked_as``: how pmctl came to track a row the desk's tools did not write."""

    ADOPTED = "adopted"
    QUARANTINE = "unexpected_short"


class PlanSource(StrEnum):
    """``active_positions.plan_source``: where a row's exit levels came from."""

    LEDGER = "ledger"
    BROKER = "broker"
    OPERATOR = "operator"
    POLICY = "policy"


#: The plans a trade carries itself (the desk's execution ledger, the broker's exit legs), as opposed to the
#: operator's and the policy's.
TRADE_PLANS = (PlanSource.LEDGER, PlanSource.BROKER)


class ExitSource(StrEnum):
    """``position_exits.source``: whose order took the quantity off, pmctl's close or one found at the broker."""

    PMCTL = "pmctl"
    BROKER = "broker"


class Reason(StrEnum):
    """``active_positions.close_reason`` as pmctl writes it (an operator's ``close --reason`` may write any text).

    ``by_rule``: an exit rule fired.
    """

    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    DAY_TRADE_CLOSE = "day_trade_close"
    EXPIRATION_RISK = "expiration_risk"
    MAX_HOLD_TIME = "max_hold_time"
    SCALE_OUT = "scale_out"
    FORCED_CLOSE = "forced_close"
    COVER_SHORT = "cover_short"
    CLOSED_AT_BROKER = "closed_at_broker"
    PHANTOM = "phantom"
    DUPLICATE = "duplicate"
    EXPIRED = "expired"
    EXERCISED = "exercised"
    ASSIGNED = "assigned"

    @property
    def by_rule(self) -> bool:
        return self in _RULE_REASONS

    @property
    def sent_by_pmctl(self) -> bool:
        """A close pmctl sends an order for: the exits counted in ``pmctl_exits_total``."""
        return self.by_rule or self in (Reason.FORCED_CLOSE, Reason.COVER_SHORT)


_RULE_REASONS = frozenset({Reason.STOP_LOSS, Reason.TAKE_PROFIT, Reason.TRAILING_STOP, Reason.DAY_TRADE_CLOSE,
                           Reason.EXPIRATION_RISK, Reason.MAX_HOLD_TIME, Reason.SCALE_OUT})

#: The broker's non-trade activities that end an option position, and the close reason each gives.
OPTION_EVENT_REASONS = {"OPEXP": Reason.EXPIRED, "OPEXC": Reason.EXERCISED, "OPASN": Reason.ASSIGNED}


class AlertKind(StrEnum):
    """What the desk is told about.

    ``recorded``: raised by a decision as an ``Alert`` action, written to ``position_events`` and
    cooled down there (one per symbol within ``PMCTL_ALERT_COOLDOWN_MINUTES``). ``delivered``:
    sent by email, webhook and apprise (with the same cooldown on delivery).
    """

    recorded: bool
    delivered: bool

    def __new__(cls, value: str, recorded: bool, delivered: bool):
        member = str.__new__(cls, value)
        member._value_ = value
        member.recorded = recorded
        member.delivered = delivered
        return member

    BRACKETS_MISSING = ("brackets_missing", True, True)
    ORDER_FAILED = ("order_failed", True, True)
    UNEXPECTED_SHORT = ("unexpected_short", True, True)
    SIDE_MISMATCH = ("side_mismatch", True, True)
    UNTRACKED = ("untracked", True, False)
    NEEDS_RECONCILE = ("needs_reconcile", True, True)
    PHANTOM_FOUND = ("phantom_found", True, True)
    EXPIRING_SOON = ("expiring_soon", True, True)
    QUOTE_UNUSABLE = ("quote_unusable", True, True)
    FOREIGN_ORDER = ("foreign_order", True, True)
    EXIT_TRIGGERED = ("exit_triggered", False, True)
    ACCOUNT_REFUSED = ("account_refused", False, True)
    CYCLE_FAILED = ("cycle_failed", False, True)


RECORDED_ALERTS = tuple(kind for kind in AlertKind if kind.recorded)


class Severity(StrEnum):
    """Least to most urgent; messages lead with the worst one present."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class PriceSource(StrEnum):
    """Which price a rule judged (``trigger``): a side of the quote, a point inside it, or the last trade."""

    BID = "bid"
    ASK = "ask"
    MID = "mid"
    PESSIMISTIC_MID = "pessimistic_mid"
    LAST = "last"


class QuoteProblem(StrEnum):
    """Why a quote may not trigger a price rule: each a way a book lies about what a position would fetch."""

    MISSING = "missing"  # no quote for the symbol this cycle
    STALE = "stale"  # older than max_quote_age_seconds by the broker's clock
    ZERO_BID = "zero_bid"  # nobody bids: a long's exit would sell into nothing
    ZERO_ASK = "zero_ask"  # nobody offers: a short's exit would buy from nobody
    CROSSED = "crossed"  # bid above ask
    LOCKED = "locked"  # bid equal to ask
    WIDE = "wide"  # spread wider than max_spread_percent of the mid
    NO_LAST = "no_last"  # the profile says ``last`` and the broker gave no last trade


class EventKind(StrEnum):
    """``position_events.event_type`` as pmctl writes it, besides the recorded alert kinds."""

    ADOPTED = "adopted"
    QUANTITY_CHANGED = "quantity_changed"
    ENTRY_CHANGED = "entry_changed"
    PRICE_UPDATE = "price_update"
    EXIT_TRIGGERED = "exit_triggered"
    ORDER_SUBMITTED = "order_submitted"
    ORDER_REPLACED = "order_replaced"  # a limit close re-priced (PATCH), or cancelled for a market order at a deadline
    ORDER_FAILED = "order_failed"
    ORDER_UNKNOWN = "order_unknown"
    CLOSED = "closed"
    REOPENED = "reopened"
    EDITED = "edited"
    PLAN_WAITING = "plan_waiting"
    PROTECTION = "protection"  # a protective order rested, moved, cancelled or found: its ``change`` says which
    ALERT_SENT = "alert_sent"
    PLAN_TAKEN = "plan_taken"  # a row took the plan of its trade (the desk's ledger), with old and new values


#: Every kind pmctl writes to ``position_events``; the store refuses any other, ``events --kind`` lists them.
EVENT_KINDS = frozenset({*EventKind, *RECORDED_ALERTS})


class FindingKind(StrEnum):
    """What reconcile calls each difference between the rows and the broker.

    ``gone``: the row's position is no longer held; these are what ``cleanup-phantoms`` settles.
    """

    PHANTOM = "phantom"
    EXPIRED = "expired"
    EXERCISED = "exercised"
    ASSIGNED = "assigned"
    DUPLICATE = "duplicate"
    UNTRACKED = "untracked"
    UNEXPECTED_SHORT = "unexpected_short"
    QUANTITY_DRIFT = "quantity_drift"
    ENTRY_DRIFT = "entry_drift"
    REOPENED = "reopened"
    STUCK_CLOSING = "stuck_closing"
    CLOSING = "closing"
    TOO_RECENT = "too_recent"
    SIDE_MISMATCH = "side_mismatch"
    PLAN_TAKEN = "plan_taken"  # a tracked row's trade was found in the desk's ledger: the row takes its plan
    PROTECTION_FILLED = "protection_filled"  # the row's resting protective order closed it at the broker
    PROTECTION_MISSING = "protection_missing"
    PROTECTION_DUPLICATE = "protection_duplicate"
    PROTECTION_ORPHAN = "protection_orphan"  # a protective order of pmctl's whose row or position is gone
    FOREIGN_ORDER = "foreign_order"  # a resting order pmctl did not place, holding part of a protected position

    @property
    def gone(self) -> bool:
        return self in (FindingKind.PHANTOM, FindingKind.EXPIRED, FindingKind.EXERCISED, FindingKind.ASSIGNED,
                        FindingKind.PROTECTION_FILLED)


class OutcomeStatus(StrEnum):
    """How applying one action ended; the sentence beside it is for people, this is for code."""

    DONE = "done"
    SENT = "sent"  # an order the broker took; the row settles when it fills
    DEFERRED = "deferred"
    COOLED = "cooled"  # an alert already recorded within the cooldown
    ALREADY_DONE = "already_done"  # another run did it first (an adoption)
    CONFLICT = "conflict"  # another run changed the row first
    FAILED = "failed"
    UNKNOWN = "unknown"  # an order sent with no clear answer
