"""The exit plan in force for one row: each level, and where it came from.

A row's levels come from, in this order of authority: the operator (``edit``,
``track``), the trade itself (the desk's execution ledger, the broker's
bracket legs, a level the desk's tools wrote) where the policy's
``use_trade_levels`` lets trade levels win, and otherwise the policy's profile
for the row's strategy and instrument, as a percent of the entry (the premium,
for an option). The source travels with each level, so a fired rule says
"stop -60% of premium from profile swing_trade/option" or "underlying stop
342.10 from execution 6f0e3a1c".
"""

import functools
from dataclasses import dataclass
from decimal import Decimal

from pmctl.config import RuleDefaults
from pmctl.core.model import Row, Snapshot
from pmctl.core.numbers import num, stored
from pmctl.core.policy import ExpiryStep, Policy, Resolved, Sourced
from pmctl.core.policy_values import OPTION, STOCK
from pmctl.core.vocabulary import PlanSource, Side, Tracking

ADOPTED_PROFILE = "adopted"


@dataclass(frozen=True)
class Level:
    price: Decimal
    source: str


@dataclass(frozen=True)
class ExitPlan:
    """Everything the rules need to judge one row, each level with its source; None: no such exit."""

    strategy: str
    profile: Resolved
    stop: Level | None
    target: Level | None
    underlying_stop: Level | None
    underlying_target: Level | None
    trailing_percent: Level | None
    max_hold_minutes: int | None
    max_hold_source: str

    @property
    def source(self) -> str:
        """Where the plan as a whole came from, for ``status``."""
        return self.profile.profile if self.strategy else "defaults"


def strategy_of(row: Row) -> str:
    """The profile a row is judged by: an adopted row whose plan is still the policy's goes by ``adopted``; any
    other by its strategy (the ledger's, the operator's, the desk's)."""
    if row.tracked_as == Tracking.ADOPTED and row.plan_source in (None, PlanSource.POLICY):
        return ADOPTED_PROFILE
    return row.strategy_type or ""


def instrument_of(row: Row) -> str:
    return OPTION if row.is_option else STOCK


def plan_in(snapshot: Snapshot, row: Row) -> ExitPlan:
    """The plan of a row in a snapshot: under the policy read with it, or the ``PMCTL_*`` defaults alone."""
    return plan_for(row, policy_in(snapshot))


def policy_in(snapshot: Snapshot) -> Policy:
    return snapshot.policy if snapshot.policy is not None else policy_of(snapshot.rules)


def plan_for(row: Row, policy: Policy) -> ExitPlan:
    strategy = strategy_of(row)
    profile = policy.resolve(strategy, instrument_of(row))
    trade_wins = row.plan_source == PlanSource.OPERATOR or (row.plan_source != PlanSource.POLICY
                                                             and profile.use_trade_levels)
    derived_stop, derived_target = derived_levels(row.side, row.entry_price, profile, row.is_option)
    own = _own_source(row)
    stop = Level(row.stop_loss, own) if trade_wins and row.stop_loss is not None else derived_stop
    target = Level(row.take_profit, own) if trade_wins and row.take_profit is not None else derived_target
    underlying = trade_wins and row.is_option
    trailing = (Level(row.trailing_stop_percent, "set on the row") if row.trailing_stop_percent is not None
                else _sourced(profile, "trailing_stop_percent"))
    hold, hold_source = ((row.max_hold_minutes, "set on the row") if row.max_hold_minutes is not None
                         else (profile.max_hold_minutes, profile.source_text("max_hold_minutes")))
    return ExitPlan(
        strategy=strategy, profile=profile, stop=stop, target=target,
        underlying_stop=Level(row.underlying_stop, own) if underlying and row.underlying_stop is not None else None,
        underlying_target=(Level(row.underlying_target, own) if underlying and row.underlying_target is not None
                           else None),
        trailing_percent=trailing, max_hold_minutes=hold, max_hold_source=hold_source,
    )


def derived_levels(side: str, entry: Decimal, profile: Resolved, option: bool) -> tuple[Level | None, Level | None]:
    """The stop and target the profile's percents give a position entered at ``entry``.

    A short cannot gain below a price of zero, so a derived target there is no target at all.
    """
    short = side == Side.SHORT
    basis = "premium" if option else "entry"
    stop = target = None
    if profile.stop_loss_percent is not None:
        stop = Level(away(entry, profile.stop_loss_percent, against=True, short=short),
                     f"-{num(profile.stop_loss_percent)}% of {basis} from {profile.source_text('stop_loss_percent')}")
    if profile.take_profit_percent is not None:
        level = away(entry, profile.take_profit_percent, against=False, short=short)
        if not (short and level <= 0):
            target = Level(level, f"+{num(profile.take_profit_percent)}% of {basis} from "
                                  f"{profile.source_text('take_profit_percent')}")
    return stop, target


def away(base: Decimal, percent: Decimal, against: bool, short: bool) -> Decimal:
    """``base`` moved ``percent`` against the position (a stop) or in its favour (a target).

    The distance is rounded as the ledger stores it, not the level, so a long and its mirror short sit exactly
    the same distance away.
    """
    distance = stored(base * percent / 100)
    below = against != short  # a long's stop and a short's target lie below the base
    return base - distance if below else base + distance


#: The settings that are the policy's top-level defaults, each standing for one policy key.
POLICY_VARIABLES = ("PMCTL_STOP_LOSS_PERCENT", "PMCTL_TAKE_PROFIT_PERCENT", "PMCTL_TRAILING_STOP_PERCENT",
                    "PMCTL_MAX_HOLD_MINUTES", "PMCTL_DAY_TRADE_CLOSE_MINUTES", "PMCTL_EXPIRATION_LEAD_DAYS")


@functools.cache
def policy_of(rules: RuleDefaults, given_names: frozenset[str] | None = None) -> Policy:
    """The policy of the ``PMCTL_*`` defaults alone, each named as its source; ``given_names``: only those the
    environment set (the others keep the built-in value and source), None: every value ``rules`` holds."""
    given = {
        "stop_loss_percent": ("PMCTL_STOP_LOSS_PERCENT", rules.stop_loss_percent),
        "take_profit_percent": ("PMCTL_TAKE_PROFIT_PERCENT", rules.take_profit_percent),
        "trailing_stop_percent": ("PMCTL_TRAILING_STOP_PERCENT", rules.trailing_stop_percent),
        "max_hold_minutes": ("PMCTL_MAX_HOLD_MINUTES", rules.max_hold_minutes),
        "day_trade_close_minutes": ("PMCTL_DAY_TRADE_CLOSE_MINUTES", rules.day_trade_close_minutes),
        "expiry": ("PMCTL_EXPIRATION_LEAD_DAYS", (ExpiryStep(rules.expiration_lead_days, None),)),
    }
    return Policy.parse({}, env_defaults={
        key: Sourced(value, name) for key, (name, value) in given.items()
        if value is not None and (given_names is None or name in given_names)})


def _own_source(row: Row) -> str:
    if row.plan_source == PlanSource.LEDGER:
        return f"from execution {str(row.execution_uuid)[:8]}" if row.execution_uuid else "from the desk's ledger"
    if row.plan_source == PlanSource.BROKER:
        return "from the broker's bracket order"
    if row.plan_source == PlanSource.OPERATOR:
        return "set by the operator"
    return "set on the row"


def _sourced(profile: Resolved, key: str) -> Level | None:
    value = getattr(profile, key)
    return None if value is None else Level(value, f"{num(value)}% from {profile.source_text(key)}")
