"""The market the emulator runs: last trades, quotes, tick rules, the clock's switches and sessions.

A symbol's quote is the one set for it, or else bid = ask = its last trade, so a test
that only sets prices trades at those prices. Every change that could make a resting
order executable re-checks the book, so a test that moves the market sees the fills
it implies before its next request; every change of a last trade or a quote goes to
the market-data streams' subscribers first.
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from pmctl import occ
from pmctl.core.market import market_date
from pmctl.sim.clock import iso
from pmctl.sim.models import Quote, Trade, number, unprocessable
from pmctl.sim.ticks import PENNY_ALL_PRICES, TickRules

DERIVED_SIZE = 100


class Market:
    """Mixed into ``SimState``: shares its lock, clock, prices and order matching."""

    def set_price(self, symbol: str, price: Decimal, *, at: datetime | None = None,
                  age_seconds: float | None = None) -> None:
        """The last trade (what positions are marked at), printed ``at`` or ``age_seconds`` ago (default: now)."""
        _check_symbol(symbol)
        price = number(price, "price")
        if price < 0:
            raise unprocessable(f"price for {symbol} must not be negative, got {price}")
        with self.lock:
            at = self._moment(at, age_seconds)
            self.prices[symbol] = price
            self.trade_times[symbol] = at
            self._publish(symbol, "trades")
            if symbol not in self.quotes:
                self._publish(symbol, "quotes")
            self._match_all()

    def latest_trade(self, symbol: str) -> Trade | None:
        with self.lock:
            if symbol not in self.prices:
                return None
            return Trade(self.prices[symbol], self.trade_times[symbol])

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, bid_size: int = DERIVED_SIZE,
                  ask_size: int = DERIVED_SIZE, *, at: datetime | None = None,
                  age_seconds: float | None = None) -> Quote:
        """Quote ``symbol`` until ``clear_quote``; 0 on a side is nobody there; crossed is allowed.

        ``at`` (or ``age_seconds`` before now) makes a stale quote; it keeps its time
        as the clock runs on.
        """
        _check_symbol(symbol)
        bid, ask = number(bid, "bid"), number(ask, "ask")
        if bid < 0 or ask < 0:
            raise unprocessable(f"quote for {symbol} must not be negative, got {bid} x {ask}")
        sizes = [_size(bid_size, "bid_size"), _size(ask_size, "ask_size")]
        with self.lock:
            quote = Quote(bid, ask, *sizes, at=self._moment(at, age_seconds), explicit=True)
            self.quotes[symbol] = quote
            self._publish(symbol, "quotes")
            self._match_all()
            return quote

    def clear_quote(self, symbol: str) -> None:
        """Back to the quote derived from the last trade."""
        with self.lock:
            if self.quotes.pop(symbol, None) is not None:
                self._publish(symbol, "quotes")
            self._match_all()

    def quote(self, symbol: str) -> Quote | None:
        """The quote set for ``symbol``, else bid = ask = its last trade, as fresh as the clock."""
        with self.lock:
            if symbol in self.quotes:
                return self.quotes[symbol]
            if symbol not in self.prices:
                return None
            price = self.prices[symbol]
            return Quote(price, price, DERIVED_SIZE, DERIVED_SIZE, self.clock.now(), explicit=False)

    def _moment(self, at: datetime | None, age_seconds) -> datetime:
        if at is not None and age_seconds is not None:
            raise unprocessable("give a timestamp or age_seconds, not both")
        if at is not None:
            return at
        age = number(age_seconds or 0, "age_seconds")
        if age < 0:
            raise unprocessable(f"age_seconds must be >= 0, got {age}")
        return self.clock.now() - timedelta(seconds=float(age))

    def set_option_ticks(self, penny_all_prices: Iterable[str] | None = None,
                         outside_program: Iterable[str] | None = None) -> TickRules:
        """Which option roots tick in pennies at any price and which are outside the penny program."""
        with self.lock:
            self.ticks = TickRules(
                frozenset(PENNY_ALL_PRICES if penny_all_prices is None else penny_all_prices),
                frozenset(outside_program or ()))
            return self.ticks

    def set_market_open(self, is_open: bool) -> None:
        """Opening sends the orders that waited; closing expires the working ``day`` orders."""
        with self.lock:
            self.clock.is_open = is_open
            if is_open:
                self._open_session()
            else:
                self._close_session()
            self._match_all()

    def set_clock(self, timestamp: datetime | None = None, is_open: bool | None = None,
                  next_open: datetime | None = None, next_close: datetime | None = None,
                  frozen: bool | None = None) -> None:
        with self.lock:
            if timestamp is not None:
                self.clock.set_timestamp(timestamp)
            if frozen is not None:
                self.clock.freeze(frozen)
            if next_open is not None:
                self.clock.pinned_next_open = next_open
            if next_close is not None:
                self.clock.pinned_next_close = next_close
            if is_open is not None:
                self.set_market_open(is_open)

    def clock_json(self) -> dict:
        with self.lock:
            return {
                "timestamp": iso(self.clock.now()),
                "is_open": self.clock.is_open,
                "next_open": iso(self.clock.next_open()),
                "next_close": iso(self.clock.next_close()),
            }

    def sessions(self, start: date | None = None, end: date | None = None):
        with self.lock:
            today = market_date(self.clock.now())
            start = start or today
            end = end or start + timedelta(days=30)
            return self.clock.calendar.sessions(start, end)


def _check_symbol(symbol: str) -> None:
    problem = occ.problem(symbol)
    if problem:
        raise unprocessable(problem)


def _size(value, what: str) -> int:
    size = number(value, what)
    if size < 0 or size != size.to_integral_value():
        raise unprocessable(f"{what} must be a whole number >= 0, got {value!r}")
    return int(size)
