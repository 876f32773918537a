"""``pmctl run`` for one account: hold its lock, keep its book current from the streams, decide on every update.

The account's advisory lock is a session lock on a connection kept open for as long as the watcher runs: cron's
``pmctl check`` finds it held and exits 75 within its second of grace, and a second ``pmctl run`` waits as a
standby, polling, until the session ends (a clean stop, a crash, a host the database stops hearing from) and takes
over. A standby opens no stream: Alpaca allows one data-stream session per account and endpoint.

Once it holds the lock it connects the trading stream, reads the broker in full over REST and runs a whole cycle,
as ``pmctl check`` would; then it subscribes to the quotes and trades of every symbol held, and from there each
update runs the core's decision (``plan_check``) for the symbols it touched, applied by the same applier: its closes
and settlements, and the protection at the broker a cron cycle would plan for those rows (rest, move, cancel before
another close); a resting order the broker filled settles from its trade update. Updates
that arrive while a cycle runs are gathered, so the next cycle takes them all at once. The broker is read in full
again after every reconnect of a stream (nothing that happened meanwhile is replayed), when the market opens or
closes, and every ``resync_seconds`` (60 by default: the cadence of the cron job it replaces, so the book is never
watched worse than by cron, at the cost of four requests a minute; it also runs the rules that fire on the clock).
A data stream silent for ``stale_seconds`` while the market is open is taken for a dead one and reconnected.

Every few seconds the watcher beats on its lock's connection (``broker_accounts.watcher_beat_at``); a failure there
means the lock is gone with the session, and it stops acting at once, closes its streams and goes back to waiting.
"""

import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg

from pmctl import occ
from pmctl.broker import streams as wire
from pmctl.config import AccountConfig, Settings
from pmctl.core import walk
from pmctl.core.check import plan_check
from pmctl.core.ledger import underlyings_needed
from pmctl.core.plan import Adopt, TakePlan
from pmctl.errors import AccountRefused, BrokerError, DatabaseError, PmctlError
from pmctl.shell.live import LiveBook, LiveBroker
from pmctl.shell.run import AccountResult, Identity, cycle_held, verify_accounts
from pmctl.store import accounts as account_store
from pmctl.store import locks
from pmctl.store.connection import connect

log = logging.getLogger("pmctl")

#: How long the first REST read waits for the trading stream, so that nothing falls between the two.
TRADING_CONNECT_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class Tuning:
    resync_seconds: float = 60.0
    stale_seconds: float = 60.0
    beat_seconds: float = 5.0
    lock_poll_seconds: float = 0.5


@dataclass
class Shared:
    """What every account's watcher of one ``pmctl run`` shares. ``label``: how its cycles are recorded
    (``run@host``); ``watcher``: how its beats are (``run@host pid N``), telling two watchers of one host apart."""

    settings: Settings
    database_url: str
    actor: str
    label: str
    watcher: str
    tuning: Tuning
    brokers: dict
    pool: object
    ledger: object
    report: Callable[[list[AccountResult]], None]
    stopping: threading.Event = field(default_factory=threading.Event)


class AccountFailed(PmctlError):
    """The account cannot be watched by this process at all (its keys belong to another account)."""


class LostLock(Exception):
    """The lock's session ended under the watcher: another run may hold the account now."""


class Mailbox:
    """What the streams tell the watcher's thread, gathered until it looks: symbols touched, REST reads owed."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._symbols: set[str] = set()
        self._resync: list[str] = []
        self._refresh = False
        self._stop = False

    def touch(self, symbol: str, refresh: bool = False) -> None:
        with self._ready:
            self._symbols.add(symbol)
            self._refresh |= refresh
            self._ready.notify()

    def resync(self, why: str) -> None:
        with self._ready:
            self._resync.append(why)
            self._ready.notify()

    def stop(self) -> None:
        with self._ready:
            self._stop = True
            self._ready.notify()

    def take(self, timeout: float) -> tuple[frozenset[str], list[str], bool, bool]:
        """(symbols, resync reasons, refresh, stop), waiting at most ``timeout`` for any."""
        with self._ready:
            if not (self._symbols or self._resync or self._refresh or self._stop):
                self._ready.wait(max(timeout, 0))
            taken = (frozenset(self._symbols), self._resync, self._refresh, self._stop)
            self._symbols, self._resync, self._refresh = set(), [], False
            return taken


class Streams:
    """The account's three streams, data streams only for the kinds of symbol it holds."""

    def __init__(self, account: AccountConfig, book: LiveBook, mail: Mailbox):
        self.account = account
        self.book = book
        self.mail = mail
        self.connections: dict[str, int] = {}
        self.connected_at: dict[str, float] = {}
        self.trading = wire.trading_client(account, self._on_update, self._on_connect)
        self.data: dict[str, wire.StreamClient] = {}
        self._handler = wire.print_handler(self._on_print)
        self.feeds = {wire.STOCKS: account.stock_feed, wire.OPTIONS: account.option_feed}

    def _on_update(self, update: wire.OrderUpdate) -> None:
        self.mail.touch(update.order.symbol, refresh=self.book.on_update(update))

    def _on_print(self, point: wire.Print) -> None:
        for symbol in self.book.on_print(point, wire.OPTIONS if occ.is_option(point.symbol) else wire.STOCKS):
            self.mail.touch(symbol)

    def _on_connect(self, kind: str) -> None:
        """A first connection starts the stream; any later one is a reconnect, after which the broker is read."""
        self.connected_at[kind] = time.monotonic()
        self.connections[kind] = self.connections.get(kind, 0) + 1
        if self.connections[kind] > 1 or kind == wire.TRADING:
            self.mail.resync(f"{kind} stream connected" if self.connections[kind] == 1
                             else f"{kind} stream reconnected")

    def follow(self, symbols: frozenset[str]) -> None:
        """Subscriptions follow the book: a data stream opens with the first symbol of its kind, closes with the last."""
        for kind, chosen in wire.symbols_by_kind(symbols, occ.is_option).items():
            client = self.data.get(kind)
            if chosen and client is None:
                client = wire.data_client(kind, self.account, self.feeds[kind], self._on_connect)
                client.follow(chosen, self._handler)
                client.start()
                self.data[kind] = client
                self.connected_at[kind] = time.monotonic()
                self.connections[kind] = 0
            elif client is not None and not chosen:
                client.stop()
                del self.data[kind]
            elif client is not None:
                client.follow(chosen, self._handler)

    def silent(self, stale_seconds: float) -> list[str]:
        """Data streams with symbols to carry and no market data for ``stale_seconds``."""
        now = time.monotonic()
        return [kind for kind, client in self.data.items()
                if client.symbols and now - max(self.book.last_print.get(kind, 0.0), self.connected_at[kind])
                > stale_seconds]

    def reconnect(self, kind: str) -> None:
        self.connected_at[kind] = time.monotonic()
        client = self.data[kind]
        if client.alive:
            client.reconnect()
            return
        log.warning(f"{kind} stream ended (is the {self.feeds[kind]} feed in the account's plan?); starting it again",
                    extra={"account": self.account.name, "event": "stream_stale"})
        fresh = wire.data_client(kind, self.account, self.feeds[kind], self._on_connect)
        fresh.follow(client.symbols, self._handler)
        fresh.start()
        self.data[kind] = fresh
        self.connections[kind] = 0

    def stop(self) -> None:
        for client in (*self.data.values(), self.trading):
            client.stop()
        self.data.clear()


class AccountWatcher(threading.Thread):
    def __init__(self, shared: Shared, account: AccountConfig):
        super().__init__(name=f"pmctl-run-{account.name}", daemon=True)
        self.shared = shared
        self.account = account
        self.mail = Mailbox()
        self.active = False
        self.failure: PmctlError | None = None
        self._backoff = 1.0

    def run(self) -> None:
        name = self.account.name
        while not self.shared.stopping.is_set():
            try:
                with self._locked() as conn:
                    if conn is None:
                        return
                    self._watch(conn)
                    self._backoff = 1.0
            except AccountFailed as failed:
                self.failure = failed
                log.error(str(failed), extra={"account": name, "event": "account_refused"})
                return
            except (LostLock, DatabaseError, psycopg.Error, BrokerError) as error:
                log.error(f"stopped watching: {_text(error)}; waiting to take the account again",
                          extra={"account": name, "event": "watch_interrupted"})
            except Exception as error:  # a watcher that dies must let go of the account: cron then acts on it
                log.error(f"watcher failed ({type(error).__name__}: {error}); the account is released",
                          extra={"account": name, "event": "watch_failed"})
            finally:
                self.active = False
            self.shared.stopping.wait(self._backoff)
            self._backoff = min(self._backoff * 2, MAX_BACKOFF_SECONDS)

    @contextmanager
    def _locked(self):
        """A connection holding the account's lock, or None once the run is stopping; the lock goes with it."""
        conn = connect(self.shared.database_url, autocommit=True)
        try:
            locks.keep_alive(conn)
            said = False
            while not locks.try_lock_account(conn, self.account.name):
                if not said:
                    log.warning(f"standby: another pmctl run holds account {self.account.name}; taking over when it "
                                "ends", extra={"account": self.account.name, "event": "standby"})
                    said = True
                if self.shared.stopping.wait(self.shared.tuning.lock_poll_seconds):
                    yield None
                    return
            yield conn
        finally:
            try:
                if not conn.closed:
                    locks.release_account(conn, self.account.name)
            except psycopg.Error:
                pass
            conn.close()

    def _watch(self, conn: psycopg.Connection) -> None:
        shared, name = self.shared, self.account.name
        keys = self._keys(conn)
        self.active = True
        book, mail = LiveBook(), self.mail
        live = LiveBroker(shared.brokers[name], book)
        streams = Streams(self.account, book, mail)
        log.info(f"watching account {name} as {shared.watcher}", extra={"account": name, "event": "watching"})
        try:
            streams.trading.start()
            self._await_trading(mail)
            session = _Session(self, conn, keys, book, live, streams)
            session.loop()
        finally:
            streams.stop()
            self._leave(conn)

    def _keys(self, conn: psycopg.Connection) -> Identity:
        keys = verify_accounts(conn, self.shared.settings, self.shared.brokers, self.shared.pool)
        error = keys.error_for(self.account.name)
        if isinstance(error, AccountRefused):
            raise AccountFailed(f"refused: {error}")
        if error is not None:
            raise error
        return keys

    def _await_trading(self, mail: Mailbox) -> None:
        """Wait for the trading stream before the first REST read, so no trade update falls between the two."""
        deadline = time.monotonic() + TRADING_CONNECT_SECONDS
        while time.monotonic() < deadline and not self.shared.stopping.is_set():
            symbols, resync, refresh, stop = mail.take(deadline - time.monotonic())
            if resync or stop:
                if stop:
                    mail.stop()
                return
        log.warning("the trading stream is not connected yet: acting on REST reads until it is",
                    extra={"account": self.account.name, "event": "stream_down"})

    def _leave(self, conn: psycopg.Connection) -> None:
        """A clean stop clears the beat, so ``status`` does not read a stopped watcher as a dead one."""
        try:
            if not conn.closed:
                account_store.clear_beat(conn, self.account.name, self.shared.watcher)
        except psycopg.Error:
            pass


class _Session:
    """One spell of holding the account: the loop that reads the mailbox and runs the cycles."""

    def __init__(self, watcher: AccountWatcher, conn, keys: Identity, book: LiveBook, live: LiveBroker,
                 streams: Streams):
        self.watcher, self.conn, self.keys = watcher, conn, keys
        self.book, self.live, self.streams = book, live, streams
        self.shared = watcher.shared
        self.tuning = watcher.shared.tuning
        self.name = watcher.account.name
        self._recorded = 0.0

    def loop(self) -> None:
        tuning, mail = self.tuning, self.watcher.mail
        next_resync = self._resync(["start"])
        next_beat = 0.0
        while not self.shared.stopping.is_set():
            now = time.monotonic()
            if now >= next_beat:
                self._beat()
                next_beat = now + tuning.beat_seconds
                for symbol in walk.walking(self.name, self.book.open_orders()):
                    mail.touch(symbol)
            self.streams.follow(self.book.symbols() | self.book.underlyings)
            self._stale()
            symbols, resync, refresh, stop = mail.take(min(next_resync, next_beat) - time.monotonic())
            if stop or self.shared.stopping.is_set():
                return
            if resync or time.monotonic() >= next_resync or self.book.transition_due():
                next_resync = self._resync(resync or ["periodic"])
                continue
            if refresh:
                symbols |= self._refresh()
            if symbols:
                self._cycle(symbols)

    def _resync(self, why: list[str]) -> float:
        """Read the broker in full and cycle every row; when the next one is due (sooner after a failure)."""
        log.info(f"reading the broker in full ({', '.join(why)})", extra={"account": self.name, "event": "resync"})
        broker = self.shared.brokers[self.name]
        try:
            with self.book.lock:
                clock = broker.clock()
                self.book.reset(broker.positions(), broker.open_orders(), clock)
        except BrokerError as error:
            self.shared.report([AccountResult(self.name, error=error)])
            return time.monotonic() + min(self.tuning.resync_seconds, self.watcher._backoff)
        self.live = LiveBroker(broker, self.book)
        ok = self._cycle(None)
        return time.monotonic() + (self.tuning.resync_seconds if ok else min(self.tuning.resync_seconds, 5.0))

    def _refresh(self) -> frozenset[str]:
        """What a trade update could not say (a new position's entry, an oco's legs): positions and orders by REST.
        The symbols the answer changed are cycled with those the streams touched."""
        broker = self.shared.brokers[self.name]
        try:
            with self.book.lock:
                return self.book.reset(broker.positions(), broker.open_orders())
        except BrokerError as error:
            self.shared.report([AccountResult(self.name, error=error)])
            return frozenset()

    def _cycle(self, symbols: frozenset[str] | None) -> bool:
        """The core's decision for ``symbols`` (None: every row), applied; the cycle is recorded at most once a beat."""
        now = time.monotonic()
        by = self.shared.label if symbols is None or now - self._recorded >= self.tuning.beat_seconds else None
        try:
            result = cycle_held(self.conn, self.shared.settings, self.watcher.account, self.live, plan_check,
                                self.shared.actor, self.keys, by, symbols, self.shared.ledger)
        except psycopg.OperationalError as error:
            raise LostLock(f"the database connection holding the lock failed: {_text(error)}") from None
        if result.snapshot is not None:
            needed = frozenset(underlyings_needed(result.snapshot))
            self.book.watch_underlyings(needed if symbols is None else self.book.underlyings | needed)
        if isinstance(result.error, AccountRefused):
            raise AccountFailed(f"refused: {result.error}")
        if by is not None and result.error is None:
            self._recorded = now
        self.shared.report([result])
        for symbol in _decided_again(result):
            self.watcher.mail.touch(symbol)
        return result.error is None

    def _beat(self) -> None:
        try:
            account_store.record_beat(self.conn, self.name, self.shared.watcher)
        except psycopg.OperationalError as error:
            raise LostLock(f"the database connection holding the lock failed: {_text(error)}") from None

    def _stale(self) -> None:
        if not self.book.started or not self.book.clock().is_open:
            return
        for kind in self.streams.silent(self.tuning.stale_seconds):
            log.warning(f"{kind} stream silent for {self.tuning.stale_seconds:g} s while the market is open: "
                        "reconnecting", extra={"account": self.name, "event": "stream_stale"})
            self.streams.reconnect(kind)


def _decided_again(result: AccountResult) -> frozenset[str]:
    """Symbols whose rows the cycle created or gave new levels (an adoption, a trade's plan): decided on again at
    once, since what follows from the row as it now is (its protection at the broker) waits for no other update."""
    return frozenset(outcome.action.symbol for outcome in result.outcomes
                     if isinstance(outcome.action, (Adopt, TakePlan)) and outcome.ok)


def _text(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
