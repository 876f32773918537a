"""One ``pmctl run`` holds an account; a second waits as a hot standby, cron's check exits 75 meanwhile, and each
takes over when the holder is gone. ``status`` and the metrics say who cycled the account last, and when."""

import re
import signal
import socket
import time
from decimal import Decimal

import psycopg
import pytest

from helpers import fetch_rows, wait_until
from watching import ENV, STOCK, beating, orders_for, wait_active

pytestmark = pytest.mark.slow
HOST = socket.gethostname()


def connections(state, kind: str) -> list[dict]:
    return [c for c in state.stream_connections() if c["kind"] == kind and c["account"] == "a"]


def test_a_standby_opens_no_stream_and_takes_over_within_seconds_when_the_active_watcher_is_killed(
        held, run_watcher, database_url):
    state = held
    active = run_watcher()
    wait_active(database_url, active, state)
    standby = run_watcher()
    wait_until(lambda: "standby: another pmctl run holds account a" in standby.output(), "the standby to wait")
    assert (len(connections(state, "trading")), len(connections(state, "stocks"))) == (1, 1)

    active.signal(signal.SIGKILL)
    active.wait()
    killed = time.monotonic()
    wait_until(lambda: (beating(database_url) or "").endswith(f" pid {standby.pid}"), "the standby to take over",
               timeout=10)
    assert time.monotonic() - killed < 5
    wait_active(database_url, standby, state)

    state.set_price(STOCK, Decimal("94"))
    wait_until(lambda: fetch_rows(database_url)[0]["status"] == "closed", "the new holder to close the row", timeout=5)
    assert len(orders_for(state)) == 1


def test_cron_exits_75_at_once_while_a_watcher_holds_the_account_and_acts_once_it_is_gone(
        held, run_watcher, database_url, desk):
    state = held
    watcher = run_watcher()
    wait_active(database_url, watcher, state)

    started = time.monotonic()
    locked = desk("check", "--account", "a", env=ENV)
    assert locked.exit_code == 75, locked.stderr
    assert time.monotonic() - started < 5
    assert "skipped: another pmctl run holds account a" in locked.stderr

    watcher.signal(signal.SIGKILL)
    watcher.wait()
    state.set_price(STOCK, Decimal("94"))  # nobody streams it now: the next cron run is the backstop
    assert orders_for(state) == []
    checked = desk("check", "--account", "a", env=ENV)
    assert checked.exit_code == 0, checked.stderr
    [row] = fetch_rows(database_url)
    assert (row["status"], row["close_reason"]) == ("closed", "stop_loss")


def test_status_and_the_metrics_file_show_who_cycled_the_account_last_and_warn_when_it_grows_old(
        held, run_watcher, database_url, desk, tmp_path):
    state = held
    metrics = tmp_path / "pmctl.prom"
    watcher = run_watcher("--metrics-file", str(metrics))
    wait_active(database_url, watcher, state)

    shown = desk("status", "--account", "a", "--format", "plain")
    assert shown.exit_code == 0, shown.stderr
    assert re.search(rf"account a: last cycle \d+ s ago by run@{re.escape(HOST)}; watcher run@{re.escape(HOST)} "
                     rf"pid {watcher.pid} beat \d+ s ago", shown.stdout), shown.stdout
    wait_until(lambda: metrics.exists() and 'pmctl_watcher_active{account="a"} 1.0' in metrics.read_text(),
               "the metrics file written on a beat")
    text = metrics.read_text()
    assert re.search(r'pmctl_last_cycle_age_seconds\{account="a"\} \d', text), text
    assert 'pmctl_positions_open{account="a"} 1.0' in text

    watcher.signal(signal.SIGTERM)
    assert watcher.wait() == 0
    with psycopg.connect(database_url) as conn:  # as if the last cycle had been six minutes ago
        conn.execute("UPDATE broker_accounts SET monitored_at = now() - interval '400 seconds'")
    stale = desk("status", "--account", "a", "--offline", "--format", "plain")
    assert stale.exit_code == 0
    assert re.search(rf"account a: last cycle 40\d s ago by run@{re.escape(HOST)}$", stale.stdout, re.M), stale.stdout
    assert ("pmctl: warning: [a] last cycle 40" in stale.stderr
            and "older than 180 s: is cron's pmctl check or pmctl run running?" in stale.stderr), stale.stderr

    assert desk("check", "--account", "a", env=ENV).exit_code == 0
    fresh = desk("status", "--account", "a", "--offline", "--format", "plain")
    assert re.search(rf"account a: last cycle \d s ago by check@{re.escape(HOST)}$", fresh.stdout, re.M)
    assert "warning" not in fresh.stderr
