"""The broker's side of the streams: what it announces, and how a test drops, mutes or waits for a client.

Mixed into ``SimState``: order events become trade updates for the account's
listeners, and a change of a symbol's last trade or quote becomes a data point for
its subscribers, both built under the state's lock so they leave in the order they
happened. Nothing is built when nobody listens.
"""

import uuid
from decimal import Decimal

from pmctl import occ
from pmctl.sim import stream_wire
from pmctl.sim.models import Account, Order, fmt, unprocessable
from pmctl.sim.render import market_quote_json, market_trade_json, order_json
from pmctl.sim.streams import StreamHub


def _hub_call(call):
    try:
        return call()
    except ValueError as e:
        raise unprocessable(str(e)) from None


class Streaming:
    """Mixed into ``SimState``: shares its lock, clock, prices and quotes."""

    streams: StreamHub

    def _announce(self, account: Account, order: Order, event: str,
                  fill: tuple[Decimal, Decimal] | None = None) -> None:
        """A trade update; ``fill`` is (qty, price) of this execution."""
        listeners = self.streams.listening(account.name)
        if not listeners:
            return
        details = None
        if fill is not None:
            qty, price = fill
            position = account.positions.get(order.symbol)
            details = {"execution_id": str(uuid.uuid4()), "price": fmt(price), "qty": fmt(qty),
                       "position_qty": fmt(position.qty if position else Decimal(0))}
        message = stream_wire.trade_update(event, order_json(order), self.clock.now(), details)
        for connection in listeners:
            self.streams.send(connection, message)

    def _publish(self, symbol: str, channel: str) -> None:
        """``symbol``'s latest trade (``channel`` ``trades``) or quote (``quotes``) to the data streams subscribed
        to it; read only when someone listens."""
        kind = "options" if occ.is_option(symbol) else "stocks"
        subscribers = self.streams.subscribers(kind, channel, symbol)
        if not subscribers:
            return
        latest, render, tag = ((self.latest_trade, market_trade_json, "t") if channel == "trades"
                               else (self.quote, market_quote_json, "q"))
        point = latest(symbol)
        if point is not None:
            data = stream_wire.point(tag, symbol, render(point, kind == "options"))
            for connection in subscribers:
                self.streams.send(connection, data, point=True)

    def drop_streams(self, kind: str | None = None, account: str | None = None,
                     mode: str = "abrupt") -> int:
        """Cut matching connections (``abrupt``: no close frame, as a network failure; ``close``: a close frame)."""
        return _hub_call(lambda: self.streams.drop(kind, account, mode))

    def pause_streams(self, kind: str | None = None, account: str | None = None) -> int:
        """Mute matching connections: open, answering pings, sending nothing (a stale stream) until resumed."""
        return _hub_call(lambda: self.streams.pause(kind, account, True))

    def resume_streams(self, kind: str | None = None, account: str | None = None) -> int:
        """Unmute; what happened while muted is not replayed."""
        return _hub_call(lambda: self.streams.pause(kind, account, False))

    def stream_connections(self) -> list[dict]:
        return self.streams.describe()

    def set_stream_connection_limit(self, limit: int | None) -> None:
        """Sessions per account on one data endpoint (Alpaca: 1 on most plans); None: no limit."""
        if limit is not None and limit < 1:
            raise unprocessable("stream connection limit must be >= 1 or null")
        self.streams.connection_limit = limit

    def wait_for_streams(self, kind: str | None = None, account: str | None = None, *,
                         listening=(), quotes=(), trades=(), count: int = 1, excluding=(),
                         timeout: float = 5.0) -> list[dict]:
        """Block until ``count`` authenticated connections of ``kind``/``account`` listen to ``listening`` and
        subscribe to every symbol of ``quotes`` and ``trades``; their descriptions, or TimeoutError.
        ``excluding``: connection ids that do not count (the one a client is about to replace)."""

        def ready(connection: dict) -> bool:
            channels = connection["channels"]
            return (connection["account"] is not None and connection["id"] not in excluding
                    and kind in (None, connection["kind"]) and account in (None, connection["account"])
                    and all(s in connection["listening"] for s in listening)
                    and all(s in channels.get("quotes", ()) for s in quotes)
                    and all(s in channels.get("trades", ()) for s in trades))

        described = self.streams.wait(lambda cs: sum(map(ready, cs)) >= count, timeout)
        return [c for c in described if ready(c)]
