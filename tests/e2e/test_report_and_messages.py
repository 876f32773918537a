"""The day's report counted and drawn honestly in every format; messages that say what happened, once."""

import csv
import io
import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from helpers import insert_row

DAY = "2026-02-03"


@pytest.fixture
def closed_day(desk, state, database_url):
    """Three closes on the emulator's day: a gain, a loss and one exactly at its entry."""
    for symbol, price, reason in (("AAA", "110", "desk_win"), ("BBB", "90", "desk_loss"), ("CCC", "100", "desk_flat")):
        state.set_position("a", symbol, Decimal("10"), Decimal("100"))
        state.set_price(symbol, Decimal(price))
        row = insert_row(database_url, ticker=symbol, quantity=10, entry_price=Decimal("100"))
        closed = desk("close", str(row), "-a", "a", "--reason", reason, "--yes")
        assert closed.exit_code == 0, closed.stdout + closed.stderr


def report(desk, fmt):
    result = desk("report", "--date", DAY, "-a", "a", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_a_break_even_close_is_neither_a_win_nor_a_loss(desk, closed_day):
    data = json.loads(report(desk, "json"))
    assert (data["wins"], data["losses"], data["break_even"]) == (1, 1, 1)
    assert data["win_rate_percent"] == "50.0" and data["realized_pnl"] == "0.0000"
    assert set(data) == {"by_reason", "date", "accounts", "opened", "closed", "realized_pnl", "closed_exit_unknown",
                         "wins", "losses", "break_even", "win_rate_percent", "average_hold_minutes"}
    assert "win rate 50.0% (1 won, 1 lost, 1 break-even, not counted)" in report(desk, "plain")


def test_csv_and_markdown_carry_the_summary(desk, closed_day):
    rows, summary = report(desk, "csv").split("\n\n")
    assert {row["reason"] for row in csv.DictReader(io.StringIO(rows))} == {"desk_win", "desk_loss", "desk_flat"}
    totals = {row["summary"]: row["value"] for row in csv.DictReader(io.StringIO(summary))}
    assert (totals["opened"], totals["closed"], totals["realized_pnl"], totals["win_rate_percent"]) == (
        "3", "3", "0.0000", "50.0")
    assert totals["accounts"] == "a" and totals["break_even"] == "1"
    markdown = report(desk, "markdown")
    assert "| desk_loss" in markdown
    assert markdown.rstrip().splitlines()[-1].startswith(f"{DAY}: 3 opened, 3 closed; realized P&L 0; win rate 50.0%")


def test_the_bar_chart_tells_gains_from_losses_without_colour(desk, closed_day):
    lines = {line.split()[0]: line for line in report(desk, "table").splitlines() if "|" in line and "#" in line}
    loss, gain = lines["desk_loss"], lines["desk_win"]
    axis = loss.index("|")
    assert gain.index("|") == axis
    assert loss[:axis].endswith("#") and loss[axis + 1:].strip() == "-100"
    assert gain[axis + 1] == "#" and gain.split()[-1] == "+100"


def test_a_deferred_close_says_its_reason_once(desk, state, database_url):
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    state.set_price("SPY", Decimal("640"))
    insert_row(database_url, ticker="SPY", quantity=20, entry_price=Decimal("690"), stop_loss=Decimal("650"))
    state.set_market_open(False)
    result = desk("check", "-a", "a")
    [line] = [line for line in result.stdout.splitlines() if "hold row" in line]
    assert line.count("market closed") == 1 and line.count("650") == 1
    assert line.startswith("[a] hold row 1 SPY: stop_loss due -> deferred: market closed (")


def test_cleanup_phantoms_names_what_it_left_for_reconcile(desk, state, database_url):
    state.set_position("a", "SPY", Decimal("15"), Decimal("690"))
    insert_row(database_url, ticker="SPY", quantity=20, entry_price=Decimal("690"))
    state.set_position("a", "META", Decimal("5"), Decimal("705"))
    for args in ([], ["--dry-run"]):
        result = desk("cleanup-phantoms", "-a", "a", *args)
        assert result.exit_code == 0, result.stderr
        assert "in sync" not in result.stdout
        assert "not settled here: 1 quantity_drift, 1 untracked (pmctl reconcile --dry-run shows them)" in result.stdout
    assert desk("reconcile", "-a", "a").exit_code == 0
    clean = desk("cleanup-phantoms", "-a", "a", "--dry-run")
    assert clean.stdout.strip() == "[a] no phantom rows; no other difference between database and broker"


@pytest.mark.slow
def test_status_on_a_fresh_embedded_database_asks_for_migrate(sim, keys, tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PMCTL_HOME": str(tmp_path / "pm"),
           "PMCTL_ACCOUNTS": "a", "PMCTL_A_API_KEY": keys["a"][0], "PMCTL_A_SECRET_KEY": keys["a"][1],
           "PMCTL_A_BASE_URL": sim.url}
    for args in (["status"], ["status", "--offline"], ["events"]):
        result = subprocess.run([sys.executable, "-m", "pmctl", *args], env=env, cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 1
        [line] = result.stderr.splitlines()
        assert line.startswith("pmctl: error: pmctl's embedded database is not migrated yet (")
        assert line.endswith(" pending migration(s)): run pmctl migrate") and "dry run" not in line
