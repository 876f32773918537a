"""What an operator types into close, edit and status: refused before anything is written, quoted as typed;
edit's dry run, its audit record and its clock."""

from datetime import timezone
from decimal import Decimal

import psycopg
import pytest

from helpers import fetch_events, fetch_rows, insert_row

CALL = "GOOGL260220C00340000"


@pytest.fixture
def book(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    state.set_price("SPY", Decimal("700"))
    call = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                      entry_price=Decimal("5.20"))
    spy = insert_row(database_url, ticker="SPY", quantity=20, entry_price=Decimal("690"), stop_loss=Decimal("650"))
    assert desk("check").exit_code == 0
    return call, spy


def unchanged(database_url, state):
    """Rows, events and the broker's orders: what a refused command must leave as it found them."""
    with psycopg.connect(database_url) as conn:
        bound = conn.execute("SELECT * FROM broker_accounts ORDER BY 1").fetchall()
    return fetch_rows(database_url), fetch_events(database_url), bound, list(state.account("a").orders)


def one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pmctl: error: ") and "Traceback" not in result.stdout + result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--qty", "1.5"], "--qty 1.5: an option closes in whole contracts"),
        (["--qty", "1.5", "--dry-run"], "--qty 1.5: an option closes in whole contracts"),
        (["--qty", "1e400"], "--qty '1e400' is out of range: at most 99999999.9999"),
        (["--qty", "1e-400"], "--qty '1e-400' has more than 4 decimal places"),
        (["--qty", "2.00001"], "--qty '2.00001' has more than 4 decimal places"),
        (["--qty", "9" * 400], "--qty '" + "9" * 20 + "…' is out of range"),
    ],
)
def test_a_bad_close_quantity_is_exit_2_and_changes_nothing(desk, state, database_url, book, args, message):
    call, _ = book
    before = unchanged(database_url, state)
    result = desk("close", str(call), "-a", "a", "--yes", *args)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert message in line and len(line) < 200
    assert unchanged(database_url, state) == before


def test_a_fractional_stock_close_is_still_sent(desk, state, database_url, book):
    _, spy = book
    result = desk("close", str(spy), "-a", "a", "--qty", "2.5", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    [order] = state.account("a").orders
    assert (order.symbol, order.qty) == ("SPY", Decimal("2.5"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stop-loss", "1e308"], "--stop-loss '1e308' is out of range: at most 99999999.9999"),
        (["--take-profit", "123456789"], "--take-profit '123456789' is out of range"),
        (["--stop-loss", "640.12345"], "--stop-loss '640.12345' has more than 4 decimal places"),
        (["--max-hold-minutes", "99999999999999999999"],
         "--max-hold-minutes '99999999999999999999' is out of range: at most 2147483647 minutes"),
        (["--trailing-stop-percent", "1e308"], "--trailing-stop-percent '1e308' is out of range: it must be between"),
        (["--trailing-stop-percent", "100"], "--trailing-stop-percent 100 must be between 0 and 100"),
        (["--stop-loss", "nan"], "--stop-loss 'nan' is not a number"),
    ],
)
def test_an_edit_the_database_could_not_hold_is_exit_2_naming_the_value(desk, state, database_url, book, args,
                                                                        message):
    _, spy = book
    before = unchanged(database_url, state)
    result = desk("edit", str(spy), "-a", "a", *args)
    assert result.exit_code == 2
    assert message in one_error_line(result)
    assert unchanged(database_url, state) == before


def test_edit_dry_run_shows_old_and_new_and_writes_nothing(desk, state, database_url, book):
    _, spy = book
    before = unchanged(database_url, state)
    dry = desk("edit", str(spy), "-a", "a", "--stop-loss", "640", "--max-hold-minutes", "90", "--dry-run")
    assert dry.exit_code == 3
    assert dry.stdout.strip() == (f"row {spy} SPY: would change stop_loss 650 -> 640, max_hold_minutes none -> 90 "
                                  "(dry run: nothing written)")
    assert unchanged(database_url, state) == before
    same = desk("edit", str(spy), "-a", "a", "--stop-loss", "650.00", "--dry-run")
    assert same.exit_code == 0 and "nothing to change" in same.stdout


def test_an_edit_that_changes_nothing_records_nothing(desk, state, database_url, book):
    _, spy = book
    before = unchanged(database_url, state)
    result = desk("edit", str(spy), "-a", "a", "--stop-loss", "650")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"row {spy} SPY: nothing to change"
    assert unchanged(database_url, state) == before


def test_the_edit_event_is_readable_structured_and_on_the_brokers_clock(desk, state, database_url, book, noon):
    _, spy = book
    result = desk("--operator", "jane", "edit", str(spy), "-a", "a", "--stop-loss", "none", "--take-profit", "720",
                  "--max-hold-minutes", "90")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (f"row {spy} SPY: stop_loss 650 -> none, take_profit none -> 720, "
                                     "max_hold_minutes none -> 90")
    [event] = [e for e in fetch_events(database_url) if e["event_type"] == "edited"]
    assert event["event_data"] == {
        "symbol": "SPY", "text": "stop_loss 650 -> none, take_profit none -> 720, max_hold_minutes none -> 90",
        "old": {"stop_loss": "650", "take_profit": None, "max_hold_minutes": None},
        "new": {"stop_loss": None, "take_profit": "720", "max_hold_minutes": 90},
    }
    stamped = event["created_at"]
    assert (stamped if stamped.tzinfo else stamped.replace(tzinfo=timezone.utc)) == noon
    listed = desk("events", "--kind", "edited", "--format", "plain").stdout
    assert event["event_data"]["text"] in listed and "{" not in listed


def test_edit_needs_the_broker_to_check_the_account_and_changes_nothing_without_it(desk, state, database_url, book,
                                                                                 keys):
    _, spy = book
    before = unchanged(database_url, state)
    down = desk("edit", str(spy), "-a", "a", "--stop-loss", "640", env={"PMCTL_A_BASE_URL": "http://127.0.0.1:1"})
    assert down.exit_code == 1
    assert "account 'a': broker unreachable" in one_error_line(down) and "nothing was changed" in down.stderr
    crossed = desk("edit", str(spy), "-a", "a", "--stop-loss", "640",
                   env={"PMCTL_A_API_KEY": keys["b"][0], "PMCTL_A_SECRET_KEY": keys["b"][1]})
    assert crossed.exit_code == 1
    assert "account 'a' is bound to broker account PA-A, but its keys now belong to PA-B" in one_error_line(crossed)
    assert unchanged(database_url, state) == before


def test_status_refuses_conflicting_formats(desk, book):
    result = desk("status", "--format", "csv", "--json")
    assert result.exit_code == 2
    assert one_error_line(result) == "pmctl: error: conflicting options: --json and --format csv"
    assert result.stdout == ""
    assert desk("status", "--format", "json", "--json").exit_code == 0
