"""``pmctl run`` as a real process against the emulator and this test's database: what the watcher's tests share
(their fixtures, ``held`` and ``run_watcher``, are in ``tests/e2e/conftest.py``)."""

import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

from helpers import wait_until

STOCK = "SPY"
#: Long 10 SPY at 100, a 5 % stop (95) from the settings: a trade at 94 crosses it.
ENV = {"PMCTL_STOP_LOSS_PERCENT": "5"}
#: Seconds a watcher may take to start: a fresh interpreter importing alpaca-py on a loaded machine.
STARTS = 30


@dataclass
class Watcher:
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text()

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 30) -> int:
        return self.process.wait(timeout)


def beating(database_url: str, account: str = "a") -> str | None:
    """Which watcher last beat for the account (``run@host pid N``), as the database has it."""
    with psycopg.connect(database_url) as conn:
        found = conn.execute("SELECT watcher FROM broker_accounts WHERE account_name = %s", (account,)).fetchone()
    return found[0] if found else None


def wait_active(database_url: str, watcher: Watcher, state, symbols=(STOCK,)) -> None:
    """The watcher holds account "a", has beaten, and its data stream carries ``symbols``."""
    wait_until(lambda: (beating(database_url) or "").endswith(f" pid {watcher.pid}") or watcher.process.poll(),
               f"pmctl run (pid {watcher.pid}) to hold account a", timeout=STARTS)
    assert watcher.process.poll() is None, watcher.output()
    if symbols:
        state.wait_for_streams("stocks", "a", quotes=list(symbols), trades=list(symbols), timeout=STARTS)


def orders_for(state, symbol: str = STOCK, account: str = "a") -> list:
    return [order for order in state.account(account).orders if order.symbol == symbol]
