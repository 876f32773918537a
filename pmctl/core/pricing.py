"""The prices of one cycle, row by row: which symbols need their quote, the price each row's rules judge, how a
close goes to the broker, and how a limit close still working is walked.

``pmctl.core.quotes``, ``ticks`` and ``walk`` decide each on plain values; this
module hands them what the snapshot holds for a row (its profile, its quote,
its position's last trade, the broker's clock), so the check and the settle
step each make one call.
"""

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal

from pmctl.core import closing, protect, walk
from pmctl.core.exit_plan import instrument_of, policy_in, strategy_of
from pmctl.core.market import LIMIT, Order, Position
from pmctl.core.model import Row, Snapshot
from pmctl.core.plan import Action, Close
from pmctl.core.policy import Policy, Resolved
from pmctl.core.policy_values import OPTION
from pmctl.core.resting import resting
from pmctl.core.quotes import LAST, LastTrade, Quote, TriggerPrice, Unusable, quote_problem, trigger_price
from pmctl.core.vocabulary import Status


def needs_quote(profile: Resolved) -> bool:
    """A row needs its quote where its rules judge the quote, or where its close is a limit priced from it."""
    return profile.trigger != LAST or (profile.instrument == OPTION and profile.close_order == LIMIT)


def quoted_symbols(rows: Iterable[Row], held: Iterable[Position], policy: Policy) -> tuple[list[str], list[str]]:
    """The stocks and the options to read quotes for: held, with an open or closing row whose profile needs one."""
    symbols = {position.symbol for position in held}
    stocks: set[str] = set()
    options: set[str] = set()
    for row in rows:
        if row.symbol in symbols and row.status in (Status.OPEN, Status.CLOSING) and needs_quote(_profile(row, policy)):
            (options if row.is_option else stocks).add(row.symbol)
    return sorted(stocks), sorted(options)


def judged(row: Row, position: Position, snapshot: Snapshot) -> TriggerPrice | Unusable:
    """The price the rules judge this row at this cycle, or why there is none."""
    last = LastTrade(position.current_price) if position.current_price is not None else None
    return trigger_price(snapshot.quotes.get(row.symbol), last, row.is_short, _profile(row, policy_in(snapshot)),
                         snapshot.clock.timestamp)


def priced_close(row: Row, close: Close, trigger: TriggerPrice | None, snapshot: Snapshot) -> Close:
    """The guard's close as the row's profile sends it (``pmctl.core.walk.priced``)."""
    position = snapshot.position(row.symbol)
    last = LastTrade(position.current_price) if position is not None and position.current_price is not None else None
    return walk.priced(close, snapshot.quotes.get(row.symbol), trigger, last, snapshot.clock,
                       _profile(row, policy_in(snapshot)), policy_in(snapshot).market)


def resent(row: Row, close: Close, snapshot: Snapshot) -> Close:
    """A close sent again under its claim (the first never reached the broker), priced as it was claimed: from
    the trigger recorded with the claim, at today's quote. A close claimed without a trigger (an operator's) goes
    as it went, at market."""
    if row.close_trigger_price is None or row.close_trigger_source is None:
        return close
    trigger = TriggerPrice(row.close_trigger_price, row.close_trigger_source, None)
    return priced_close(row, close, trigger, snapshot)


def walked(row: Row, order: Order, snapshot: Snapshot) -> list[Action]:
    """A closing row's order as its walk sees it: a limit still working is re-priced a step, or sent at market
    past a deadline; a limit cancelled while a deadline has passed (pmctl cancelled it and did not get to send the
    market order) is sent at market now. Nothing else is the walk's."""
    claim = row.close_client_order_id
    if (claim is None or row.close_trigger_price is None or order.order_type != LIMIT or order.limit_price is None
            or walk.step_of(claim, order.client_order_id) is None):
        return []
    working = walk.WorkingClose(row.id, row.symbol, order.side, order.id, claim, order.client_order_id,
                                order.limit_price, row.close_trigger_price, order.submitted_at)
    profile = _profile(row, policy_in(snapshot))
    if order.status == "canceled":
        late = walk.past_deadline(row.symbol, snapshot.clock, profile)
        if late is None or not snapshot.clock.is_open:
            return []
        return _to_market(row, order, walk.walk_step(working, None, snapshot.clock, profile,
                                                     policy_in(snapshot).market), snapshot)
    if order.status in ("replaced", "pending_replace", "pending_cancel"):
        return []
    step = walk.walk_step(working, _usable(row, snapshot.quotes.get(row.symbol), profile, snapshot), snapshot.clock,
                          profile, policy_in(snapshot).market)
    if step is None:
        return []
    return _to_market(row, order, step, snapshot) if step.to_market else [step]


def _to_market(row: Row, order: Order, step, snapshot: Snapshot) -> list[Action]:
    """The market order for what the limit leaves, built by the close guard (nothing, if the guard refuses), and
    the protection to rest if the broker refuses it: none where one rests already (a partial close's, for what it
    left), which the next cycle resizes, so a row never has two."""
    position = snapshot.position(row.symbol)
    remaining = order.qty - order.filled_qty
    try:
        if position is None:
            raise closing.CloseRefused(f"the broker holds no {row.symbol}")
        available = closing.closable(position, [order] if order.status != "canceled" else [])
        request = closing.close_request(position, row.symbol, min(remaining, abs(position.qty)), available,
                                        step.client_order_id)
    except closing.CloseRefused:
        return []
    released = remaining if order.status != "canceled" else Decimal(0)
    rearm = None if resting(row, snapshot) else protect.again(row, snapshot, released)
    return [replace(step, request=request, rearm=rearm)]


def _usable(row: Row, quote: Quote | None, profile: Resolved, snapshot: Snapshot) -> Quote | None:
    if quote is None or quote_problem(quote, row.is_short, profile, snapshot.clock.timestamp) is not None:
        return None
    return quote


def _profile(row: Row, policy: Policy) -> Resolved:
    return policy.resolve(strategy_of(row), instrument_of(row))
