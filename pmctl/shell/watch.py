"""The shell's entry for ``pmctl run``: watch the selected accounts until told to stop.

``run_cycle`` (``pmctl.shell.cycle``) runs one cycle and returns; this runs one watcher per account
(``pmctl.shell.watcher``), each holding its account's lock for as long as it runs, and returns only when SIGTERM,
SIGINT or SIGHUP asks it to, or when no account can be watched at all. A stop drains: each watcher finishes the
cycle in flight (its orders recorded as any cycle records them), closes its streams, lets go of its lock; then the
exit code is 0. Each cycle is journalled and alerted on as ``check``'s are, and the metrics file (if asked for) is
rewritten on every beat, with the age of each account's last cycle.
"""

import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg

from pmctl.broker.streams import quiet_sdk_logs
from pmctl.config import Settings
from pmctl.errors import DatabaseError
from pmctl.exit_codes import ExitCode
from pmctl.shell.cycle import report_cycles
from pmctl.shell.database import ensure_schema, statement_refused
from pmctl.shell.gather import find_ledger
from pmctl.shell.run import MAX_PARALLEL_ACCOUNTS, AccountResult, actor, brokers_for, host_label
from pmctl.shell.watcher import AccountWatcher, Shared, Tuning
from pmctl.store import accounts as account_store
from pmctl.store.connection import connection

log = logging.getLogger("pmctl")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
#: How long a drain may take: the cycle in flight (a hung broker costs 3 x PMCTL_BROKER_TIMEOUT), then the streams.
DRAIN_SECONDS = 120.0


@dataclass(frozen=True)
class WatchRequest:
    accounts: tuple[str, ...] = ()
    metrics_file: Path | None = None
    tuning: Tuning = Tuning()


def watch(settings: Settings, database_url: str, operator: str | None, request: WatchRequest) -> ExitCode:
    selected = [settings.account(name) for name in request.accounts] if request.accounts else \
        list(settings.selected(None))
    try:
        with connection(database_url, autocommit=True) as conn:
            ensure_schema(conn, owned=settings.database_url is None, dry_run=False)
            ledger = find_ledger(conn, settings)
    except psycopg.Error as error:
        raise statement_refused(error) from None
    quiet_sdk_logs()
    metrics = _Metrics(request.metrics_file)
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_ACCOUNTS, len(settings.accounts))) as pool:
        label = host_label("run")
        shared = Shared(settings, database_url, actor(operator), label, f"{label} pid {os.getpid()}", request.tuning,
                        brokers_for(settings), pool, ledger,
                        lambda results: _report(settings, database_url, operator, metrics, results))
        watchers = [AccountWatcher(shared, account) for account in selected]
        previous = _on_stop_signals(lambda: _stop(shared, watchers))
        try:
            for watcher in watchers:
                watcher.start()
            while any(watcher.is_alive() for watcher in watchers) and not shared.stopping.is_set():
                shared.stopping.wait(request.tuning.beat_seconds)
                metrics.write(database_url, watchers)
            _stop(shared, watchers)
            deadline = time.monotonic() + DRAIN_SECONDS
            for watcher in watchers:
                watcher.join(max(deadline - time.monotonic(), 0.1))
            metrics.write(database_url, watchers)
        finally:
            _restore(previous)
    failed = [watcher for watcher in watchers if watcher.failure is not None or watcher.is_alive()]
    return ExitCode.FAILURE if failed else ExitCode.OK


def _stop(shared: Shared, watchers: list[AccountWatcher]) -> None:
    shared.stopping.set()
    for watcher in watchers:
        watcher.mail.stop()


def _report(settings, database_url, operator, metrics: "_Metrics", results: list[AccountResult]) -> None:
    report_cycles(settings, database_url, operator, results)
    metrics.add(results)


def _on_stop_signals(stop) -> dict:
    """A first signal drains; a second one ends the process as the signal would."""
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

    def handler(signum, frame) -> None:
        log.warning(f"{signal.Signals(signum).name}: finishing the cycle in flight, then letting go of the "
                    "accounts", extra={"event": "draining"})
        for each in STOP_SIGNALS:
            signal.signal(each, signal.SIG_DFL)
        stop()

    for signum in STOP_SIGNALS:
        signal.signal(signum, handler)
    return previous


def _restore(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


class _Metrics:
    """The results of every watcher's cycles since the file was last written, and the file, rewritten each beat."""

    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        self._results: list[AccountResult] = []

    def add(self, results: list[AccountResult]) -> None:
        if self.path is None:
            return
        with self._lock:
            self._results.extend(results)

    def write(self, database_url: str, watchers: list[AccountWatcher]) -> None:
        if self.path is None:
            return
        from pmctl.shell import metrics

        names = [watcher.account.name for watcher in watchers]
        try:
            with connection(database_url, autocommit=True) as conn:
                ages = {name: beat[0] for name, beat in account_store.heartbeats(conn, names).items()}
        except (DatabaseError, psycopg.Error) as error:
            log.warning(f"metrics: the last cycles could not be read ({error})", extra={"event": "metrics"})
            ages = {}
        with self._lock:
            results, self._results = self._results, []
        watching = {watcher.account.name: (ages.get(watcher.account.name), watcher.active) for watcher in watchers}
        try:
            metrics.write(self.path, results, time.time(), watching)
        except OSError as error:
            log.error(f"metrics file {self.path} not written: {error.strerror or error}", extra={"event": "metrics"})
