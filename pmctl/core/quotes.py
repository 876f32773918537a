"""The price a row's exit rules judge: from its quote or its last trade, as its profile's ``trigger`` says.

Alpaca's position ``current_price`` is the last trade, with no time: on a thin
contract it can be days old, so a stop fires on a stale print or never fires
while the bid collapses. A quote says what the position would fetch now, but a
quote can lie too: old, empty on the side the exit trades into, crossed or
locked, or so wide that its mid means nothing. Such a quote triggers no price
rule; the row says why (a ``quote_unusable`` alert), and the rules that go by
the clock still fire.

The side a position's exit trades into decides which side of the book it is
judged on: a long sells into the bid, a short buys from the ask.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from pmctl.core.market import aware_utc
from pmctl.core.numbers import money, num
from pmctl.core.plan import Alert
from pmctl.core.policy import Resolved
from pmctl.core.vocabulary import AlertKind, PriceSource, QuoteProblem, Severity

#: The profile's ``trigger`` values that are not a price source's own name.
LAST = "last"
BID_ASK = "bid_ask"

_TWO = Decimal(2)
_FOUR = Decimal(4)
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Quote:
    """The best bid and offer for a symbol, as the market-data API gave them; ``at`` is when it was quoted (UTC).

    A side of 0 has nobody on it (Alpaca: "0 means the security has no active bid").
    """

    symbol: str
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal
    at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", aware_utc(self.at))
        if self.bid < 0 or self.ask < 0:
            raise ValueError(f"a quote's prices cannot be negative: {self.symbol} {self.bid} x {self.ask}")

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / _TWO

    @property
    def spread(self) -> Decimal:
        return self.ask - self.bid

    @property
    def spread_percent(self) -> Decimal | None:
        """The spread as a percent of the mid; None for an empty book (mid 0)."""
        return None if self.mid == 0 else self.spread / self.mid * _HUNDRED

    def age(self, now: datetime) -> timedelta:
        """How old the quote is by ``now`` (the broker's clock); a quote stamped ahead of the clock is 0 old."""
        return max(now - self.at, timedelta(0))


@dataclass(frozen=True)
class LastTrade:
    """A last trade: the position's ``current_price`` (``at`` None: Alpaca gives it no time) or a market-data print."""

    price: Decimal
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TriggerPrice:
    """The price the rules judge, where it came from, and how old it is (None: the broker did not say)."""

    price: Decimal
    source: PriceSource
    age: timedelta | None

    @property
    def text(self) -> str:
        """For ``status`` and a fired rule's detail: ``bid 1.85, 4 s old``."""
        age = "" if self.age is None else f", {_seconds(self.age)} s old"
        return f"{self.source} {money(self.price)}{age}"


@dataclass(frozen=True)
class Unusable:
    """Why no price rule may act on this row this cycle; ``detail`` says it with the numbers and the limit's source."""

    problem: QuoteProblem
    detail: str
    quote: Quote | None = None


def trigger_price(quote: Quote | None, last: LastTrade | None, short: bool, profile: Resolved,
                  now: datetime) -> TriggerPrice | Unusable:
    """The price ``profile.trigger`` picks for a position (``short``: a short, whose exit buys), or why none.

    ``last`` is used only where the profile says ``last``: a quote-based trigger
    with no usable quote has no price, rather than falling back to a print that
    may be days old. ``now`` is the broker's clock.
    """
    if profile.trigger == LAST:
        if last is None:
            return Unusable(QuoteProblem.NO_LAST, "the broker gave no last trade")
        return TriggerPrice(last.price, PriceSource.LAST, None if last.at is None else max(now - last.at, timedelta(0)))
    problem = quote_problem(quote, short, profile, now)
    if problem is not None:
        return problem
    return TriggerPrice(_point(quote, short, profile.trigger), _source(short, profile.trigger), quote.age(now))


def quote_problem(quote: Quote | None, short: bool, profile: Resolved, now: datetime) -> Unusable | None:
    """The first reason the quote may not trigger an exit for this position, in the order a desk would look:
    is there one, is it current, is it a market at all, is anyone on the side the exit trades into, is it tight
    enough for its prices to mean something."""
    if quote is None:
        return Unusable(QuoteProblem.MISSING, "no quote this cycle")
    shown = f"quote {money(quote.bid)} x {money(quote.ask)}"
    limit = timedelta(seconds=profile.max_quote_age_seconds)
    if quote.age(now) > limit:
        return Unusable(QuoteProblem.STALE, f"{shown} is {_seconds(quote.age(now))} s old, over the "
                                            f"{profile.max_quote_age_seconds} s max_quote_age_seconds from "
                                            f"{profile.source_text('max_quote_age_seconds')}", quote)
    if not short and quote.bid == 0:
        return Unusable(QuoteProblem.ZERO_BID, f"{shown} has no bid: nobody to sell to", quote)
    if short and quote.ask == 0:
        return Unusable(QuoteProblem.ZERO_ASK, f"{shown} has no ask: nobody to buy from", quote)
    if quote.bid > quote.ask:
        return Unusable(QuoteProblem.CROSSED, f"{shown} is crossed (bid above ask)", quote)
    if quote.bid == quote.ask:
        return Unusable(QuoteProblem.LOCKED, f"{shown} is locked (bid equal to ask)", quote)
    spread = quote.spread_percent
    if spread is not None and spread > profile.max_spread_percent:
        return Unusable(QuoteProblem.WIDE, f"{shown} is {num(spread.quantize(Decimal('0.1')))}% wide, over the "
                                           f"{num(profile.max_spread_percent)}% max_spread_percent from "
                                           f"{profile.source_text('max_spread_percent')}", quote)
    return None


def unusable_alert(row_id: int, symbol: str, unusable: Unusable) -> Alert:
    """What the desk hears: a price rule could not look at this row (the clock's rules still could)."""
    return Alert(row_id, symbol, AlertKind.QUOTE_UNUSABLE, Severity.WARNING,
                 f"row {row_id} {symbol}: no price rule acts this cycle: {unusable.problem}: {unusable.detail}")


def _point(quote: Quote, short: bool, trigger: str) -> Decimal:
    """The price inside the quote: the side the exit trades into, the mid, or a quarter of the spread from that
    side towards the other (``pessimistic_mid``: the mid, minus half of what the spread may cost)."""
    near = quote.ask if short else quote.bid
    if trigger == BID_ASK:
        return near
    if trigger == PriceSource.MID:
        return quote.mid
    quarter = quote.spread / _FOUR
    return near - quarter if short else near + quarter


def _source(short: bool, trigger: str) -> PriceSource:
    if trigger == BID_ASK:
        return PriceSource.ASK if short else PriceSource.BID
    return PriceSource(trigger)


def _seconds(age: timedelta) -> str:
    return num(Decimal(int(age.total_seconds())))
