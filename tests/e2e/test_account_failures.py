"""One account of several failing (keys refused, broker unreachable, database gone): the others are still
cycled, the failed one is reported on its own line, exit 1, and the metrics file says which."""

import json
from decimal import Decimal

import psycopg
import pytest

from helpers import fetch_rows, insert_row, quote

CALL = "GOOGL260220C00340000"
BROKEN = {
    "keys refused": ({"PMCTL_B_SECRET_KEY": "not-b-secret"}, "[b] broker refused the API keys (401)", "keys refused"),
    "unreachable": ({"PMCTL_B_BASE_URL": "http://127.0.0.1:1"}, "[b] broker unreachable while trying to read the "
                    "account: connection failed", "broker unreachable"),
}


@pytest.fixture
def two_books(desk, state, database_url):
    """Account a: a call whose stop is hit. Account b: a SPY row the database says is open."""
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    call = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                      entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
    state.set_position("b", "SPY", Decimal("20"), Decimal("690"))
    state.set_price("SPY", Decimal("700"))
    spy = insert_row(database_url, account_name="b", ticker="SPY", quantity=20, entry_price=Decimal("690"))
    return call, spy


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("pmctl: error:")]


@pytest.mark.parametrize("how", sorted(BROKEN))
def test_a_failed_account_does_not_stop_the_others_stop(desk, state, database_url, two_books, tmp_path, how):
    call, spy = two_books
    env, message, _ = BROKEN[how]
    metrics = tmp_path / "pmctl.prom"
    quote(state, CALL, "5.00")
    assert desk("check", "--metrics-file", str(metrics)).exit_code == 0
    assert 'pmctl_cycle_success{account="b"} 1' in metrics.read_text()
    quote(state, CALL, "4.00")

    result = desk("check", "--metrics-file", str(metrics), env=env)

    assert result.exit_code == 1
    assert error_lines(result.stderr) == [f"pmctl: error: {message}" + _detail(result.stderr, message)]
    [order] = state.account("a").orders
    assert (order.symbol, order.side, order.qty) == (CALL, "sell", Decimal("10"))
    assert fetch_rows(database_url, f"id = {call}")[0]["status"] == "closed"
    assert fetch_rows(database_url, f"id = {spy}")[0]["status"] == "open"
    assert "[a] close row" in result.stdout and "[b]" not in result.stdout
    text = metrics.read_text()
    assert 'pmctl_cycle_success{account="a"} 1' in text and 'pmctl_cycle_success{account="b"} 0' in text


def _detail(stderr: str, message: str) -> str:
    """What follows the message on its line (the broker's own words), so the whole line is compared once."""
    [line] = [line for line in stderr.splitlines() if message in line]
    return line.split(message, 1)[1]


@pytest.mark.slow
@pytest.mark.parametrize("how", sorted(BROKEN))
def test_sync_and_reconcile_carry_on_for_the_healthy_account(desk, state, database_url, two_books, how):
    env, message, _ = BROKEN[how]
    assert desk("sync").exit_code == 0
    state.set_position("a", "META", Decimal("15"), Decimal("705"))
    state.set_price("META", Decimal("710"))
    synced = desk("sync", env=env)
    assert synced.exit_code == 1 and len(error_lines(synced.stderr)) == 1 and message in synced.stderr
    assert [r["symbol"] for r in fetch_rows(database_url, "account_name = 'a'")] == [CALL, "META"]

    state.close_by_hand("a", "META", Decimal("15"), Decimal("712"))
    reconciled = desk("reconcile", env={**env, "PMCTL_RECONCILE_GRACE_SECONDS": "0"})
    assert reconciled.exit_code == 1 and len(error_lines(reconciled.stderr)) == 1 and message in reconciled.stderr
    assert fetch_rows(database_url, "symbol = 'META'")[0]["status"] == "closed"
    assert "[a] in sync" in reconciled.stdout

    cleanup = desk("cleanup-phantoms", env=env)
    assert cleanup.exit_code == 1 and len(error_lines(cleanup.stderr)) == 1 and message in cleanup.stderr


@pytest.mark.parametrize("how", sorted(BROKEN))
def test_status_of_a_failed_account_shows_its_rows_and_says_the_broker_was_not_read(desk, two_books, how):
    _, spy = two_books
    env, message, label = BROKEN[how]
    plain = desk("status", "--account", "b", "--format", "plain", env=env)
    assert plain.exit_code == 1
    assert len(error_lines(plain.stderr)) == 1 and message in plain.stderr
    [line] = [line for line in plain.stdout.splitlines() if "SPY" in line]
    assert line.split()[0] == str(spy) and line.endswith(f"UNKNOWN: {label}")
    assert "1 open position(s)" in plain.stdout and "account b: NOT confirmed by the broker" in plain.stdout
    assert "0 open position(s)" not in plain.stdout

    both = desk("status", "--json", env=env)
    assert both.exit_code == 1
    data = json.loads(both.stdout)
    brokers = {p["account"]: p["broker"] for p in data["positions"]}
    assert brokers == {"a": "agrees", "b": f"UNKNOWN: {label}"}
    assert list(data["errors"]) == ["b"] and message.removeprefix("[b] ") in data["errors"]["b"]


def test_an_unreachable_database_is_one_line_exit_1_and_every_account_0_in_the_metrics(desk, two_books, tmp_path):
    metrics = tmp_path / "pmctl.prom"
    assert desk("check", "--metrics-file", str(metrics)).exit_code == 0
    gone = {"PMCTL_DATABASE_URL": "postgresql://pmctl:pw@127.0.0.1:1/pmctl"}
    result = desk("check", "--metrics-file", str(metrics), env=gone)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [line for line in result.stderr.splitlines()
                                          if line.startswith("pmctl: error: cannot connect to database 'pmctl'")]
    assert len(result.stderr.splitlines()) == 1
    text = metrics.read_text()
    assert 'pmctl_cycle_success{account="a"} 0' in text and 'pmctl_cycle_success{account="b"} 0' in text


def test_a_close_that_partly_filled_and_was_cancelled_is_an_error_and_exit_1(desk, state, database_url):
    state.set_position("a", "XYZ", Decimal("10"), Decimal("50"))
    row = insert_row(database_url, ticker="XYZ", quantity=10, entry_price=Decimal("50"))
    sent = desk("close", str(row), "-a", "a", "--yes")
    assert sent.exit_code == 0, sent.stdout + sent.stderr
    [order] = state.account("a").orders
    state.fill_order(order.id, Decimal("4"), Decimal("49"))
    state.cancel_order("a", order.id)

    result = desk("check", "-a", "a")

    assert result.exit_code == 1
    [line] = error_lines(result.stderr)
    assert "order_failed" in line and "ended canceled with 4 filled" in line
    [reopened] = fetch_rows(database_url, f"id = {row}")
    assert (reopened["status"], reopened["quantity"]) == ("open", Decimal("6.0000"))
    assert desk("check", "-a", "a").exit_code == 0


def test_no_first_binding_while_an_unbound_account_cannot_answer(desk, state, database_url, keys):
    """b holds a's keys and a's broker is unreachable on the very first run: b must not bind to a's account."""
    state.set_position("a", "SPY", Decimal("20"), Decimal("690"))
    crossed = {"PMCTL_A_BASE_URL": "http://127.0.0.1:1", "PMCTL_B_API_KEY": keys["a"][0],
               "PMCTL_B_SECRET_KEY": keys["a"][1]}
    result = desk("check", env=crossed)
    assert result.exit_code == 1
    assert "pmctl: error: [b] refused: account 'b' is not bound to a broker account yet, and 'a' could not say" \
        in result.stderr
    assert fetch_rows(database_url) == [] and state.account("a").orders == []
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM broker_accounts").fetchone()[0] == 0
    vouched = desk("check", "-a", "b", env={**crossed, "PMCTL_B_ACCOUNT_NUMBER": "PA-B"})
    assert vouched.exit_code == 1 and "PMCTL_B_ACCOUNT_NUMBER says PA-B" in vouched.stderr
