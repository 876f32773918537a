"""Emulator tests talk to it with alpaca-py directly; the emulator fixtures are in tests/conftest.py."""

import asyncio
import queue
import threading

import pytest
from alpaca.trading.client import TradingClient

from helpers import wait_until

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


@pytest.fixture
def run_stream(sim):
    """Start an alpaca-py stream client's own ``run()`` in a thread; every one is stopped and joined at teardown.

    alpaca-py looks at a stop request only between messages (or every 5 s), so the
    emulator closes the streams once the clients were told to stop.
    """
    started = []

    def start(client):
        thread = threading.Thread(target=client.run, daemon=True)
        thread.start()
        started.append((client, thread))
        return client

    yield start
    for client, _ in started:
        wait_until(lambda: client._loop is not None, f"{type(client).__name__}'s event loop", timeout=5)
        if client._loop.is_running():
            asyncio.run_coroutine_threadsafe(client.stop_ws(), client._loop).result(timeout=5)
    sim.state.drop_streams(mode="close")
    for client, thread in started:
        thread.join(timeout=10)
        assert not thread.is_alive(), f"{type(client).__name__} did not stop"


@pytest.fixture
def collect():
    """An async handler for alpaca-py's streams that hands each message to the test through a queue."""

    def make() -> tuple[queue.Queue, object]:
        received = queue.Queue()

        async def handler(message):
            received.put(message)

        return received, handler

    return make
