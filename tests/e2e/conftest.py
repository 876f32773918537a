"""The e2e tests' fixtures: the market's quoted call, a held position, and ``pmctl run`` as a process of its own.

An option's rules judge its quote (issue 14: a long's exits on the bid), and the emulator derives a locked quote
(bid = ask = the last trade) where none is set, which triggers nothing. So the fixture's GOOGL call is quoted
4.00 x 4.10: its bid is the 4.00 the tests' levels were written against, and a close sells there as the market order
did before. A test that moves the call's price moves its quote with ``helpers.quote``.
"""

import os
import signal
import subprocess
import sys
from decimal import Decimal

import pytest

from watching import ENV, STOCK, Watcher

CALL = "GOOGL260220C00340000"


@pytest.fixture
def state(state):
    state.set_quote(CALL, Decimal("4.00"), Decimal("4.10"))
    return state


@pytest.fixture
def held(state):
    """Account "a" holds 10 SPY at 100, the last trade 100."""
    state.set_price(STOCK, Decimal("100"))
    state.set_position("a", STOCK, Decimal(10), Decimal("100"))
    return state


@pytest.fixture
def run_watcher(desk, desk_env, database_url, tmp_path):
    """Start ``pmctl -v run --account a ARGS`` in a process of its own; each is killed at teardown if still alive."""
    started: list[Watcher] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Watcher:
        log = tmp_path / f"run-{len(started)}.log"
        variables = {**os.environ, **desk_env, **ENV, "PMCTL_DATABASE_URL": database_url, **(env or {})}
        with log.open("w") as sink:
            process = subprocess.Popen([sys.executable, "-m", "pmctl", "-v", "run", "--account", "a", *args],
                                       env=variables, stdout=sink, stderr=subprocess.STDOUT)
        watcher = Watcher(process, log)
        started.append(watcher)
        return watcher

    yield start
    for watcher in started:
        if watcher.process.poll() is None:
            watcher.process.send_signal(signal.SIGKILL)
            watcher.process.wait(30)
