"""The emulator's websocket streams as a world apart from the sockets: who is connected, to what, and what they get next.

``SimState`` publishes every order event and market change here, under its own lock;
the hub only appends to the outboxes of the connections that want it, so a slow
client never holds up the broker. Sessions (``stream_sessions``) decide what a
client may do; the socket layer (``stream_socket``) moves the frames. Tests steer
connections through the hub: drop them, mute them (a stale stream), or wait until a
client has subscribed.
"""

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field

KINDS = ("trading", "stocks", "options")
DROP_MODES = ("abrupt", "close")
OUTBOX_LIMIT = 10_000
BATCH_LIMIT = 1_000
_ids = itertools.count(1)


class Outbox:
    """Frames waiting for the writer, bounded like Alpaca's server buffer: past the bound the client is too slow.

    Market-data points queued back to back leave as one array, as Alpaca batches them
    for clients that fall behind; control messages always leave alone.
    """

    def __init__(self, limit: int = OUTBOX_LIMIT):
        self._items: deque = deque()
        self._ready = threading.Condition()
        self._limit = limit
        self.ending: str | None = None

    def put(self, item, point: bool = False) -> bool:
        with self._ready:
            if self.ending is not None:
                return True
            if len(self._items) >= self._limit:
                return False
            self._items.append((point, item))
            self._ready.notify()
            return True

    def end(self, mode: str) -> None:
        """Stop after what is queued (``close``: with a close frame; ``abrupt``: cut at once, nothing more sent)."""
        with self._ready:
            if self.ending is None:
                self.ending = mode
            if mode == "abrupt":
                self._items.clear()
            self._ready.notify()

    def take(self):
        """(frame or None, ending): a frame to send, or None once the outbox has ended and is empty."""
        with self._ready:
            while not self._items and self.ending is None:
                self._ready.wait()
            if not self._items:
                return None, self.ending
            point, item = self._items.popleft()
            if not point:
                return item, None
            batch = [item]
            while self._items and self._items[0][0] and len(batch) < BATCH_LIMIT:
                batch.append(self._items.popleft()[1])
            return batch, None


@dataclass(eq=False)
class StreamConnection:
    """One client: ``channels`` are a data stream's subscriptions, ``listening`` a trading stream's streams."""

    kind: str
    path: str
    encoding: str
    id: int = field(default_factory=lambda: next(_ids))
    account: str | None = None
    channels: dict[str, dict[str, None]] = field(default_factory=dict)
    listening: tuple[str, ...] = ()
    paused: bool = False
    outbox: Outbox = field(default_factory=Outbox)

    def subscribed(self, channel: str, symbol: str) -> bool:
        symbols = self.channels.get(channel, {})
        return symbol in symbols or "*" in symbols

    def describe(self) -> dict:
        return {"id": self.id, "kind": self.kind, "path": self.path, "encoding": self.encoding,
                "account": self.account, "paused": self.paused, "listening": list(self.listening),
                "channels": {c: list(s) for c, s in self.channels.items()}}


def _check(kind: str | None, mode: str | None = None) -> None:
    if kind is not None and kind not in KINDS:
        raise ValueError(f"stream kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if mode is not None and mode not in DROP_MODES:
        raise ValueError(f"drop mode must be one of {', '.join(DROP_MODES)}, got {mode!r}")


class StreamHub:
    """Every open stream connection of one emulator; thread-safe, never blocks on a socket."""

    def __init__(self):
        self._changed = threading.Condition()
        self._connections: list[StreamConnection] = []
        self._sessions = 0
        self.connection_limit: int | None = 1

    def open(self, connection: StreamConnection) -> None:
        """A session starts; ``finished`` must follow once its threads are done."""
        with self._changed:
            self._connections.append(connection)
            self._sessions += 1
            self._changed.notify_all()

    def finished(self, connection: StreamConnection) -> None:
        self.close(connection)
        with self._changed:
            self._sessions -= 1
            self._changed.notify_all()

    def close(self, connection: StreamConnection, mode: str = "close") -> None:
        """Forget the connection and let its writer end it (idempotent)."""
        with self._changed:
            if connection in self._connections:
                self._connections.remove(connection)
            self._changed.notify_all()
        connection.outbox.end(mode)

    def authenticate(self, connection: StreamConnection, account: str) -> bool:
        """False when the account already has as many sessions on this data endpoint as Alpaca allows (406)."""
        with self._changed:
            if connection.kind != "trading" and self.connection_limit is not None:
                same = [c for c in self._connections if c is not connection and c.account == account
                        and c.path == connection.path]
                if len(same) >= self.connection_limit:
                    return False
            connection.account = account
            self._changed.notify_all()
            return True

    def update(self, change) -> None:
        """Run ``change()`` (a session changing what its connection listens to) under the hub's lock, and wake waiters."""
        with self._changed:
            change()
            self._changed.notify_all()

    def send(self, connection: StreamConnection, frame, point: bool = False) -> None:
        """Queue a frame unless the connection is muted; a client too slow to drain its outbox is dropped."""
        if connection.paused:
            return
        if not connection.outbox.put(frame, point):
            self.close(connection, "abrupt")

    def listening(self, account: str) -> list[StreamConnection]:
        with self._changed:
            return [c for c in self._connections if c.kind == "trading" and c.account == account
                    and "trade_updates" in c.listening]

    def subscribers(self, kind: str, channel: str, symbol: str) -> list[StreamConnection]:
        with self._changed:
            return [c for c in self._connections if c.kind == kind and c.account is not None
                    and c.subscribed(channel, symbol)]

    def _matching(self, kind: str | None, account: str | None) -> list[StreamConnection]:
        return [c for c in self._connections
                if kind in (None, c.kind) and account in (None, c.account)]

    def drop(self, kind: str | None = None, account: str | None = None, mode: str = "abrupt") -> int:
        _check(kind, mode)
        with self._changed:
            dropped = self._matching(kind, account)
        for connection in dropped:
            self.close(connection, mode)
        return len(dropped)

    def pause(self, kind: str | None = None, account: str | None = None, paused: bool = True) -> int:
        _check(kind)
        with self._changed:
            matched = self._matching(kind, account)
            for connection in matched:
                connection.paused = paused
            self._changed.notify_all()
            return len(matched)

    def describe(self) -> list[dict]:
        with self._changed:
            return [c.describe() for c in self._connections]

    def wait(self, predicate, timeout: float) -> list[dict]:
        """The connections' descriptions once ``predicate`` holds for them; TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                described = [c.describe() for c in self._connections]
                if predicate(described):
                    return described
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no stream connection as awaited within {timeout} s: {described}")
                self._changed.wait(left)

    def close_all(self, timeout: float = 5.0) -> None:
        """End every connection with a close frame and wait (bounded) until their sessions are over."""
        self.drop(mode="close")
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._sessions and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
