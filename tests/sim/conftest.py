"""Emulator tests talk to it with alpaca-py directly; the emulator fixtures are in tests/conftest.py."""

import pytest
from alpaca.trading.client import TradingClient

@pytest.fixture
def client_for(sim, keys):
    """alpaca-py TradingClient for account "a" or "b"; its 429/504 retries do not sleep."""

    def make(name: str = "a") -> TradingClient:
        key, secret = keys[name]
        client = TradingClient(key, secret, url_override=sim.url)
        client._retry_wait = 0
        return client

    return make


@pytest.fixture
def trading(client_for):
    return client_for("a")
