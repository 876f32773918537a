"""A bad exit policy file stops every command with exit 2 and one line naming the file and the key, before any
row is written or order sent; the file is found beside the env file, or where PMCTL_POLICY_FILE says."""

from decimal import Decimal

import psycopg

from helpers import fetch_events, fetch_rows, insert_row

CALL = "GOOGL260220C00340000"
BAD = "[defaults.option]\nstop_loss_percent = 160\n"
REFUSED = "defaults.option.stop_loss_percent = 160: must be above 0 and below 100"


def broker_accounts(database_url):
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT * FROM broker_accounts ORDER BY 1").fetchall()


def one_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def test_a_bad_policy_file_stops_every_command_before_anything_is_touched(desk, state, database_url, tmp_path):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("5.20"), stop_loss=Decimal("4.50"))
    (tmp_path / "pmctl.toml").write_text(BAD)
    before = (fetch_rows(database_url), fetch_events(database_url), broker_accounts(database_url))
    commands = [["check"], ["sync"], ["status"], ["reconcile"], ["cleanup-phantoms"], ["migrate"],
                ["close", str(row), "-a", "a", "--yes"], ["edit", str(row), "--stop-loss", "4"], ["events"],
                ["report"]]
    for args in commands:
        result = desk(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert one_line(result) == f"pmctl: error: pmctl.toml: {REFUSED}", args
    assert (fetch_rows(database_url), fetch_events(database_url), broker_accounts(database_url)) == before
    assert state.account("a").orders == []

    (tmp_path / "pmctl.toml").unlink()
    assert desk("check").exit_code == 0
    assert [order.symbol for order in state.account("a").orders] == [CALL]


def test_the_file_beside_the_env_file_is_read_and_a_named_file_must_exist(desk, tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "pmctl.env").write_text("PMCTL_BROKER_TIMEOUT=5\n")
    (etc / "pmctl.toml").write_text(BAD)
    result = desk("--env-file", str(etc / "pmctl.env"), "status")
    assert result.exit_code == 2
    assert one_line(result) == f"pmctl: error: {etc / 'pmctl.toml'}: {REFUSED}"

    result = desk("status", env={"PMCTL_POLICY_FILE": str(tmp_path / "desk.toml")})
    assert result.exit_code == 2
    assert one_line(result) == f"pmctl: error: PMCTL_POLICY_FILE={tmp_path / 'desk.toml'}: no such file"

    (tmp_path / "desk.toml").write_text("[defaults.option]\nstop_loss_percent = 60\n")
    assert desk("--env-file", str(etc / "pmctl.env"), "status",
                env={"PMCTL_POLICY_FILE": str(tmp_path / "desk.toml")}).exit_code == 0

    (tmp_path / "pmctl.toml").write_bytes(b"[defaults]\nstop_loss_percent = 20 %\n")
    result = desk("status")
    assert result.exit_code == 2
    assert one_line(result) == (
        "pmctl: error: pmctl.toml, line 2, column 24: not valid TOML: Expected newline or end of document after a "
        "statement")
