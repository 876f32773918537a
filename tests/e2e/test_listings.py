"""Every format of every listing command, and the commands that feed them (events, report, edit)."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
from decimal import Decimal

import pytest

from helpers import fetch_events, fetch_rows, insert_row, wait_until

CALL = "GOOGL260220C00340000"
FORMATS = ["table", "json", "plain", "markdown", "csv"]


@pytest.fixture
def book(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    state.set_price("SPY", Decimal("700"))
    call = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                      entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"), expiration_date="2026-02-20")
    spy = insert_row(database_url, ticker="SPY", quantity=20, entry_price=Decimal("690"), stop_loss=Decimal("650"))
    return call, spy


def parse(fmt: str, text: str):
    if fmt == "json":
        return json.loads(text)
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    return text


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_in_every_format(desk, book, fmt):
    call, spy = book
    result = desk("status", "-a", "a", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    data = parse(fmt, result.stdout)
    if fmt == "json":
        by_id = {p["id"]: p for p in data["positions"]}
        assert by_id[call]["pnl_dollars"] == "-1200.0000" and by_id[spy]["pnl_dollars"] == "200.0000"
        assert by_id[call]["entry_time"] == "2026-02-03T16:00:00+00:00"
        assert by_id[call]["broker"] == "agrees" and data["errors"] == {}
        assert list(by_id[call])[:4] == ["id", "account", "symbol", "side"]
    elif fmt == "csv":
        by_id = {int(r["id"]): r for r in data}
        assert by_id[call]["pnl_dollars"] == "-1200" and by_id[call]["broker"] == "agrees"
        assert by_id[call]["entry_time"] == "2026-02-03T16:00:00+00:00"
    else:
        assert CALL in data and "-1200" in data and "agrees" in data
        assert "\x1b[" not in data
        if fmt == "markdown":
            assert "|---" in data
        else:
            assert "2 open position(s), unrealized P&L -1000, all agree with the broker" in data


@pytest.mark.parametrize("fmt", FORMATS)
def test_events_in_every_format_newest_first_with_filters(desk, book, database_url, fmt):
    call, spy = book
    assert desk("check", "-a", "a").exit_code == 0
    result = desk("events", "-a", "a", "--position", str(call), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    data = parse(fmt, result.stdout)
    if fmt == "json":
        kinds = [e["kind"] for e in data["events"]]
        assert kinds == ["closed", "order_submitted", "exit_triggered"]
        assert data["events"][0]["data"]["exit_price"] == "4"
        assert data["events"][0]["time"].endswith("+00:00")
    elif fmt == "csv":
        assert [r["kind"] for r in data] == ["closed", "order_submitted", "exit_triggered"]
    else:
        assert data.index("closed") < data.index("exit_triggered")
    only = json.loads(desk("events", "-a", "a", "--kind", "exit_triggered", "--format", "json").stdout)["events"]
    assert [e["position"] for e in only] == [call]
    since = json.loads(desk("events", "--since", "2026-02-04", "--format", "json").stdout)["events"]
    assert since == []


def test_events_refuse_bad_filters(desk):
    assert desk("events", "--since", "yesterday").exit_code == 2
    assert desk("events", "--format", "yaml").exit_code == 2
    assert desk("events", "--position", "0").exit_code == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_report_of_the_bad_day_in_every_format(pmctl, incident_env, incident, fmt):
    assert pmctl("reconcile", env=incident_env).exit_code == 0
    assert pmctl("check", env=incident_env).exit_code == 0
    result = pmctl("report", "--date", "2026-02-03", "--format", fmt, env=incident_env)
    assert result.exit_code == 0, result.stderr
    data = parse(fmt, result.stdout)
    if fmt == "json":
        assert data["closed"] == 10 and data["closed_exit_unknown"] == 4
        assert data["opened"] == 12
        reasons = {r["reason"]: r for r in data["by_reason"]}
        assert reasons["stop_loss"] == {"reason": "stop_loss", "closes": 1, "realized": "-1200.0000", "unknown": 0,
                                        "slippage": "0.0000", "slippage_percent": "0.00"}
        assert reasons["phantom"]["unknown"] == 2 and reasons["duplicate"]["unknown"] == 2
        assert reasons["closed_at_broker"]["closes"] == 5
        assert data["wins"] + data["losses"] == 6
        assert data["realized_pnl"] == f"{sum(Decimal(r['realized']) for r in data['by_reason']):f}"
    elif fmt == "csv":
        assert {r["reason"] for r in data} >= {"stop_loss", "phantom", "duplicate", "closed_at_broker"}
    else:
        assert "stop_loss" in data
        if fmt in ("table", "plain"):
            assert "(4 closed with exit price unknown, not counted)" in data
        if fmt == "table":
            assert "#" in data and "-1200" in data


def test_report_with_nothing_closed_and_a_bad_date(desk):
    empty = desk("report", "--date", "2026-01-02", "--format", "json")
    assert empty.exit_code == 0
    assert json.loads(empty.stdout)["closed"] == 0 and json.loads(empty.stdout)["win_rate_percent"] is None
    assert desk("report", "--date", "02/03/2026").exit_code == 2


def test_edit_changes_exit_parameters_and_records_old_and_new(desk, book, database_url):
    call, _ = book
    result = desk("--operator", "jane", "edit", str(call), "-a", "a", "--stop-loss", "3.5", "--take-profit", "8",
                  "--trailing-stop-percent", "10")
    assert result.exit_code == 0, result.stderr
    [row] = fetch_rows(database_url, f"id = {call}")
    assert (row["stop_loss"], row["take_profit"], row["trailing_stop_percent"]) == (
        Decimal("3.5000"), Decimal("8.0000"), Decimal("10.0000"))
    [event] = [e for e in fetch_events(database_url) if e["event_type"] == "edited"]
    assert event["event_data"]["old"]["stop_loss"] == "4.16" and event["event_data"]["new"]["stop_loss"] == "3.5"
    assert event["actor"] == "jane"
    cleared = desk("edit", str(call), "-a", "a", "--stop-loss", "none")
    assert cleared.exit_code == 0
    assert fetch_rows(database_url, f"id = {call}")[0]["stop_loss"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stop-loss", "9"], "a long's stop (9) must be below its target (8)"),
        (["--stop-loss", "-1"], "--stop-loss -1 must be a positive price"),
        (["--trailing-stop-percent", "120"], "--trailing-stop-percent 120 must be between 0 and 100"),
        (["--max-hold-minutes", "1.5"], "--max-hold-minutes '1.5' must be a whole number"),
        (["--take-profit", "lots"], "--take-profit 'lots' is not a number"),
        ([], "nothing to change"),
    ],
)
def test_edit_refuses_what_would_make_no_sense(desk, book, database_url, args, message):
    call, _ = book
    assert desk("edit", str(call), "-a", "a", "--take-profit", "8").exit_code == 0
    before = fetch_rows(database_url)
    result = desk("edit", str(call), "-a", "a", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert fetch_rows(database_url) == before


def test_edit_refuses_other_accounts_and_closed_rows(desk, book, database_url):
    call, _ = book
    other = insert_row(database_url, account_name="b", ticker="QQQ", quantity=1, entry_price=Decimal("500"))
    assert "belongs to account 'b'" in desk("edit", str(other), "-a", "a", "--stop-loss", "1").stderr
    assert desk("check", "-a", "a").exit_code == 0
    closed = desk("edit", str(call), "-a", "a", "--stop-loss", "1")
    assert closed.exit_code == 2 and "only open rows can be edited" in closed.stderr


def test_status_watch_refreshes_until_interrupted(desk, desk_env, book, database_url):
    env = {**desk_env, "PMCTL_DATABASE_URL": database_url, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    process = subprocess.Popen([sys.executable, "-m", "pmctl", "status", "--watch", "0.3", "--offline",
                                "--format", "plain"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    lines: list[str] = []

    def read() -> None:
        for line in process.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_until(lambda: "".join(lines).count("open positions") >= 2, "two refreshes of the listing", timeout=30)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    finally:
        process.kill()
    reader.join(timeout=30)
    err = process.stderr.read()
    out = "".join(lines)
    assert process.returncode == 0, err
    assert out.count("open positions") >= 2
