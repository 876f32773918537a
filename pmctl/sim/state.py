"""The broker engine: accounts, positions, orders, fills, prices, quotes and the clock behind one lock.

The HTTP layer and the control API both call these methods, so a test that sets a
price in Python and a client that reads it over HTTP see the same world. Each concern
lives in its own mixin module (market, orders, oco, bracket, replacing, matching, lifecycle,
positions, activities, interference, stream_control); ``SimState`` joins them around
the accounts they share and the stream hub that carries their events to clients.
"""

import itertools
import threading
import uuid
from datetime import datetime
from decimal import Decimal

from pmctl.sim.activities import Activities
from pmctl.sim.bracket import Brackets
from pmctl.sim.clock import Calendar, SimClock
from pmctl.sim.interference import Interference
from pmctl.sim.lifecycle import Lifecycle
from pmctl.sim.market import Market
from pmctl.sim.matching import Matching
from pmctl.sim.models import Account, Position, Quote, SimError, fmt, not_found
from pmctl.sim.oco import OneCancelsOther
from pmctl.sim.orders import Orders
from pmctl.sim.positions import Positions
from pmctl.sim.render import account_json, order_json, position_json, quote_json
from pmctl.sim.replacing import Replacing
from pmctl.sim.stream_control import Streaming
from pmctl.sim.streams import StreamHub
from pmctl.sim.ticks import TickRules


class SimState(Interference, Market, Orders, OneCancelsOther, Brackets, Replacing, Matching, Lifecycle,
               Positions, Activities, Streaming):
    def __init__(self, clock: SimClock | None = None):
        super().__init__(threading.RLock())
        self.streams = StreamHub()
        self.clock = clock or SimClock(Calendar())
        self.accounts: dict[str, Account] = {}
        self.prices: dict[str, Decimal] = {}
        self.trade_times: dict[str, datetime] = {}
        self.quotes: dict[str, Quote] = {}
        self.ticks = TickRules()
        self._seq = itertools.count()

    def add_account(self, name: str, api_key: str, secret_key: str,
                    account_number: str | None = None, cash: Decimal = Decimal("100000"),
                    account_id: uuid.UUID | None = None) -> Account:
        with self.lock:
            if name in self.accounts:
                raise ValueError(f"duplicate account name {name!r}")
            if any(a.api_key == api_key for a in self.accounts.values()):
                raise ValueError(f"duplicate api_key for account {name!r}")
            account = Account(
                name=name, api_key=api_key, secret_key=secret_key,
                account_number=account_number or f"PA{uuid.uuid4().int % 10**10:010d}",
                id=account_id or uuid.uuid4(), cash=Decimal(cash), created_at=self.clock.now(),
            )
            self.accounts[name] = account
            return account

    def account(self, name: str) -> Account:
        with self.lock:
            if name not in self.accounts:
                raise not_found(f"account {name!r} does not exist")
            return self.accounts[name]

    def authenticate(self, api_key: str | None, secret_key: str | None) -> Account:
        with self.lock:
            for account in self.accounts.values():
                if account.api_key == api_key and account.secret_key == secret_key:
                    return account
        raise SimError(401, 40110000, "request is not authorized")

    def position_json(self, account_name: str, position: Position) -> dict:
        with self.lock:
            return position_json(position, self.prices.get(position.symbol),
                                 self.qty_available(account_name, position.symbol))

    def account_json(self, account_name: str) -> dict:
        with self.lock:
            return account_json(self.account(account_name), self.prices)

    def snapshot(self) -> dict:
        """Everything an operator wants to eyeball, without secrets."""
        with self.lock:
            return {
                "clock": self.clock_json(),
                "frozen": self.clock.frozen,
                "prices": {s: fmt(p) for s, p in sorted(self.prices.items())},
                "quotes": {s: quote_json(q) for s, q in sorted(self.quotes.items())},
                "latency": self.latency,
                "faults": [vars(f) for f in self.faults],
                "accounts": [
                    {
                        "name": a.name,
                        "account": self.account_json(a.name),
                        "positions": [self.position_json(a.name, p)
                                      for p in self.list_positions(a.name)],
                        "orders": [order_json(o) for o in a.orders],
                        "streams": [c for c in self.stream_connections() if c["account"] == a.name],
                    }
                    for a in self.accounts.values()
                ],
            }
