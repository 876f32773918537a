"""What a client may say on each stream and what Alpaca answers, one session per connection.

The trading stream (``/stream``): ``authenticate`` (or ``auth``) then ``listen``, answers
on the ``authorization`` and ``listening`` streams (docs "Websocket Streaming").
Market data (``/v2/{feed}``, ``/v1beta1/{feed}``): ``connected`` on arrival, ``auth``
within 10 seconds, ``subscribe``/``unsubscribe`` answered with the whole subscription,
errors by Alpaca's codes (docs "WebSocket Stream", "Real-time Option Data"). A session
never touches the socket: it queues frames on its connection through the hub.
"""

import time

from pmctl import occ
from pmctl.sim import stream_wire as wire
from pmctl.sim.models import SimError
from pmctl.sim.streams import StreamConnection, StreamHub

AUTH_TIMEOUT_SECONDS = 10.0
STOCK_FEEDS = ("iex", "sip", "delayed_sip", "boats", "overnight", "otc")
OPTION_FEEDS = ("indicative", "opra")
STOCK_CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds")
OPTION_CHANNELS = ("trades", "quotes")
TRADING_STREAMS = ("trade_updates",)


def stream_kind(path: str) -> str | None:
    """Which stream a path serves: the trading host's /stream, or a market-data feed; None: no stream there."""
    if path == "/stream":
        return "trading"
    version, _, feed = path.strip("/").partition("/")
    if version == "v2" and feed in STOCK_FEEDS:
        return "stocks"
    if version == "v1beta1" and feed in OPTION_FEEDS:
        return "options"
    return None


class TradingSession:
    """Alpaca's order-update stream for one account, once authorized."""

    deadline = None

    def __init__(self, hub: StreamHub, state, connection: StreamConnection):
        self.hub, self.state, self.connection = hub, state, connection

    def _send(self, message: dict) -> None:
        self.hub.send(self.connection, message)

    def opened(self, headers) -> None:
        """Nothing is said until the client speaks."""

    def timed_out(self) -> None:
        """The trading stream documents no authentication deadline."""

    def receive(self, message) -> None:
        """Unknown actions and malformed messages get no answer (Alpaca documents none for them)."""
        if not isinstance(message, dict):
            return
        action = message.get("action")
        if action in ("authenticate", "auth"):
            data = message.get("data") if action == "authenticate" else message
            data = data if isinstance(data, dict) else {}
            key = data.get("key_id", data.get("key"))
            secret = data.get("secret_key", data.get("secret"))
            account = _account(self.state, key, secret)
            if account is not None:
                self.hub.authenticate(self.connection, account)
            self._send(wire.authorization("authorized" if account else "unauthorized", "authenticate"))
        elif action == "listen":
            if self.connection.account is None:
                self._send(wire.authorization("unauthorized", "listen"))
                return
            data = message.get("data")
            asked = data.get("streams") if isinstance(data, dict) else None
            asked = asked if isinstance(asked, list) else []
            streams = tuple(s for s in TRADING_STREAMS if s in asked)
            self.hub.update(lambda: setattr(self.connection, "listening", streams))
            self._send(wire.listening(streams))


class DataSession:
    """A market-data feed: stocks (``/v2/{feed}``) or options (``/v1beta1/{feed}``)."""

    def __init__(self, hub: StreamHub, state, connection: StreamConnection):
        self.hub, self.state, self.connection = hub, state, connection
        self.option = connection.kind == "options"
        self.channels = OPTION_CHANNELS if self.option else STOCK_CHANNELS
        self.deadline: float | None = time.monotonic() + AUTH_TIMEOUT_SECONDS

    def _send(self, message: list[dict]) -> None:
        self.hub.send(self.connection, message)

    def _fail(self, code: int) -> None:
        """An error after which Alpaca does not keep the session."""
        self._send(wire.error(code))
        self.hub.close(self.connection)

    def opened(self, headers) -> None:
        """Options speak msgpack only (412); keys in the handshake headers authenticate at once."""
        if self.option and self.connection.encoding != "msgpack":
            self._fail(412)
            return
        self._send(wire.success("connected"))
        key, secret = headers.get("APCA-API-KEY-ID"), headers.get("APCA-API-SECRET-KEY")
        if key is not None or secret is not None:
            self._authenticate(key, secret)

    def timed_out(self) -> None:
        self.deadline = None
        self._fail(404)

    def _authenticate(self, key, secret) -> None:
        account = _account(self.state, key, secret)
        if account is None:
            self._send(wire.error(402))
        elif not self.hub.authenticate(self.connection, account):
            self._fail(406)
        else:
            self.deadline = None
            self._send(wire.success("authenticated"))

    def receive(self, message) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("action"), str):
            self._send(wire.error(400))
            return
        action = message["action"]
        if action == "auth":
            if self.connection.account is not None:
                self._send(wire.error(403))
            else:
                self._authenticate(message.get("key"), message.get("secret"))
        elif action in ("subscribe", "unsubscribe"):
            if self.connection.account is None:
                self._send(wire.error(401))
                return
            self._subscription(message, add=action == "subscribe")
        else:
            self._send(wire.error(400))

    def _subscription(self, message: dict, add: bool) -> None:
        """All of the request or none of it: an error leaves the subscriptions as they were."""
        asked = {k: v for k, v in message.items() if k != "action"}
        for channel, symbols in asked.items():
            if channel not in self.channels:
                self._send(wire.error(410))
                return
            if not isinstance(symbols, list) or not all(self._valid(s) for s in symbols):
                self._send(wire.error(400))
                return
            if add and self.option and channel == "quotes" and "*" in symbols:
                self._send(wire.error(413))
                return
        self.hub.update(lambda: self._apply(asked, add))
        self._send([self._subscriptions()])

    def _apply(self, asked: dict, add: bool) -> None:
        for channel, symbols in asked.items():
            current = self.connection.channels.setdefault(channel, {})
            for symbol in symbols:
                if add:
                    current[symbol] = None
                else:
                    current.pop(symbol, None)

    def _valid(self, symbol) -> bool:
        if symbol == "*":
            return True
        return (isinstance(symbol, str) and occ.problem(symbol) is None
                and occ.is_option(symbol) == self.option)

    def _subscriptions(self) -> dict:
        listed = {c: list(self.connection.channels.get(c, {})) for c in self.channels}
        if not self.option:
            listed["corrections"] = list(listed["trades"])
            listed["cancelErrors"] = list(listed["trades"])
        return {"T": "subscription", **listed}


def _account(state, key, secret) -> str | None:
    try:
        return state.authenticate(key, secret).name
    except SimError:
        return None


def session_for(hub: StreamHub, state, connection: StreamConnection):
    return (TradingSession if connection.kind == "trading" else DataSession)(hub, state, connection)
