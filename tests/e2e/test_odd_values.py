"""Odd values where a traceback or a silent nothing used to be: each is one line naming the value, exit 2
(or 1 for a file pmctl cannot write after acting), nothing changed, nothing sent."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from helpers import fetch_events, fetch_rows, insert_row
from pmctl.core.vocabulary import EVENT_KINDS
from pmctl.store import events

CALL = "GOOGL260220C00340000"


@pytest.fixture
def book(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
               entry_price=Decimal("5.20"), stop_loss=Decimal("3"), take_profit=Decimal("100"))
    assert desk("check", "-a", "a").exit_code == 0
    return fetch_rows(database_url), fetch_events(database_url)


def refused(result, code: int = 2) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-2000:]
    assert result.exit_code == code, result.stderr
    assert len(lines) == 1, result.stderr
    assert len(lines[0]) < 400, lines[0]
    return lines[0]


SETTINGS = [
    ("PMCTL_BROKER_TIMEOUT", "1e20", "PMCTL_BROKER_TIMEOUT='1e20' must be between 0.1 and 300 seconds"),
    ("PMCTL_BROKER_TIMEOUT", "0.001", "PMCTL_BROKER_TIMEOUT='0.001' must be between 0.1 and 300 seconds"),
    ("PMCTL_ALERT_TIMEOUT", "1e20", "PMCTL_ALERT_TIMEOUT='1e20' must be between 0.1 and 300 seconds"),
    ("PMCTL_MAX_HOLD_MINUTES", "99999999999999999999", "PMCTL_MAX_HOLD_MINUTES='99999999999999999999' must be at "
                                                       "most 2147483647"),
    ("PMCTL_ALERT_COOLDOWN_MINUTES", "99999999999", "PMCTL_ALERT_COOLDOWN_MINUTES='99999999999' must be at most "
                                                    "10080"),
    ("PMCTL_RECONCILE_GRACE_SECONDS", "9" * 5000, "PMCTL_RECONCILE_GRACE_SECONDS='" + "9" * 20 + "…' must be at "
                                                  "most 86400"),
    ("PMCTL_DAY_TRADE_CLOSE_MINUTES", "100000", "PMCTL_DAY_TRADE_CLOSE_MINUTES='100000' must be at most 390"),
    ("PMCTL_EXPIRATION_LEAD_DAYS", "100000", "PMCTL_EXPIRATION_LEAD_DAYS='100000' must be at most 30"),
    ("PMCTL_TAKE_PROFIT_PERCENT", "1e400", "PMCTL_TAKE_PROFIT_PERCENT='1e400' must be below 10000 (a percentage of the entry "
                                           "price)"),
]


@pytest.mark.parametrize(("name", "value", "message"), SETTINGS, ids=[f"{n}={v[:12]}" for n, v, _ in SETTINGS])
def test_numeric_settings_out_of_range_are_exit_2_naming_variable_and_value(desk, state, database_url, book,
                                                                             name, value, message):
    for args in (["check", "-a", "a"], ["check", "-a", "a", "--dry-run"], ["status"]):
        assert refused(desk(*args, env={name: value})) == f"pmctl: error: {message}"
    assert (fetch_rows(database_url), fetch_events(database_url)) == book
    assert state.account("a").orders == []


@pytest.mark.parametrize(("args", "message"), [
    (["events", "--since", "800000d"], "--since '800000d': too far back (want a time after the year 1)"),
    (["events", "--since", "99999999999999999999h"], "--since '99999999999999999999h': too far back"),
    (["events", "--since", "0001-01-01T00:00+14:00"], "--since '0001-01-01T00:00+14:00': too far back"),
    (["events", "--since", ""], "--since '': want an ISO date or time"),
    (["events", "--position", "99999999999"], "--position"),
    (["report", "--date", "9999-12-31"], "--date '9999-12-31': out of range (want a day before 9999-12-31)"),
    (["report", "--date", ""], "--date '': want YYYY-MM-DD"),
    (["report", "--date", "2026-02-30"], "--date '2026-02-30': want YYYY-MM-DD"),
    (["events", "--format", "x" * 5000], "--format '" + "x" * 20 + "…': choose one of table, json"),
    (["events", "--account", "x" * 5000], "unknown account '" + "x" * 20 + "…' (PMCTL_ACCOUNTS: a, b)"),
    (["--log-format", "x" * 5000, "events"], "--log-format '" + "x" * 20 + "…': choose text or json"),
    (["--env-file", "x" * 5000, "events"], "--env-file '" + "x" * 20 + "…': File name too long"),
    (["cleanup-phantoms", "--ids", "\u00b2", "--dry-run"], "--ids '\u00b2': want row ids separated by commas"),
    (["cleanup-phantoms", "--ids", "9" * 5000, "--dry-run"], "--ids '" + "9" * 20 + "…': want row ids"),
    (["status", "--format", "x" * 5000], "--format '" + "x" * 20 + "…': choose one of table, json"),
    (["close", "\u00b2", "-a", "a", "--dry-run"], "malformed OCC option symbol '\u00b2'"),
    (["close", "9" * 5000, "-a", "a", "--dry-run"], "'" + "9" * 20 + "…' is neither a row id nor a symbol"),
    (["--operator", "\udcff", "check", "-a", "a"], "--operator (or PMCTL_OPERATOR) '\\udcff' must be printable text"),
    (["--operator", "alice\nbob", "check", "-a", "a"], "--operator (or PMCTL_OPERATOR) 'alice\\nbob' must be printable"),
    (["--operator", "x" * 65, "check", "-a", "a"], "must be 1 to 64 characters"),
])
def test_odd_option_values_are_one_line_naming_the_value(desk, state, database_url, book, args, message):
    line = refused(desk(*args))
    assert line.startswith("pmctl: error: ") and message in line
    assert (fetch_rows(database_url), fetch_events(database_url)) == book
    assert state.account("a").orders == []


def test_an_operator_name_in_the_env_file_that_cannot_be_recorded_is_refused(desk, book, database_url):
    Path(".env").write_text("PMCTL_OPERATOR=alice\tbob\n")

    line = refused(desk("check", "-a", "a"))

    assert line == "pmctl: error: PMCTL_OPERATOR='alice\\tbob' must be printable text (no newline, tab or control " \
                   "character)"
    assert (fetch_rows(database_url), fetch_events(database_url)) == book


def test_a_metrics_file_pmctl_cannot_write_is_exit_1_in_one_line(desk, tmp_path):
    (tmp_path / "metrics").write_text("a file where a directory should be")

    result = desk("check", "-a", "a", "--metrics-file", str(tmp_path / "metrics" / "pmctl.prom"))

    errors = [line for line in result.stderr.splitlines() if not line.startswith("pmctl: warning: ")]
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert errors == [f"pmctl: error: File exists: '{tmp_path / 'metrics'}'"]


def test_an_unknown_event_kind_is_exit_2_listing_the_known_ones(desk, book, database_url):
    line = refused(desk("events", "--kind", "closed", "--kind", "nosuch"))

    listed = line.split("(known: ", 1)[1].rstrip(")").split(" ")
    assert line.startswith("pmctl: error: --kind 'nosuch': no such event kind (known: ")
    assert set(listed) >= EVENT_KINDS and listed == sorted(listed)


def test_kinds_the_original_service_wrote_are_known_from_the_database(desk, book, database_url):
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO position_events (position_id, event_type, event_data, account_name) "
                     "VALUES (NULL, 'eod_decision', '{\"why\": \"hold overnight\"}', 'a')")

    result = desk("events", "--kind", "eod_decision", "--format", "json")

    assert result.exit_code == 0, result.stderr
    assert [event["kind"] for event in json.loads(result.stdout)["events"]] == ["eod_decision"]
    assert "eod_decision" in refused(desk("events", "--kind", "eod_decisions"))


def test_every_kind_pmctl_writes_is_one_it_lists(desk, book, database_url, noon):
    """The writers go through one list: an unlisted kind is refused before it reaches the audit trail."""
    assert desk("close", CALL, "-a", "a", "--yes").exit_code == 0
    before = fetch_events(database_url)
    assert {event["event_type"] for event in before} >= {"exit_triggered", "order_submitted", "closed"}
    assert {event["event_type"] for event in before} <= EVENT_KINDS
    with psycopg.connect(database_url) as conn, pytest.raises(ValueError, match="nosuch"):
        events.insert_events(conn, "a", [events.Event(None, "nosuch", {})], "test", noon)
    assert fetch_events(database_url) == before


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_the_emulator_refuses_a_port_out_of_range_rather_than_another_port_or_a_traceback(tmp_path, port):
    result = subprocess.run([sys.executable, "-m", "pmctl", "sim", "serve", "--scenario", "incident", "--port", port],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)})

    assert result.returncode == 2
    assert result.stderr.startswith("pmctl: error: Invalid value for '--port'") and "Traceback" not in result.stderr
