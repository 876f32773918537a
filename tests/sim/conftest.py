from datetime import datetime, timezone
from decimal import Decimal

import pytest
from alpaca.trading.client import TradingClient

from pmctl.sim.clock import Calendar, SimClock
from pmctl.sim.server import SimServer
from pmctl.sim.state import SimState

KEYS = {"a": ("PKAAAATEST", "secret-a"), "b": ("PKBBBBTEST", "secret-b")}
NOON = datetime(2026, 2, 3, 16, 0, tzinfo=timezone.utc)


@pytest.fixture
def state():
    state = SimState(SimClock(Calendar(), NOON, is_open=True, frozen=True))
    for name, (key, secret) in KEYS.items():
        state.add_account(name, key, secret, account_number=f"PA-{name.upper()}")
    state.set_price("GOOGL", Decimal("335.40"))
    state.set_price("GOOGL260220C00340000", Decimal("4.00"))
    return state


@pytest.fixture
def sim(state):
    with SimServer(state) as server:
        yield server


@pytest.fixture
def keys():
    return KEYS


@pytest.fixture
def noon():
    return NOON


@pytest.fixture
def client_for(sim):
    """alpaca-py TradingClient for account "a" or "b"; its 429/504 retries do not sleep."""

    def make(name: str = "a") -> TradingClient:
        key, secret = KEYS[name]
        client = TradingClient(key, secret, url_override=sim.url)
        client._retry_wait = 0
        return client

    return make


@pytest.fixture
def trading(client_for):
    return client_for("a")
