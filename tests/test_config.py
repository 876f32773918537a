"""Settings: every malformed value is refused up front, naming the variable and the value."""

from decimal import Decimal
from pathlib import Path

import pytest

from pmctl.config import PAPER_TRADING_URL, Secret, load_settings
from pmctl.errors import ConfigError
from pmctl.store import schema

HOME = Path("/var/lib/pmctl")
LARGE = {
    "PMCTL_ACCOUNTS": "large,tiny",
    "PMCTL_LARGE_API_KEY": "PKLARGEKEY",
    "PMCTL_LARGE_SECRET_KEY": "large-secret-value",
    "PMCTL_TINY_API_KEY": "PKTINYKEY",
    "PMCTL_TINY_SECRET_KEY": "tiny-secret-value",
}


def test_defaults_with_nothing_set():
    settings = load_settings({}, default_home=HOME)
    assert settings.database_url is None
    assert settings.home == HOME
    assert settings.accounts == ()
    assert settings.rules.stop_loss_percent is None
    assert settings.rules.day_trade_close_minutes == 5
    assert settings.rules.expiration_lead_days == 1
    assert settings.reconcile_grace_seconds == 120


def test_accounts_are_read_with_paper_defaults():
    settings = load_settings(
        {**LARGE, "PMCTL_TINY_BASE_URL": "http://127.0.0.1:8700/", "PMCTL_TINY_ACCOUNT_NUMBER": "PA3TINY01",
         "PMCTL_STOP_LOSS_PERCENT": "20", "PMCTL_HOME": "/tmp/pm"},
        default_home=HOME,
    )
    large, tiny = settings.accounts
    assert (large.name, large.base_url, large.paper, large.adopt) == ("large", PAPER_TRADING_URL, True, True)
    assert large.api_key.reveal() == "PKLARGEKEY"
    assert tiny.base_url == "http://127.0.0.1:8700"
    assert tiny.account_number == "PA3TINY01"
    assert settings.rules.stop_loss_percent == Decimal("20")
    assert settings.home == Path("/tmp/pm")
    assert settings.account("tiny") is tiny


def test_market_data_feeds_default_to_the_free_ones_and_take_the_subscribed_ones():
    large, tiny = load_settings({**LARGE, "PMCTL_TINY_STOCK_FEED": "SIP", "PMCTL_TINY_OPTION_FEED": "opra"},
                                default_home=HOME).accounts
    assert (large.stock_feed, large.option_feed) == ("iex", "indicative")
    assert (tiny.stock_feed, tiny.option_feed) == ("sip", "opra")


def test_secrets_never_show_in_repr_or_str():
    settings = load_settings(LARGE, default_home=HOME)
    text = f"{settings!r} {settings} {settings.accounts[0].api_key}"
    assert "large-secret-value" not in text
    assert "PKLARGEKEY" not in text
    assert Secret("x") == Secret("x")


MALFORMED = [
    ({"PMCTL_STOP_LOSS_PERCENT": "ten"}, "PMCTL_STOP_LOSS_PERCENT='ten' is not a number"),
    ({"PMCTL_STOP_LOSS_PERCENT": "-5"}, "PMCTL_STOP_LOSS_PERCENT='-5' must be a positive number"),
    ({"PMCTL_STOP_LOSS_PERCENT": "100"}, "PMCTL_STOP_LOSS_PERCENT='100' must be below 100"),
    ({"PMCTL_STOP_LOSS_PERCENT": "NaN"}, "PMCTL_STOP_LOSS_PERCENT='NaN' must be a positive number"),
    ({"PMCTL_TAKE_PROFIT_PERCENT": "1e"}, "PMCTL_TAKE_PROFIT_PERCENT='1e' is not a number"),
    ({"PMCTL_TRAILING_STOP_PERCENT": "0"}, "PMCTL_TRAILING_STOP_PERCENT='0' must be a positive number"),
    ({"PMCTL_MAX_HOLD_MINUTES": "1.5"}, "PMCTL_MAX_HOLD_MINUTES='1.5' is not a whole number"),
    ({"PMCTL_MAX_HOLD_MINUTES": "0"}, "PMCTL_MAX_HOLD_MINUTES='0' must be at least 1"),
    ({"PMCTL_DAY_TRADE_CLOSE_MINUTES": "-1"}, "PMCTL_DAY_TRADE_CLOSE_MINUTES='-1' must be at least 0"),
    ({"PMCTL_EXPIRATION_LEAD_DAYS": "one"}, "PMCTL_EXPIRATION_LEAD_DAYS='one' is not a whole number"),
    ({"PMCTL_BROKER_TIMEOUT": "soon"}, "PMCTL_BROKER_TIMEOUT='soon' is not a number"),
    ({"PMCTL_RECONCILE_GRACE_SECONDS": "2m"}, "PMCTL_RECONCILE_GRACE_SECONDS='2m' is not a whole number"),
    ({"PMCTL_DATABASE_URL": "mysql://db/pm"}, "PMCTL_DATABASE_URL must be a postgresql:// URL"),
    ({"PMCTL_ACCOUNTS": "Large"}, "account name 'Large' must be lower case"),
    ({"PMCTL_ACCOUNTS": "large,large"}, "account 'large' is listed twice"),
    ({"PMCTL_ACCOUNTS": "large"}, "PMCTL_LARGE_API_KEY is not set"),
    ({**LARGE, "PMCTL_TINY_SECRET_KEY": ""}, "PMCTL_TINY_SECRET_KEY is not set"),
    ({**LARGE, "PMCTL_LARGE_PAPER": "maybe"}, "PMCTL_LARGE_PAPER='maybe' must be true or false"),
    ({**LARGE, "PMCTL_LARGE_ADOPT": "sometimes"}, "PMCTL_LARGE_ADOPT='sometimes' must be true or false"),
    ({**LARGE, "PMCTL_LARGE_BASE_URL": "paper-api"}, "PMCTL_LARGE_BASE_URL='paper-api' is not an http(s) URL"),
    ({**LARGE, "PMCTL_TINY_DATA_URL": "ftp://x"}, "PMCTL_TINY_DATA_URL='ftp://x' is not an http(s) URL"),
    ({**LARGE, "PMCTL_LARGE_BASE_URL": "https://api.alpaca.markets"}, "set PMCTL_LARGE_PAPER=false"),
    ({**LARGE, "PMCTL_LARGE_ACCOUNT_NUMBER": "PA 12"}, "PMCTL_LARGE_ACCOUNT_NUMBER='PA 12' is not an account number"),
    ({**LARGE, "PMCTL_LARGE_STOCK_FEED": "opra"}, "PMCTL_LARGE_STOCK_FEED='opra' must be iex or sip"),
    ({**LARGE, "PMCTL_TINY_OPTION_FEED": "sip"}, "PMCTL_TINY_OPTION_FEED='sip' must be indicative or opra"),
]


@pytest.mark.parametrize(("env", "message"), MALFORMED)
def test_malformed_settings_are_refused_with_the_variable_named(env, message):
    with pytest.raises(ConfigError) as raised:
        load_settings(env, default_home=HOME)
    assert message in str(raised.value)
    assert "secret-value" not in str(raised.value)


def test_live_trading_needs_paper_false():
    settings = load_settings({**LARGE, "PMCTL_LARGE_PAPER": "false"}, default_home=HOME)
    assert settings.accounts[0].base_url == "https://api.alpaca.markets"
    assert settings.accounts[0].paper is False


def test_unknown_account_names_the_known_ones():
    settings = load_settings(LARGE, default_home=HOME)
    with pytest.raises(ConfigError, match=r"unknown account 'medium' \(PMCTL_ACCOUNTS: large, tiny\)"):
        settings.selected("medium")
    with pytest.raises(ConfigError, match="no accounts configured"):
        load_settings({}, default_home=HOME).selected(None)


@pytest.mark.parametrize(("env", "message"), MALFORMED[:4] + MALFORMED[15:18])
def test_the_cli_exits_2_naming_the_setting_and_touches_no_database(pmctl, env, message):
    result = pmctl("migrate", env=env)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert pmctl("migrate", "--status").stdout.count("pending") == len(schema.available())


def test_env_file_is_read_and_the_environment_wins(pmctl, tmp_path):
    env_file = tmp_path / "desk.env"
    env_file.write_text("PMCTL_STOP_LOSS_PERCENT=ten\n")
    assert pmctl("--env-file", str(env_file), "migrate").exit_code == 2
    assert pmctl("--env-file", str(env_file), "migrate", env={"PMCTL_STOP_LOSS_PERCENT": "10"}).exit_code == 0
    (tmp_path / ".env").write_text("PMCTL_MAX_HOLD_MINUTES=soon\n")
    result = pmctl("migrate")
    assert result.exit_code == 2
    assert "PMCTL_MAX_HOLD_MINUTES='soon'" in result.stderr


def test_a_missing_env_file_is_a_usage_error(pmctl, tmp_path):
    result = pmctl("--env-file", str(tmp_path / "nope.env"), "migrate")
    assert result.exit_code == 2
    assert "nope.env: no such file" in result.stderr
