"""Every command with malformed input: one clear line on stderr naming the bad value, the documented exit
code, no traceback, no database change and no order."""

from decimal import Decimal

import psycopg
import pytest

from helpers import fetch_events, fetch_rows, insert_row

CALL = "GOOGL260220C00340000"
COMMANDS = [["check"], ["sync"], ["status"], ["reconcile"], ["cleanup-phantoms"], ["close", "1", "-a", "a", "--yes"]]


def broker_accounts(database_url):
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT * FROM broker_accounts ORDER BY 1").fetchall()


@pytest.fixture
def book(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    mine = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                      entry_price=Decimal("5.20"))
    theirs = insert_row(database_url, account_name="b", ticker="SPY", quantity=1, entry_price=Decimal("690"))
    assert desk("status").exit_code == 0
    return mine, theirs


def cases(mine: int, theirs: int):
    per_command = [
        (args + ["--account", "zz"], {}, 2, "unknown account 'zz'") for args in COMMANDS
    ] + [
        (args, {"PMCTL_STOP_LOSS_PERCENT": "ten"}, 2, "PMCTL_STOP_LOSS_PERCENT='ten' is not a number")
        for args in COMMANDS
    ] + [
        (args, {"PMCTL_DATABASE_URL": "postgresql://desk:hunter2@127.0.0.1:1/pm"}, 1,
         "cannot connect to database 'pm' on 127.0.0.1:1") for args in COMMANDS
    ] + [
        (args + ["--account", "a"], {"PMCTL_A_BASE_URL": "http://127.0.0.1:1"}, 1,
         "[a] broker unreachable while trying to read the account: connection failed")
        for args in COMMANDS
    ] + [
        (args + ["--account", "a"], {"PMCTL_A_SECRET_KEY": "wrong-secret"}, 1,
         "[a] broker refused the API keys (401)") for args in COMMANDS
    ]
    close = [
        (["close", "GOOGL260220X00340000", "-a", "a", "--yes"], {}, 2, "malformed OCC option symbol 'GOOGL260220X00340000'"),
        (["close", "AAPL", "-a", "a", "--yes"], {}, 2, "no open row for AAPL in account 'a'"),
        (["close", "9999", "-a", "a", "--yes"], {}, 2, "no row 9999"),
        (["close", str(theirs), "-a", "a", "--yes"], {}, 2, f"row {theirs} belongs to another account"),
        (["close", str(mine), "-a", "a", "--qty", "0", "--yes"], {}, 2, "--qty '0' must be a positive number"),
        (["close", str(mine), "-a", "a", "--qty", "-3", "--yes"], {}, 2, "--qty '-3' must be a positive number"),
        (["close", str(mine), "-a", "a", "--qty", "11", "--yes"], {}, 2, "--qty 11 is more than the 10"),
        (["close", str(mine), "-a", "a", "--qty", "1e3x", "--yes"], {}, 2, "--qty '1e3x' is not a number"),
        (["close", str(mine), "-a", "a", "--reason", "x" * 51, "--yes"], {}, 2, "--reason must be 1 to 50 characters"),
        (["cleanup-phantoms", "-a", "a", "--ids", "9999"], {}, 2, "no row 9999"),
        (["cleanup-phantoms", "-a", "a", "--ids", str(theirs)], {}, 2, f"row {theirs} belongs to account 'b'"),
        (["cleanup-phantoms", "-a", "a", "--ids", str(mine)], {}, 2, "the broker still holds 10 GOOGL260220C00340000"),
        (["cleanup-phantoms", "-a", "a", "--ids", "16;drop"], {}, 2, "--ids '16;drop'"),
        (["status", "--format", "xml"], {}, 2, "--format 'xml': choose one of table, json, plain, markdown, csv"),
        (["check", "--wait", "-1"], {}, 2, "--wait"),
        (["check", "--dry-rn"], {}, 2, "--dry-rn"),
        (["check"], {"PMCTL_ACCOUNTS": "a,b,c"}, 2, "PMCTL_C_API_KEY is not set"),
        (["check"], {"PMCTL_A_BASE_URL": "https://api.alpaca.markets"}, 2, "set PMCTL_A_PAPER=false"),
    ]
    return per_command + close


@pytest.mark.slow
def test_bad_input_table(desk, state, database_url, book):
    mine, theirs = book
    before = (fetch_rows(database_url), fetch_events(database_url), broker_accounts(database_url))
    failures = []
    for args, env, code, message in cases(mine, theirs):
        result = desk(*args, env=env)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        if (result.exit_code != code or not any(message in line for line in lines) or len(lines) != 1
                or "Traceback" in result.stderr + result.stdout or "hunter2" in result.stderr + result.stdout
                or "wrong-secret" in result.stderr + result.stdout):
            failures.append((args, env, result.exit_code, result.stdout, result.stderr))
    for failure in failures:
        print(failure)
    assert failures == []
    assert (fetch_rows(database_url), fetch_events(database_url), broker_accounts(database_url)) == before
    assert state.account("a").orders == [] and state.account("b").orders == []
