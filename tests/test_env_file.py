"""The env file and PMCTL_* variables: a line pmctl cannot read stops the command; a name it does not know is
warned about, with the closest one it does."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from pmctl.config import ACCOUNT_SETTINGS, NOT_SETTINGS, SETTINGS
from pmctl.store import schema

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = {"PMCTL_ACCOUNTS": "large", "PMCTL_LARGE_API_KEY": "PKLARGE", "PMCTL_LARGE_SECRET_KEY": "s3cret-large"}


def nothing_migrated(pmctl) -> bool:
    """Asked with an empty env file in place of the one under test."""
    Path("empty.env").write_text("")
    status = pmctl("--env-file", "empty.env", "migrate", "--status")
    assert status.exit_code == 0, status.stderr
    return status.stdout.count("pending") == len(schema.available())


def one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.mark.parametrize("bad_line", ['PMCTL_STOP_LOSS_PERCENT="20', "PMCTL_STOP_LOSS_PERCENT='20",
                                      'export PMCTL_STOP_LOSS_PERCENT="20" %'])
def test_a_line_dotenv_cannot_parse_stops_the_command_naming_file_and_line(pmctl, tmp_path, bad_line):
    Path(".env").write_text(f"# desk settings\nPMCTL_ACCOUNTS=\n\n{bad_line}\nPMCTL_MAX_HOLD_MINUTES=390\n")

    result = pmctl("migrate")

    assert result.exit_code == 2
    assert one_error_line(result) == (
        "pmctl: error: .env line 4: cannot parse the value of PMCTL_STOP_LOSS_PERCENT "
        "(a quote left open, or text after the closing quote?)")
    assert nothing_migrated(pmctl)


def test_a_bad_line_in_an_env_file_never_shows_its_value(pmctl, tmp_path):
    env_file = tmp_path / "desk.env"
    env_file.write_text('PMCTL_ACCOUNTS=large\nPMCTL_LARGE_API_KEY="PKVERYSECRET\nPMCTL_LARGE_SECRET_KEY=x\n')

    result = pmctl("--env-file", str(env_file), "migrate")

    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"pmctl: error: {env_file} line 2: cannot parse the value of "
                                             "PMCTL_LARGE_API_KEY")
    assert "PKVERYSECRET" not in result.stderr
    assert nothing_migrated(pmctl)


def test_a_line_that_is_no_assignment_is_refused(pmctl):
    Path(".env").write_text("PMCTL_ACCOUNTS=\nstop loss 20 percent\n")

    result = pmctl("migrate")

    assert result.exit_code == 2
    assert one_error_line(result) == "pmctl: error: .env line 2: cannot parse this line (want NAME=value, or a # comment)"


def test_a_non_utf8_env_file_is_exit_2_naming_file_and_line(pmctl, tmp_path):
    env_file = tmp_path / "latin1.env"
    env_file.write_bytes("PMCTL_ACCOUNTS=\nPMCTL_OPERATOR=Jos\u00e9\n".encode("latin-1"))

    result = pmctl("--env-file", str(env_file), "migrate")

    assert result.exit_code == 2
    assert one_error_line(result) == f"pmctl: error: {env_file} line 2: not UTF-8 text (byte 0xe9); save the file as UTF-8"
    assert nothing_migrated(pmctl)


def test_a_byte_order_mark_does_not_hide_the_first_setting(pmctl):
    Path(".env").write_bytes("\ufeffPMCTL_STOP_LOSS_PERCENT=ten\n".encode("utf-8"))

    result = pmctl("migrate")

    assert result.exit_code == 2
    assert "PMCTL_STOP_LOSS_PERCENT='ten' is not a number" in result.stderr


def test_a_misspelt_setting_is_warned_about_naming_the_right_one_and_the_command_goes_on(pmctl):
    Path(".env").write_text("PMCTL_TAKEPROFIT_PERCENT=50\n")

    result = pmctl("migrate", env={"PMCTL_STOPLOSS_PERCENT": "20"})

    assert result.exit_code == 0, result.stderr
    warnings = result.stderr.splitlines()
    assert ("pmctl: warning: PMCTL_STOPLOSS_PERCENT is not a pmctl setting and is ignored "
            "(did you mean PMCTL_STOP_LOSS_PERCENT?)") in warnings
    assert ("pmctl: warning: PMCTL_TAKEPROFIT_PERCENT (in .env) is not a pmctl setting and is ignored "
            "(did you mean PMCTL_TAKE_PROFIT_PERCENT?)") in warnings
    assert len(warnings) == 2
    assert not nothing_migrated(pmctl)


def test_variables_of_an_account_not_configured_are_warned_about(pmctl):
    result = pmctl("migrate", env={**ACCOUNT, "PMCTL_TINY_API_KEY": "PKTINY", "PMCTL_LARGEE_PAPER": "false"})

    assert result.exit_code == 0, result.stderr
    assert set(result.stderr.splitlines()) == {
        "pmctl: warning: PMCTL_LARGEE_PAPER is ignored: no account 'largee' in PMCTL_ACCOUNTS (large) "
        "(did you mean PMCTL_LARGE_PAPER?)",
        "pmctl: warning: PMCTL_TINY_API_KEY is ignored: no account 'tiny' in PMCTL_ACCOUNTS (large)",
    }
    assert "PKTINY" not in result.stderr


def test_every_documented_variable_is_known_and_raises_no_warning(pmctl):
    every = {name: "" for name in SETTINGS} | {f"PMCTL_LARGE_{suffix}": "" for suffix in ACCOUNT_SETTINGS}
    every |= {**ACCOUNT, **{name: "x" for name in NOT_SETTINGS}}

    result = pmctl("migrate", env=every)

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_unknown_variables_are_warned_about_as_json_with_json_logs(pmctl):
    result = pmctl("--log-format", "json", "migrate", env={"PMCTL_BROKER_TIMOUT": "5"})

    assert result.exit_code == 0
    assert '"level": "warning"' in result.stderr and '"event": "unknown_setting"' in result.stderr
    assert "did you mean PMCTL_BROKER_TIMEOUT?" in result.stderr


def documented(text: str) -> set[str]:
    names = set()
    for name in re.findall(r"PMCTL_[A-Z0-9_<>]+", text):
        names.add(re.sub(r"^PMCTL_(<NAME>|LARGE|TINY)_", "PMCTL_<NAME>_", name))
    return names


def test_readme_env_example_and_the_settings_pmctl_reads_name_the_same_variables():
    known = set(SETTINGS) | {f"PMCTL_<NAME>_{suffix}" for suffix in ACCOUNT_SETTINGS}
    readme = (ROOT / "README.md").read_text()
    table = [line for line in readme.splitlines() if line.startswith("| `PMCTL_")]

    assert documented("\n".join(table)) == known
    assert documented((ROOT / ".env.example").read_text()) == known
    assert documented(readme) - known <= set(NOT_SETTINGS) | {"PMCTL_", "PMCTL_<NAME>_", "PMCTL_STOPLOSS_PERCENT"}


def test_operator_from_the_env_file_is_recorded_with_events(desk, state, database_url):
    from helpers import fetch_events

    Path(".env").write_text("PMCTL_OPERATOR=desk-file\n")
    state.set_position("a", "SPY", Decimal("5"), Decimal("690"))
    state.set_position("b", "SPY", Decimal("5"), Decimal("690"))

    assert desk("sync", "-a", "a").exit_code == 0
    assert desk("--operator", "alice", "sync", "-a", "b").exit_code == 0

    assert {(event["account_name"], event["actor"]) for event in fetch_events(database_url)} == {
        ("a", "desk-file"), ("b", "alice")}
