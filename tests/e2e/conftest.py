"""Fixtures of the end-to-end tests of ``pmctl run``: a held position, and the watcher as a process of its own."""

import os
import signal
import subprocess
import sys
from decimal import Decimal

import pytest

from watching import ENV, STOCK, Watcher


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
