"""How a close is priced and walked: a marketable limit that steps toward and through the far side, and the
deadlines that turn it into a market order.

A market order on an option sells at whatever bid is there, and on a wide or
empty book that can be a fraction of the contract's value. So an option's close
starts as a limit at the side it trades into (the bid, for a sell; the ask, for
a buy), ``limit_offset_ticks`` better, and each cycle it stays unfilled it is
re-priced one of ``walk_steps`` equal steps toward the slippage bound:
``max_slippage_percent`` from the price the rule fired on, which no limit ever
passes. Two deadlines end the walk at market, since by then being out matters
more than the price: the day-trade close (``day_trade_close_minutes`` before
the broker's next close) and, for an option on its expiration day, the
profile's ``expiry_deadline`` in New York (15:00 by default, before Alpaca's own
liquidation from about 15:15).

A stock closes at market through ``DELETE /v2/positions/{symbol}?qty=``: the one
route the broker refuses once the position is gone. A stock limit would be a
plain sell, which could open a short after a person closed the position by
hand, so a stock profile's ``close_order = "limit"`` is noted and not followed.

Every step's client order id is derived from the row's claim (``-w1``,
``-w2`` …; ``-m`` for the market order at a deadline), so a replacement whose
answer was lost is found at the broker by its id, and the step a walk has
reached is read from the order itself, never from a count pmctl could lose.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from pmctl import occ
from pmctl.core import ticks
from pmctl.core.market import LIMIT, MARKET, MARKET_ZONE, Clock, Order
from pmctl.core.numbers import money, num
from pmctl.core.plan import Close, WalkClose
from pmctl.core.policy import Market, Resolved
from pmctl.core.quotes import LastTrade, Quote, TriggerPrice
from pmctl.core.vocabulary import PriceSource

_HUNDRED = Decimal(100)
_STEP = re.compile(r"^-w(\d+)$")
_SUFFIX = re.compile(r"-(w\d+|m)$")
#: A close's claim (``closing.client_order_id``: ``pmctl-<account>-<row>-<attempt>``) or one of its walk's steps.
_CLOSE = re.compile(r"pmctl-.+-[0-9]+-[0-9]+(-w[0-9]+)?")
MARKET_SUFFIX = "-m"


@dataclass(frozen=True)
class WorkingClose:
    """A limit close working at the broker, as the walk needs it.

    ``claim`` is the row's client order id for the close, ``client_order_id``
    the working order's own (the claim, or a step's ``claim-wN``);
    ``trigger_price`` the price the rule fired on, which bounds the walk;
    ``placed_at`` when the working order was placed (a replacement is a new
    order), by the broker.
    """

    row_id: int
    symbol: str
    side: str
    order_id: str
    claim: str
    client_order_id: str
    limit_price: Decimal
    trigger_price: Decimal
    placed_at: datetime | None = None

    @property
    def step(self) -> int:
        """How many times the close has been re-priced: 0 for the first order."""
        return step_of(self.claim, self.client_order_id) or 0


def step_client_order_id(claim: str, step: int) -> str:
    """The client order id of a walk's ``step``-th replacement (``step`` from 1)."""
    if step < 1:
        raise ValueError(f"a walk's steps count from 1, not {step}")
    return f"{claim}-w{step}"


def market_client_order_id(claim: str) -> str:
    """The client order id of the market order a deadline turns a walk into."""
    return claim + MARKET_SUFFIX


def step_of(claim: str, client_order_id: str) -> int | None:
    """The step a client order id names in the walk of ``claim`` (0: the first order), or None if it is not
    one of the walk's limit orders."""
    if client_order_id == claim:
        return 0
    if not client_order_id.startswith(claim):
        return None
    match = _STEP.match(client_order_id[len(claim):])
    return int(match[1]) if match else None


def belongs_to(claim: str, client_order_id: str) -> bool:
    """Whether an order is the close of ``claim``: its first order, a step, or the market order of a deadline."""
    return step_of(claim, client_order_id) is not None or client_order_id == market_client_order_id(claim)


def latest(claim: str, orders: Iterable[Order]) -> Order | None:
    """The order that speaks for the close of ``claim`` now: of its orders (the first, each step, the market
    order of a deadline), the newest one not replaced by another; None if the broker has none."""
    chain = [order for order in orders if belongs_to(claim, order.client_order_id) and order.status != "replaced"]
    return max(chain, key=lambda order: (order.submitted_at, _rank(claim, order.client_order_id)), default=None)


def latest_by_claim(orders: Iterable[Order]) -> dict[str, Order]:
    """``latest`` for every claim among ``orders`` at once, keyed by the claim: one pass over the open orders,
    however many rows are closing."""
    chains: dict[str, list[Order]] = {}
    for order in orders:
        chains.setdefault(claim_of(order.client_order_id), []).append(order)
    found = {claim: latest(claim, chain) for claim, chain in chains.items()}
    return {claim: order for claim, order in found.items() if order is not None}


def walking(account: str, orders: Iterable[Order]) -> frozenset[str]:
    """The symbols with a limit close of the account's walking (its first order or a step). ``pmctl run`` decides
    on them every beat, not only when a quote comes: a walk on a contract nobody quotes still steps each
    ``walk_interval_seconds``."""
    return frozenset(order.symbol for order in orders
                     if order.order_type == LIMIT and _CLOSE.fullmatch(order.client_order_id)
                     and order.client_order_id.startswith(f"pmctl-{account}-"))


def claim_of(client_order_id: str) -> str:
    """The claim an order's client order id belongs to: itself, less a step's ``-wN`` or a deadline's ``-m``."""
    return _SUFFIX.sub("", client_order_id)


def _rank(claim: str, client_order_id: str) -> int:
    """Orders stamped in the same instant: the market order after every step, a later step after an earlier."""
    step = step_of(claim, client_order_id)
    return 10**6 if step is None else step


def deadline(symbol: str, clock: Clock, profile: Resolved) -> tuple[datetime, str] | None:
    """The earliest deadline in force today, and what it is, or None.

    The day-trade close counts from the broker's next close, so an early close
    brings it forward; the expiry deadline is the profile's New York time on the
    contract's expiration day.
    """
    found: list[tuple[datetime, str]] = []
    if profile.day_trade_close_minutes is not None and clock.is_open:
        minutes = profile.day_trade_close_minutes
        found.append((clock.next_close - timedelta(minutes=minutes),
                      f"the day-trade close ({minutes} min before the close, from "
                      f"{profile.source_text('day_trade_close_minutes')})"))
    if occ.is_option(symbol) and profile.expiry_deadline is not None:
        expiration = occ.parse(symbol).expiration
        if expiration <= clock.market_date:
            moment = datetime.combine(expiration, profile.expiry_deadline, MARKET_ZONE).astimezone(timezone.utc)
            found.append((moment, f"the expiry deadline {profile.expiry_deadline:%H:%M} New York on expiration day "
                                  f"(from {profile.source_text('expiry_deadline')})"))
    return min(found, default=None)


def past_deadline(symbol: str, clock: Clock, profile: Resolved) -> str | None:
    """Why a close of ``symbol`` must go at market now, or None."""
    due = deadline(symbol, clock, profile)
    if due is None or clock.timestamp < due[0]:
        return None
    return f"past {due[1]}"


def hours_problem(symbol: str, clock: Clock) -> str | None:
    """Why no order for ``symbol`` may be sent now: Alpaca refuses option orders outside regular hours."""
    if occ.is_option(symbol) and not clock.is_open:
        return "option orders are sent only in regular hours"
    return None


def slippage_bound(symbol: str, side: str, trigger: Decimal, profile: Resolved, market: Market) -> Decimal:
    """The furthest a limit may go: ``max_slippage_percent`` from the trigger price, on a tick inside it."""
    share = profile.max_slippage_percent / _HUNDRED
    if side == "sell":
        return ticks.round_limit(symbol, "buy", trigger * (1 - share), market)
    return ticks.round_limit(symbol, "sell", trigger * (1 + share), market)


def first_limit(symbol: str, side: str, near: Decimal, far: Decimal | None, trigger: Decimal, profile: Resolved,
                market: Market) -> Decimal:
    """The first limit: the side the close trades into (``near``: the bid, for a sell), rounded to a tick on the
    marketable side and moved ``limit_offset_ticks`` better, but no better than the other side of the book
    (``far``) and no worse than the slippage bound."""
    selling = side == "sell"
    start = ticks.moved(symbol, ticks.round_limit(symbol, side, near, market), profile.limit_offset_ticks,
                        up=selling, market=market)
    if far is not None and (far > near if selling else far < near):
        other = ticks.round_limit(symbol, side, far, market)
        start = min(start, other) if selling else max(start, other)
    bound = slippage_bound(symbol, side, trigger, profile, market)
    return max(start, bound) if selling else min(start, bound)


def next_limit(working: WorkingClose, quote: Quote | None, profile: Resolved, market: Market) -> Decimal | None:
    """The limit of the next step, or None when the walk has reached its bound.

    The distance left to the bound is split over the steps left, so the walk
    reaches the bound in ``walk_steps`` re-pricings whatever the rounding did on
    the way; each step moves at least one tick. Where a usable ``quote`` shows
    the side the close trades into already between the step and the bound, the
    step goes there at once: that price fills now, within the bound.
    """
    selling = working.side == "sell"
    bound = slippage_bound(working.symbol, working.side, working.trigger_price, profile, market)
    current = working.limit_price
    if (current <= bound) if selling else (current >= bound):
        return None
    left = max(profile.walk_steps - working.step, 1)
    target = current - (current - bound) / left
    price = ticks.round_limit(working.symbol, working.side, target, market)
    if price == current:
        price = ticks.moved(working.symbol, current, 1, up=not selling, market=market)
    near = _sides(quote, selling)[0]
    if near is not None:
        near = ticks.round_limit(working.symbol, working.side, near, market)
        price = min(price, near) if selling else max(price, near)
    return max(price, bound) if selling else min(price, bound)


def walk_step(working: WorkingClose, quote: Quote | None, clock: Clock, profile: Resolved,
              market: Market) -> WalkClose | None:
    """What to do with a limit close still working: re-price it, turn it into a market order at a deadline, or
    leave it (the market is closed, the order has not worked ``walk_interval_seconds`` yet, or the walk has
    reached its bound and waits there for a fill or a deadline). The interval paces the walk where cycles come
    faster than cron's minute: ``pmctl run`` decides on every quote, and without it one busy second would walk a
    close to its bound; a deadline does not wait for it.

    ``quote`` is the symbol's quote this cycle if it is usable (``quotes.quote_problem`` found nothing).
    """
    if hours_problem(working.symbol, clock):
        return None
    late = past_deadline(working.symbol, clock, profile)
    if late is not None:
        return WalkClose(working.row_id, working.symbol, working.order_id, market_client_order_id(working.claim),
                         working.limit_price, None, f"limit {money(working.limit_price)} unfilled {late}: at market")
    if working.placed_at is not None and \
            clock.timestamp - working.placed_at < timedelta(seconds=profile.walk_interval_seconds):
        return None
    price = next_limit(working, quote, profile, market)
    if price is None:
        return None
    step = working.step + 1
    bound = slippage_bound(working.symbol, working.side, working.trigger_price, profile, market)
    return WalkClose(working.row_id, working.symbol, working.order_id, step_client_order_id(working.claim, step),
                     working.limit_price, price,
                     f"limit {money(working.limit_price)} unfilled: step {step} of {profile.walk_steps} to "
                     f"{money(price)}, toward the bound {money(bound)} ({num(profile.max_slippage_percent)}% from the "
                     f"trigger {money(working.trigger_price)})")


def priced(close: Close, quote: Quote | None, trigger: TriggerPrice | None, last: LastTrade | None, clock: Clock,
           profile: Resolved, market: Market) -> Close:
    """The market close the guard built, as the profile sends it: the trigger recorded, and for an option a limit
    at the side it trades into unless the profile says market, a deadline has passed, or nothing gives a price.

    ``trigger`` is None for a rule that goes by the clock when the quote could
    not be used: the walk then starts from the quote's side where it has one,
    else from the last trade.
    """
    selling = close.side == "sell"
    price, source = _reference(trigger, quote, last, selling)
    close = replace(close, trigger_price=price, trigger_source=source)
    if close.position_intent is None:
        note = ("; at market: a stock closes through DELETE /v2/positions, which takes no limit"
                if profile.close_order == LIMIT else "")
        return replace(close, order_type=MARKET, why=close.why + note)
    if profile.close_order == MARKET:
        return replace(close, order_type=MARKET)
    late = past_deadline(close.symbol, clock, profile)
    if late is not None:
        return replace(close, order_type=MARKET, why=f"{close.why}; at market: {late}")
    if price is None:
        return replace(close, order_type=MARKET, why=f"{close.why}; at market: no quote or last trade to price a limit")
    near, far = _sides(quote, selling)
    limit = first_limit(close.symbol, close.side, near if near else price, far, price, profile, market)
    bound = slippage_bound(close.symbol, close.side, price, profile, market)
    return replace(close, order_type=LIMIT, limit_price=limit,
                   why=f"{close.why}; limit {money(limit)}, walking to {money(bound)} in {profile.walk_steps} step(s) "
                       f"({num(profile.max_slippage_percent)}% from {source} {money(price)})")


def _reference(trigger: TriggerPrice | None, quote: Quote | None, last: LastTrade | None,
               selling: bool) -> tuple[Decimal | None, str | None]:
    if trigger is not None:
        return trigger.price, str(trigger.source)
    near, _ = _sides(quote, selling)
    if near:
        return near, str(PriceSource.BID if selling else PriceSource.ASK)
    if last is not None and last.price > 0:
        return last.price, str(PriceSource.LAST)
    return None, None


def _sides(quote: Quote | None, selling: bool) -> tuple[Decimal | None, Decimal | None]:
    """The side a close trades into and the other one, each None where nobody is on it."""
    if quote is None:
        return None, None
    near, far = (quote.bid, quote.ask) if selling else (quote.ask, quote.bid)
    return (near or None), (far or None)
