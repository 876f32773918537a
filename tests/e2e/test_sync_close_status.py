"""``pmctl sync``, ``close`` and ``status`` end to end."""

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from helpers import fetch_events, fetch_rows, insert_row

CALL = "GOOGL260220C00340000"


def test_sync_adopts_each_position_once_with_the_contract_parsed(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_position("a", "META", Decimal("15"), Decimal("705"))
    state.set_price("META", Decimal("712.30"))
    result = desk("sync", "--account", "a", env={"PMCTL_STOP_LOSS_PERCENT": "20"})
    assert result.exit_code == 0, result.stderr
    rows = {r["symbol"]: r for r in fetch_rows(database_url)}
    assert set(rows) == {CALL, "META"}
    option = rows[CALL]
    assert (option["ticker"], option["instrument_type"], option["strike_price"], str(option["expiration_date"])) == (
        "GOOGL", "CALL", Decimal("340.0000"), "2026-02-20")
    assert (option["side"], option["quantity"], option["entry_price"]) == ("long", Decimal("10.0000"), Decimal("5.2000"))
    assert option["stop_loss"] == Decimal("4.1600")
    assert rows["META"]["instrument_type"] == "STOCK"
    assert rows["META"]["account_name"] == "a"
    assert desk("sync").exit_code == 0
    assert len(fetch_rows(database_url)) == 2
    assert [e["event_type"] for e in fetch_events(database_url)] == ["adopted", "adopted"]


def test_sync_follows_the_brokers_quantity(desk, state, database_url):
    state.set_position("a", "META", Decimal("15"), Decimal("705"))
    row = insert_row(database_url, ticker="META", quantity=20, entry_price=Decimal("705"))
    assert desk("sync", "--dry-run").exit_code == 3
    assert desk("sync").exit_code == 0
    [tracked] = fetch_rows(database_url, f"id = {row}")
    assert (tracked["quantity"], tracked["original_quantity"]) == (Decimal("15.0000"), Decimal("20.0000"))
    assert desk("sync", "--dry-run").exit_code == 0


@pytest.mark.slow
def test_concurrent_syncs_adopt_each_position_exactly_once(desk, desk_env, state, database_url):
    for n in range(30):
        state.set_position("a", f"S{n:02d}", Decimal("10"), Decimal("50"))
        state.set_price(f"S{n:02d}", Decimal("51"))
    env = {**desk_env, "PMCTL_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    runs = [subprocess.Popen([sys.executable, "-m", "pmctl", "sync", "--account", "a"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [run.communicate(timeout=120) for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert set(codes) <= {0, 75}, outputs
    assert 0 in codes
    rows = fetch_rows(database_url)
    assert sorted(r["symbol"] for r in rows) == [f"S{n:02d}" for n in range(30)]
    assert len([e for e in fetch_events(database_url) if e["event_type"] == "adopted"]) == 30


def test_close_by_id_sends_the_close_and_records_the_reason(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("5.20"))
    dry = desk("close", str(row), "--account", "a", "--dry-run")
    assert dry.exit_code == 3
    assert state.account("a").orders == []
    result = desk("close", str(row), "--account", "a", "--reason", "desk call", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    [order] = state.account("a").orders
    assert (order.symbol, order.side, order.qty, order.position_intent) == (CALL, "sell", Decimal("10"), "sell_to_close")
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"]) == ("closed", "desk call")
    assert [e["actor"] for e in fetch_events(database_url)][0]


def test_close_by_symbol_for_part_of_the_position(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("5.20"))
    result = desk("--operator", "jane", "close", CALL.lower(), "-a", "a", "--qty", "4", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert {p.symbol: p.qty for p in state.list_positions("a")} == {CALL: Decimal("6")}
    [tracked] = fetch_rows(database_url, f"id = {row}")
    assert (tracked["status"], tracked["quantity"]) == ("closing", Decimal("10.0000"))
    assert desk("check").exit_code == 0
    [tracked] = fetch_rows(database_url, f"id = {row}")
    assert (tracked["status"], tracked["quantity"], tracked["original_quantity"]) == (
        "open", Decimal("6.0000"), Decimal("10.0000"))
    assert {e["actor"] for e in fetch_events(database_url)} >= {"jane"}


def test_close_refuses_bad_quantities_and_unknown_targets_without_sending(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("5.20"))
    other = insert_row(database_url, account_name="b", ticker="SPY", quantity=1, entry_price=Decimal("690"))
    cases = [
        (["close", str(row), "-a", "a", "--qty", "11", "--yes"], "--qty 11 is more than the 10"),
        (["close", str(row), "-a", "a", "--qty", "0", "--yes"], "--qty '0' must be a positive number"),
        (["close", str(row), "-a", "a", "--qty", "0.5", "--yes"], "--qty 0.5 is below one contract"),
        (["close", str(row), "-a", "a", "--qty", "ten", "--yes"], "--qty 'ten' is not a number"),
        (["close", "9999", "-a", "a", "--yes"], "no row 9999"),
        (["close", str(other), "-a", "a", "--yes"], f"row {other} belongs to another account"),
        (["close", "GOOGL260220X00340000", "-a", "a", "--yes"], "malformed OCC option symbol"),
        (["close", "AAPL", "-a", "a", "--yes"], "no open row for AAPL"),
        (["close", str(row), "--yes"], "name one with --account"),
        (["close", str(row), "-a", "c", "--yes"], "unknown account 'c'"),
        (["close", str(row), "-a", "a"], "pass --yes"),
    ]
    before = fetch_rows(database_url)
    for args, message in cases:
        result = desk(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert state.account("a").orders == []
    assert fetch_rows(database_url) == before


def test_status_shows_rows_beside_the_broker(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
               entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"), expiration_date="2026-02-20")
    insert_row(database_url, ticker="QCOM", quantity=5, entry_price=Decimal("150.20"))
    table = desk("status", "-a", "a")
    assert table.exit_code == 0, table.stderr
    assert CALL in table.stdout and "missing at broker" in table.stdout and "agrees" in table.stdout
    data = json.loads(desk("status", "-a", "a", "--json").stdout)
    by_symbol = {p["symbol"]: p for p in data["positions"]}
    assert by_symbol[CALL]["pnl_dollars"] == "-1200.0000"
    assert by_symbol[CALL]["stop_loss"] == "4.1600"
    assert by_symbol[CALL]["broker"] == "agrees"
    assert by_symbol["QCOM"]["broker"] == "missing at broker"
    assert data["errors"] == {}
    offline = desk("status", "--offline", "--format", "json")
    assert {p["broker"] for p in json.loads(offline.stdout)["positions"]} == {"not asked"}
