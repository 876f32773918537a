"""The market the emulator runs: last prices, the clock's switches and the calendar's sessions.

Every change that could make a resting order executable re-checks the book, so a test
that moves the market sees the fills it implies before its next request.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from pmctl import occ
from pmctl.sim.clock import MARKET_ZONE, iso
from pmctl.sim.models import number, unprocessable


class Market:
    """Mixed into ``SimState``: shares its lock, clock, prices and order matching."""

    def set_price(self, symbol: str, price: Decimal) -> None:
        problem = occ.problem(symbol)
        if problem:
            raise unprocessable(problem)
        price = number(price, "price")
        if price < 0:
            raise unprocessable(f"price for {symbol} must not be negative, got {price}")
        with self.lock:
            self.prices[symbol] = price
            self._match_all()

    def set_market_open(self, is_open: bool) -> None:
        with self.lock:
            self.clock.is_open = is_open
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
            today = self.clock.now().astimezone(MARKET_ZONE).date()
            start = start or today
            end = end or start + timedelta(days=30)
            return self.clock.calendar.sessions(start, end)
