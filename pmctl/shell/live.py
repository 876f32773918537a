"""One account's broker state between REST snapshots, kept current by the streams; and the Broker port over it.

``pmctl run`` reads the broker in full over REST (clock, positions, open orders) when it starts, after every
reconnect and periodically; in between, the streams keep that picture current: a trade update changes the order it
names and, for a fill, the position it left (``position_qty``); a trade print moves the position's price; a quote
is kept for the rules that judge one, and answers the cycle's latest-quotes read. Each cycle reads the book through ``LiveBroker``, the same ``Broker`` port a
cron cycle reads Alpaca through, so the core decides on a snapshot of the same shape either way.

The last trade of an underlying that an option row's levels watch is kept too, so a move of the underlying is
judged as soon as it prints, and no cycle asks the market-data API for it. What the stream cannot say is read over
REST instead: the average entry of a position a fill opened or added to,
and the legs of an oco or bracket order (Alpaca announces a passive leg only when it fills or ends). A REST read
holds the book's lock, so a stream update that arrives meanwhile is applied after it, never under it.

``qty_available`` (what open orders leave free to close) follows from the REST value by the changes the stream
reports: an order placed takes its quantity, one that ends gives back what it had not filled, and a fill takes the
same quantity off the position and off the order, leaving it unchanged.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from pmctl import occ
from pmctl.broker.streams import OrderUpdate, Print
from pmctl.core.closing import reducing_side
from pmctl.core.market import Clock, Order, Position, Session
from pmctl.core.quotes import Quote
from pmctl.core.settle import WORKING
from pmctl.shell.ports import Broker

#: Alpaca's open orders (``GET /v2/orders?status=open``); an order in any other status is over, for good.
OPEN_STATUSES = frozenset(WORKING - {"replaced"})
#: Ended orders remembered for lookups by id: a close that filled is settled from its trade update, not a request.
ENDED_KEPT = 2000
ZERO = Decimal(0)


class LiveBook:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._clock: Clock | None = None
        self._clock_read = 0.0
        self._positions: dict[str, Position] = {}
        self._orders: dict[str, Order] = {}
        self._ended: OrderedDict[str, Order] = OrderedDict()
        self._held: dict[str, Decimal] = {}
        self._counted: dict[str, Decimal] = {}
        self._quotes: dict[str, Print] = {}
        self._underlying_trades: dict[str, Decimal] = {}
        self.underlyings: frozenset[str] = frozenset()
        self.last_print: dict[str, float] = {}

    # REST -----------------------------------------------------------------------------------------------------

    def reset(self, positions: list[Position], orders: list[Order], clock: Clock | None = None) -> frozenset[str]:
        """The broker's own answer replaces what the streams kept; the clock never runs backwards. Returns the
        symbols whose position or open orders the answer changed: a price the stream would have reported as news
        may have come in this way instead, and the rules must see it."""
        with self.lock:
            if clock is not None:
                start = clock.timestamp if self._clock is None else max(clock.timestamp, self.clock().timestamp)
                self._clock, self._clock_read = replace(clock, timestamp=start), time.monotonic()
            before, earlier = self._positions, set(self._orders.values())
            self._positions = {position.symbol: position for position in positions}
            self._orders = {order.id: order for order in orders}
            self._held = {order.id: self._holds(order) for order in orders}
            self._counted = {order.id: order.filled_qty for order in orders}
            self._quotes = {symbol: quote for symbol, quote in self._quotes.items() if symbol in self._positions}
            moved = {symbol for symbol in before.keys() | self._positions.keys()
                     if before.get(symbol) != self._positions.get(symbol)}
            return frozenset(moved | {order.symbol for order in earlier.symmetric_difference(orders)})

    @property
    def started(self) -> bool:
        return self._clock is not None

    def clock(self) -> Clock:
        """The broker's clock as last read, run on by this machine's monotonic clock since."""
        with self.lock:
            elapsed = timedelta(seconds=time.monotonic() - self._clock_read)
            return replace(self._clock, timestamp=self._clock.timestamp + elapsed)

    def transition_due(self) -> bool:
        """The market opened or closed since the clock was read: only the broker can say what holds now."""
        clock = self.clock()
        return clock.timestamp >= (clock.next_close if clock.is_open else clock.next_open)

    # What a cycle reads ----------------------------------------------------------------------------------------

    def positions(self) -> list[Position]:
        with self.lock:
            return list(self._positions.values())

    def open_orders(self) -> list[Order]:
        with self.lock:
            return list(self._orders.values())

    def ended(self, order_id: str | None = None, client_order_id: str | None = None) -> Order | None:
        with self.lock:
            if order_id is not None:
                return self._ended.get(order_id)
            return next((o for o in reversed(self._ended.values()) if o.client_order_id == client_order_id), None)

    def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        """The streamed quotes of ``symbols`` that the stream has carried, in the market-data API's shape."""
        with self.lock:
            points = [self._quotes[symbol] for symbol in symbols if symbol in self._quotes]
        return {point.symbol: Quote(point.symbol, point.bid, point.ask, point.bid_size or ZERO,
                                    point.ask_size or ZERO, point.at)
                for point in points if point.bid is not None and point.ask is not None}

    def symbols(self) -> frozenset[str]:
        with self.lock:
            return frozenset(self._positions)

    # Streams ---------------------------------------------------------------------------------------------------

    def on_update(self, update: OrderUpdate) -> bool:
        """Apply a trade update; True when only a REST read can complete it (a position opened or added to, an oco
        or bracket leg)."""
        with self.lock:
            order = update.order
            position = self._positions.get(order.symbol)
            if update.position_qty is not None:
                self._move(order.symbol, update.position_qty)
                self._counted[order.id] = max(order.filled_qty, self._counted.get(order.id, ZERO))
            self._observe(order)
            opened = update.position_qty is not None and update.position_qty != 0 and (
                position is None or abs(update.position_qty) > abs(position.qty)
                or (update.position_qty < 0) != (position.qty < 0))
            return opened or update.order_class not in ("simple", "")

    def on_print(self, point: Print, kind: str) -> frozenset[str]:
        """A quote or trade of a held symbol or a watched underlying; the held symbols whose rules it moved."""
        with self.lock:
            self.last_print[kind] = time.monotonic()
            symbol = point.symbol
            if point.price is not None and symbol in self.underlyings \
                    and self._underlying_trades.get(symbol) != point.price:
                self._underlying_trades[symbol] = point.price
                return frozenset(held for held in self._positions if _underlying(held) == symbol)
            if symbol not in self._positions:
                return frozenset()
            if point.is_quote:
                earlier = self._quotes.get(symbol)
                self._quotes[symbol] = point
                moved = earlier is None or (earlier.bid, earlier.ask) != (point.bid, point.ask)
                return frozenset((symbol,)) if moved else frozenset()
            position = self._positions[symbol]
            if position.current_price == point.price:
                return frozenset()
            self._positions[symbol] = replace(position, current_price=point.price)
            return frozenset((symbol,))

    def watch_underlyings(self, symbols: frozenset[str]) -> None:
        """The underlyings whose last trade the rows' levels need (``pmctl.core.ledger.underlyings_needed``)."""
        with self.lock:
            self.underlyings = symbols
            self._underlying_trades = {s: p for s, p in self._underlying_trades.items() if s in symbols}

    def underlying_trades(self, symbols: tuple[str, ...]) -> tuple[dict[str, Decimal], tuple[str, ...]]:
        """(the last trades known, the symbols to ask the broker for)."""
        with self.lock:
            known = {s: self._underlying_trades[s] for s in symbols if s in self._underlying_trades}
            return known, tuple(s for s in symbols if s not in known)

    def note_underlying_trades(self, prices: dict[str, Decimal]) -> None:
        """Prices read over REST: the baseline until the stream prints the next trade."""
        with self.lock:
            self._underlying_trades.update((s, p) for s, p in prices.items() if s in self.underlyings)

    def seen(self, order: Order) -> None:
        """An order the broker reported when asked: its state, nothing more (its fills are in the positions)."""
        with self.lock:
            self._observe(order)

    def answered(self, order: Order) -> None:
        """An order the broker answered a request with: noted at once, with what it filled already, so the next
        cycle does not see a position its close has just taken away."""
        with self.lock:
            fresh = order.filled_qty - self._counted.get(order.id, ZERO)
            position = self._positions.get(order.symbol)
            if fresh > 0 and position is not None and order.side == reducing_side(position):
                self._move(order.symbol, position.qty - fresh if position.qty > 0 else position.qty + fresh)
                self._counted[order.id] = order.filled_qty
            self._observe(order)

    def replaced(self, order_id: str, new: Order) -> None:
        """A replace the broker answered: the order it replaced has ended (``replaced``) as the new one rests, so a
        cycle before the stream says so does not see both and cancel one as a second protection."""
        with self.lock:
            old = self._orders.get(order_id)
            if old is not None:
                self._observe(replace(old, status="replaced"))
        self.answered(new)

    # Inside the lock -------------------------------------------------------------------------------------------

    def _observe(self, order: Order) -> None:
        """Orders only move forward: an ended order stays ended, and a stale report of a working one is ignored."""
        if order.id in self._ended:
            return
        known = self._orders.get(order.id)
        if known is not None and order.status in OPEN_STATUSES and order.filled_qty < known.filled_qty:
            return
        held = self._holds(order)
        self._free(order.symbol, self._held.get(order.id, ZERO) - held)
        if order.status in OPEN_STATUSES:
            self._orders[order.id] = order
            self._held[order.id] = held
            return
        self._orders.pop(order.id, None)
        self._held.pop(order.id, None)
        self._ended[order.id] = order
        while len(self._ended) > ENDED_KEPT:
            self._ended.popitem(last=False)

    def _holds(self, order: Order) -> Decimal:
        position = self._positions.get(order.symbol)
        if order.status not in OPEN_STATUSES or position is None or order.side != reducing_side(position):
            return ZERO
        return max(order.qty - order.filled_qty, ZERO)

    def _move(self, symbol: str, qty: Decimal) -> None:
        position = self._positions.get(symbol)
        if qty == 0:
            self._positions.pop(symbol, None)
            return
        if position is None:
            return
        available = position.qty_available + abs(qty) - abs(position.qty)
        self._positions[symbol] = replace(position, qty=qty, qty_available=min(max(available, ZERO), abs(qty)))

    def _free(self, symbol: str, released: Decimal) -> None:
        position = self._positions.get(symbol)
        if position is None or released == 0:
            return
        available = min(max(position.qty_available + released, ZERO), abs(position.qty))
        self._positions[symbol] = replace(position, qty_available=available)


def _underlying(symbol: str) -> str | None:
    return occ.parse(symbol).root if occ.is_option(symbol) else None


class LiveBroker:
    """The ``Broker`` port for a cycle of ``pmctl run``: the clock, positions and open orders from the book; the
    rest (history, orders still working, every request that acts) from the broker, each order it answers with
    noted in the book."""

    def __init__(self, broker: Broker, book: LiveBook):
        self.broker = broker
        self.book = book
        self._calendar: dict[tuple[date, date], list[Session]] = {}

    def clock(self) -> Clock:
        return self.book.clock()

    def positions(self) -> list[Position]:
        return self.book.positions()

    def open_orders(self) -> list[Order]:
        return self.book.open_orders()

    def calendar(self, start: date, end: date) -> list[Session]:
        """Asked once per span and process: the calendar of past and coming sessions does not change."""
        if (start, end) not in self._calendar:
            self._calendar[(start, end)] = self.broker.calendar(start, end)
        return self._calendar[(start, end)]

    def latest_trades(self, symbols: tuple[str, ...]) -> dict[str, Decimal]:
        """Underlyings' last trades from the stream; only those it has not printed yet are asked for."""
        known, missing = self.book.underlying_trades(symbols)
        if missing:
            asked = self.broker.latest_trades(missing)
            self.book.note_underlying_trades(asked)
            known.update(asked)
        return known

    def latest_quotes(self, stocks: Iterable[str], options: Iterable[str]) -> dict[str, Quote]:
        """Held symbols' quotes from the stream, aged by their own time as a REST quote is; only symbols it has not
        quoted yet are asked for."""
        stocks, options = tuple(stocks), tuple(options)
        known = self.book.quotes(stocks + options)
        missing_stocks = tuple(s for s in stocks if s not in known)
        missing_options = tuple(s for s in options if s not in known)
        if missing_stocks or missing_options:
            known.update(self.broker.latest_quotes(missing_stocks, missing_options))
        return known

    def order_by_id(self, order_id: str) -> Order | None:
        return self.book.ended(order_id=order_id) or self._seen(self.broker.order_by_id(order_id))

    def order_by_client_id(self, client_order_id: str) -> Order | None:
        return self.book.ended(client_order_id=client_order_id) or self._seen(
            self.broker.order_by_client_id(client_order_id))

    def replace_order(self, order_id: str, client_order_id: str, qty: Decimal | None = None,
                      stop_price: Decimal | None = None, limit_price: Decimal | None = None) -> Order:
        new = self.broker.replace_order(order_id, client_order_id, qty, stop_price, limit_price)
        self.book.replaced(order_id, new)
        return new

    def __getattr__(self, name: str):
        """Every other method of the port (and any a later port adds) is the broker's own."""
        found = getattr(self.broker, name)
        if not callable(found):
            return found

        def call(*args, **kwargs):
            return self._noted(found(*args, **kwargs))

        return call

    def _noted(self, answer):
        if isinstance(answer, Order):
            self.book.answered(answer)
        return answer

    def _seen(self, order: Order | None) -> Order | None:
        if order is not None:
            self.book.seen(order)
        return order
