"""Alpaca's websocket streams for one account, through alpaca-py's own clients, in the core's vocabulary.

``TradingStream`` carries the account's trade updates; ``StockDataStream`` and ``OptionDataStream`` the quotes and
trades of the symbols it holds. Each client runs its own ``run()`` on a thread of its own, as alpaca-py intends,
and reconnects a dropped connection itself, with backoff. What happened while a stream was away is not replayed,
so every (re)connection is reported (``on_connect``): the caller reads the broker afresh over REST.

Two things of alpaca-py's are planned around here. It notices a stop only between messages or every 5 s, so a
stop closes the socket as well, and the client ends at once. And its data clients take a stale socket (one that
answers pings but sends nothing) for a healthy one unless told otherwise; ``reconnect`` is how the caller, which
knows whether the market is open, says so.

Messages are read raw (``raw_data``): quantities arrive as the strings Alpaca sends, not as floats, and a quote
costs no model validation.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import urlsplit

from alpaca.data.enums import DataFeed, OptionsFeed
from alpaca.data.live.option import OptionDataStream
from alpaca.data.live.stock import StockDataStream
from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.stream import TradingStream

from pmctl.broker.adapter import as_order
from pmctl.config import AccountConfig
from pmctl.core.market import Order
from pmctl.core.numbers import finite_decimal

log = logging.getLogger("pmctl")

TRADING, STOCKS, OPTIONS = "trading", "stocks", "options"
#: Pings every 10 s; a peer silent for 20 s more is gone (alpaca-py's default waits 180 s).
WEBSOCKET_PARAMS = {"ping_interval": 10, "ping_timeout": 20, "max_queue": 1024}
STOP_SECONDS = 5.0
#: Alpaca's market-data host is not the REST one: data.alpaca.markets streams from stream.data.alpaca.markets.
_DATA_HOST_SUFFIX = "alpaca.markets"


@dataclass(frozen=True)
class OrderUpdate:
    """One trade update: the order as it stands after the event, and for a fill the position it left."""

    event: str
    order: Order
    order_class: str
    position_qty: Decimal | None = None


@dataclass(frozen=True)
class Print:
    """A market-data point: a trade (``price``) or a quote (``bid``/``ask`` and their sizes), at ``at`` (UTC)."""

    symbol: str
    at: datetime
    price: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None

    @property
    def is_quote(self) -> bool:
        return self.price is None


def trading_stream_url(base_url: str) -> str:
    """The trading stream lives on the REST host, at /stream (wss://paper-api.alpaca.markets/stream)."""
    parts = urlsplit(base_url)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}/stream"


def data_stream_url(data_url: str, kind: str, feed: str) -> str:
    """Stocks at /v2/FEED, options at /v1beta1/FEED, on Alpaca's stream host or on the host given (an emulator)."""
    parts = urlsplit(data_url)
    host = parts.netloc
    if parts.hostname and parts.hostname.endswith(_DATA_HOST_SUFFIX) and parts.hostname.startswith("data."):
        host = f"stream.{host}"
    path = f"/v2/{feed}" if kind == STOCKS else f"/v1beta1/{feed}"
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{host}{path}"


class StreamClient:
    """One alpaca-py stream client on its own thread: started, resubscribed, made to reconnect, stopped."""

    def __init__(self, kind: str, client, account: str):
        self.kind = kind
        self.client = client
        self._thread = threading.Thread(target=client.run, name=f"pmctl-{kind}-{account}", daemon=True)
        self.symbols: frozenset[str] = frozenset()

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def follow(self, symbols: frozenset[str], handler) -> None:
        """Subscribe to the quotes and trades of ``symbols`` and drop the rest. A change that cannot be sent now (the
        client is reconnecting) is kept: alpaca-py sends every subscription again when it reconnects."""
        added, removed = sorted(symbols - self.symbols), sorted(self.symbols - symbols)
        try:
            if added:
                self.client.subscribe_quotes(handler, *added)
                self.client.subscribe_trades(handler, *added)
            if removed:
                self.client.unsubscribe_quotes(*removed)
                self.client.unsubscribe_trades(*removed)
        except (OSError, AttributeError, RuntimeError, ValueError) as error:
            log.debug(f"{self.kind} stream: subscription not sent now ({type(error).__name__}); it follows on reconnect")
        self.symbols = symbols

    def reconnect(self) -> None:
        """Close the socket: alpaca-py connects again, with its backoff, and the caller hears ``on_connect``."""
        if (loop := self._running_loop()) is not None:
            asyncio.run_coroutine_threadsafe(self.client.close(), loop)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Ask the client to stop, then close its socket so that it does not wait for the next message."""
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and not self._running_loop() and time.monotonic() < deadline:
            time.sleep(0.01)
        if (loop := self._running_loop()) is not None:
            try:
                asyncio.run_coroutine_threadsafe(self.client.stop_ws(), loop).result(timeout)
                asyncio.run_coroutine_threadsafe(self.client.close(), loop).result(timeout)
            except (RuntimeError, TimeoutError, OSError):
                pass
        self._thread.join(max(deadline - time.monotonic(), 0.1))

    def _running_loop(self):
        loop = self.client._loop
        return loop if loop is not None and loop.is_running() else None


def trading_client(account: AccountConfig, on_update: Callable[[OrderUpdate], None],
                   on_connect: Callable[[str], None]) -> StreamClient:
    client = _Trading(account.api_key.reveal(), account.secret_key.reveal(), paper=account.paper, raw_data=True,
                      url_override=trading_stream_url(account.base_url), websocket_params=dict(WEBSOCKET_PARAMS))
    client.connected = lambda: on_connect(TRADING)

    async def handler(message: dict) -> None:
        update = order_update(message.get("data") or {})
        if update is not None:
            on_update(update)

    client.subscribe_trade_updates(handler)
    return StreamClient(TRADING, client, account.name)


def data_client(kind: str, account: AccountConfig, feed: str, on_connect: Callable[[str], None]) -> StreamClient:
    make = _Stocks if kind == STOCKS else _Options
    client = make(account.api_key.reveal(), account.secret_key.reveal(), raw_data=True,
                  feed=DataFeed(feed) if kind == STOCKS else OptionsFeed(feed),
                  url_override=data_stream_url(account.data_url, kind, feed), websocket_params=dict(WEBSOCKET_PARAMS))
    client.connected = lambda: on_connect(kind)
    return StreamClient(kind, client, account.name)


def print_handler(on_print: Callable[[Print], None]):
    """The coroutine alpaca-py calls for each quote or trade of a subscribed symbol."""

    async def handler(message: dict) -> None:
        point = market_print(message)
        if point is not None:
            on_print(point)

    return handler


def order_update(data: dict) -> OrderUpdate | None:
    """A trade update's ``data``; None for one that carries no order (nothing to act on)."""
    raw = data.get("order")
    if not isinstance(raw, dict):
        return None
    try:
        order = AlpacaOrder(**raw)
        position_qty = data.get("position_qty")
        return OrderUpdate(
            event=str(data.get("event") or ""),
            order=as_order(order),
            order_class=order.order_class.value if order.order_class else "simple",
            position_qty=finite_decimal(position_qty) if position_qty not in (None, "") else None,
        )
    except (ValueError, TypeError) as error:
        log.warning(f"unreadable trade update ignored ({type(error).__name__}); the next REST snapshot covers it")
        return None


def market_print(message: dict) -> Print | None:
    """A raw quote (``T`` q) or trade (``T`` t) point; None for anything else."""
    kind, symbol, stamp = message.get("T"), message.get("S"), message.get("t")
    if kind not in ("q", "t") or not isinstance(symbol, str):
        return None
    at = stamp.to_datetime() if hasattr(stamp, "to_datetime") else datetime.now(timezone.utc)
    try:
        if kind == "t":
            return Print(symbol, at, price=_decimal(message.get("p")))
        return Print(symbol, at, bid=_decimal(message.get("bp")), ask=_decimal(message.get("ap")),
                     bid_size=_decimal(message.get("bs")), ask_size=_decimal(message.get("as")))
    except (ValueError, TypeError):
        return None


def symbols_by_kind(symbols: Iterable[str], is_option: Callable[[str], bool]) -> dict[str, frozenset[str]]:
    chosen = list(symbols)
    return {STOCKS: frozenset(s for s in chosen if not is_option(s)),
            OPTIONS: frozenset(s for s in chosen if is_option(s))}


def quiet_sdk_logs() -> None:
    """alpaca-py logs each reconnect, with a traceback for some; pmctl says what matters in its own words, so the
    SDK's records go to pmctl's log at debug level (``-vv``), without tracebacks."""
    sdk = logging.getLogger("alpaca")
    sdk.handlers = [_ToPmctl()]
    sdk.propagate = False
    sdk.setLevel(logging.DEBUG)


class _ToPmctl(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        log.debug(f"alpaca-py: {record.getMessage()}")


def _decimal(value) -> Decimal | None:
    return None if value is None else finite_decimal(value)


class _Connected:
    """Each client calls ``connected`` once it is authenticated and listening again (alpaca-py 0.44's
    ``_start_ws`` is the one step every (re)connection goes through)."""

    connected: Callable[[], None] = staticmethod(lambda: None)

    async def _start_ws(self) -> None:
        await super()._start_ws()
        self.connected()


class _Trading(_Connected, TradingStream):
    pass


class _Stocks(_Connected, StockDataStream):
    pass


class _Options(_Connected, OptionDataStream):
    pass
