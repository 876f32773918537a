"""The policy file: every way it can be wrong is one line naming the file and the key (exit 2), and the example
file shipped in deploy/ resolves to the original service's production rules."""

from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from pmctl.config import load_settings
from pmctl.core.policy import ExpiryStep, ScaleStep, Sourced
from pmctl.errors import ConfigError
from pmctl.shell.policy_file import default_policy_path, load_policy

EXAMPLE = Path(__file__).resolve().parent.parent / "deploy" / "pmctl.toml.example"

BAD_FILES = [
    ("[profiles.swing_trade.option]\nstop_loss_percent = 160",
     "profiles.swing_trade.option.stop_loss_percent = 160: must be above 0 and below 100"),
    ("[defaults]\nstop_loss_percent = 0", "defaults.stop_loss_percent = 0: must be above 0 and below 100"),
    ("[defaults.option]\nstop_loss_percent = \"60\"",
     'defaults.option.stop_loss_percent = "60": must be a number, written without quotes'),
    ("[defaults]\nstop_loss_percent = 12.34567",
     "defaults.stop_loss_percent = 12.34567: must have at most 4 decimal places"),
    ("[defaults]\ntake_profit_percent = inf", "defaults.take_profit_percent = inf: must be a finite number"),
    ("[defaults]\ntake_profit_percent = 10000",
     "defaults.take_profit_percent = 10000: must be above 0 and at most 9999.9999"),
    ("[profiles.swing_trade.option]\nstop_loss_pct = 60",
     "profiles.swing_trade.option.stop_loss_pct = 60: unknown key; the closest known key is stop_loss_percent"),
    ("[profiles.swing_trade.options]\nstop_loss_percent = 60",
     "profiles.swing_trade.options = { stop_loss_percent = 60 }: unknown key; the closest known key is option"),
    ("[default]\nstop_loss_percent = 60",
     "default = { stop_loss_percent = 60 }: unknown key; the closest known key is defaults"),
    ("[market]\npenny = [\"AAPL\"]", 'market.penny = ["AAPL"]: unknown key; the closest known key is penny_symbols'),
    ("[profiles.\"swing trade\"]\nstop_loss_percent = 60",
     'profiles."swing trade" = { stop_loss_percent = 60 }: a strategy\'s name is 1 to 64 letters, digits, _ or -'),
    ("[profiles]\nswing_trade = 60", "profiles.swing_trade = 60: must be a table ([profiles.swing_trade])"),
    ("[profiles.day_trade.stock]\nexpiry = [{ days_to_expiry = 1 }]",
     "profiles.day_trade.stock.expiry = [{ days_to_expiry = 1 }]: applies to options only; "
     "set it in [profiles.day_trade.option]"),
    ("[defaults]\nmin_hold_minutes = 30.5", "defaults.min_hold_minutes = 30.5: must be a whole number of minutes"),
    ("[defaults]\nmax_hold_minutes = 0", "defaults.max_hold_minutes = 0: must be from 1 to 2147483647 minutes"),
    ("[defaults]\nday_trade_close_minutes = 400",
     "defaults.day_trade_close_minutes = 400: must be from 0 to 390 minutes"),
    ("[defaults]\nuse_trade_levels = \"yes\"",
     'defaults.use_trade_levels = "yes": must be true or false (without quotes)'),
    ("[defaults.option]\ntrigger = \"bid\"",
     'defaults.option.trigger = "bid": must be one of "last", "bid_ask", "mid", "pessimistic_mid"'),
    ("[defaults]\nclose_order = \"stop\"", 'defaults.close_order = "stop": must be one of "limit", "market"'),
    ("[defaults]\nexpiry_deadline = \"3pm\"",
     'defaults.expiry_deadline = "3pm": must be a New York time within the regular session, '
     'from "09:30" to before "16:00", like "15:00"'),
    ("[defaults]\nexpiry_deadline = \"16:00\"",
     'defaults.expiry_deadline = "16:00": must be a New York time within the regular session, '
     'from "09:30" to before "16:00", like "15:00"'),
    ("[defaults]\nmax_spread_percent = 200", "defaults.max_spread_percent = 200: must be above 0 and below 200"),
    ("[defaults]\nscale_out = [{ at_profit_percent = 50, sell_percent = 50 }, { at_profit_percent = 75, "
     "sell_percent = 50 }]",
     "defaults.scale_out = [{ at_profit_percent = 50, sell_percent…: sells add up to 100 %; "
     "they must total below 100 (the rest rides)"),
    ("[defaults]\nscale_out = [{ at_profit_percent = 75, sell_percent = 25 }, { at_profit_percent = 50, "
     "sell_percent = 25 }]",
     "defaults.scale_out[2].at_profit_percent = 50: must be above the previous step's 75 (steps ascend)"),
    ("[defaults]\nscale_out = [{ at_profit_percent = 50, sell_percent = 0 }]",
     "defaults.scale_out[1].sell_percent = 0: must be above 0 and below 100"),
    ("[defaults]\nscale_out = [{ at_profit_percent = 50 }]",
     "defaults.scale_out[1] = { at_profit_percent = 50 }: has no sell_percent"),
    ("[defaults]\nscale_out = [{ at_profit = 50, sell_percent = 10 }]",
     "defaults.scale_out[1].at_profit = 50: unknown key; the closest known key is at_profit_percent"),
    ("[defaults]\nscale_out = { at_profit_percent = 50, sell_percent = 10 }",
     "defaults.scale_out = { at_profit_percent = 50, sell_percent …: must be a list of tables, "
     "like [{ at_profit_percent = …, sell_percent = … }]"),
    ("[defaults]\nexpiry = [{ days_to_expiry = 1 }, { days_to_expiry = 1, unless_profit_percent = 10 }]",
     "defaults.expiry[2].days_to_expiry = 1: appears in an earlier step: each number of days at most once"),
    ("[defaults]\nexpiry = [{ days_to_expiry = -1 }]",
     "defaults.expiry[1].days_to_expiry = -1: must be from 0 to 365 trading sessions"),
    ("[defaults]\nexpiry = [{ days_to_expiry = 1, unless_profit_percent = -100 }]",
     "defaults.expiry[1].unless_profit_percent = -100: must be above -100 and at most 9999.9999"),
    ("[market]\npenny_symbols = [\"aapl\"]",
     'market.penny_symbols[1] = "aapl": must be an underlying symbol in capitals, like "SPY"'),
    ("[market]\nnon_penny_symbols = [\"QQQ\"]",
     'market.non_penny_symbols = ["QQQ"]: QQQ is a penny class (penny_symbols, or always for IWM, QQQ, SPY)'),
    ("[defaults]\nstop_loss_percent = \"" + "\\u001b[31m" * 20 + "\"",
     'defaults.stop_loss_percent = "' + "\\u001b[31m" * 3 + '\\u001b[3…: must be a number, written without quotes'),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES, ids=[message.split(" ")[0] for _, message in BAD_FILES])
def test_a_bad_policy_is_one_line_naming_the_file_the_key_and_the_value(tmp_path, text, message):
    path = tmp_path / "pmctl.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError) as refused:
        load_policy(path, {})
    assert str(refused.value) == f"{path}: {message}"
    assert refused.value.exit_code == 2
    assert "\n" not in str(refused.value) and "\x1b" not in str(refused.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[defaults]\nstop_loss_percent = \n", "line 2, column 21: not valid TOML: Invalid value"),
        (b"[defaults]\nstop_loss_percent = 5\nstop_loss_percent = 6\n",
         "line 3, column 22: not valid TOML: Cannot overwrite a value"),
        (b'[defaults]\ntrigger = "mid', "line 2, column 15: not valid TOML: Unterminated string"),
        (b"[defaults]\n[defaults]\n", "line 2, column 10: not valid TOML: Cannot declare ('defaults',) twice"),
        (b"[defaults]\n# stop \xe9 60 %\n", "line 2: not UTF-8 text (byte 0xe9)"),
    ],
)
def test_a_file_that_is_not_utf8_toml_names_the_line_and_column(tmp_path, data, message):
    path = tmp_path / "pmctl.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as refused:
        load_policy(path, {})
    assert str(refused.value) == f"{path}, {message}"
    assert refused.value.exit_code == 2


def test_a_file_named_on_purpose_must_exist(tmp_path):
    with pytest.raises(ConfigError) as refused:
        load_policy(tmp_path / "desk.toml", {})
    assert str(refused.value) == f"PMCTL_POLICY_FILE={tmp_path / 'desk.toml'}: no such file"
    assert refused.value.exit_code == 2
    with pytest.raises(ConfigError, match="is a directory"):
        load_policy(tmp_path, {})


def test_without_the_default_file_the_variables_and_built_ins_hold(tmp_path):
    env = {"stop_loss_percent": Sourced(Decimal(20), "PMCTL_STOP_LOSS_PERCENT")}
    resolved = load_policy(None, env, env_file=tmp_path / "pmctl.env").resolve("swing_trade", "option")
    assert (resolved.stop_loss_percent, resolved.source("stop_loss_percent")) == (20, "PMCTL_STOP_LOSS_PERCENT")
    assert resolved.source("take_profit_percent") == "built-in"


def test_the_default_file_is_the_one_beside_the_env_file(tmp_path, monkeypatch):
    desk = tmp_path / "etc"
    desk.mkdir()
    (desk / "pmctl.toml").write_text("[defaults]\nstop_loss_percent = 30\n")
    (tmp_path / "pmctl.toml").write_text("[defaults]\nstop_loss_percent = 40\n")
    monkeypatch.chdir(tmp_path)
    assert default_policy_path(desk / "pmctl.env") == desk / "pmctl.toml"
    assert load_policy(None, {}, env_file=desk / "pmctl.env").resolve("a", "stock").stop_loss_percent == 30
    assert load_policy(None, {}).resolve("a", "stock").stop_loss_percent == 40
    (desk / "pmctl.toml").write_text("[defaults]\nstop_loss_percent = 300\n")
    with pytest.raises(ConfigError, match=r"etc/pmctl.toml: defaults.stop_loss_percent = 300"):
        load_policy(None, {}, env_file=desk / "pmctl.env")


def test_the_example_reproduces_the_original_services_production_rules():
    policy = load_policy(EXAMPLE, {"stop_loss_percent": Sourced(Decimal(20), "PMCTL_STOP_LOSS_PERCENT")})
    option = policy.resolve("swing_trade", "option")
    assert (option.stop_loss_percent, option.take_profit_percent) == (60, 80)
    assert (option.min_hold_minutes, option.catastrophic_loss_percent) == (30, 50)
    assert option.expiry == (ExpiryStep(0, None), ExpiryStep(1, Decimal(10)), ExpiryStep(2, Decimal(0)))
    assert option.scale_out == (ScaleStep(Decimal(50), Decimal(50)), ScaleStep(Decimal(75), Decimal(25)))
    assert (option.max_hold_minutes, option.use_trade_levels) == (360, False)
    assert (option.trigger, option.close_order, option.expiry_deadline) == ("mid", "market", time(15, 0))
    assert option.source_text("stop_loss_percent") == "the policy's defaults for options"

    stock = policy.resolve("swing_trade", "stock")
    assert (stock.stop_loss_percent, stock.take_profit_percent, stock.use_trade_levels) == (2, 3, True)
    assert (stock.min_hold_minutes, stock.expiry, stock.scale_out) == (0, (), ())
    assert (stock.trigger, stock.close_order) == ("mid", "market")

    for instrument in ("stock", "option"):
        adopted = policy.resolve("adopted", instrument)
        assert (adopted.max_hold_minutes, adopted.source("max_hold_minutes")) == (240, "profiles.adopted")
        assert policy.resolve("day_trade", instrument).day_trade_close_minutes == 5
        assert policy.resolve("conservative", instrument).day_trade_close_minutes is None
    assert policy.resolve("adopted", "option").stop_loss_percent == 60
    assert policy.resolve("momentum", "stock").stop_loss_percent == 2


def test_the_variables_are_the_files_top_level_defaults_and_named_as_sources(tmp_path):
    settings = load_settings({"PMCTL_STOP_LOSS_PERCENT": "20", "PMCTL_EXPIRATION_LEAD_DAYS": "2",
                              "PMCTL_DAY_TRADE_CLOSE_MINUTES": "10", "PMCTL_POLICY_FILE": str(tmp_path / "desk.toml")},
                             default_home=tmp_path)
    assert settings.policy_file == tmp_path / "desk.toml"
    (tmp_path / "desk.toml").write_text("[defaults.option]\nstop_loss_percent = 60\n")
    policy = load_policy(settings.policy_file, settings.policy.env_defaults)
    stock, option = policy.resolve("day_trade", "stock"), policy.resolve("day_trade", "option")
    assert (stock.stop_loss_percent, stock.source("stop_loss_percent")) == (20, "PMCTL_STOP_LOSS_PERCENT")
    assert (option.stop_loss_percent, option.source("stop_loss_percent")) == (60, "defaults.option")
    assert (option.expiry, option.source("expiry")) == ((ExpiryStep(2, None),), "PMCTL_EXPIRATION_LEAD_DAYS")
    assert (stock.day_trade_close_minutes, stock.source("day_trade_close_minutes")) == (
        10, "PMCTL_DAY_TRADE_CLOSE_MINUTES")
    unset = load_settings({}, default_home=tmp_path).policy.resolve("day_trade", "option")
    assert (unset.day_trade_close_minutes, unset.source("day_trade_close_minutes")) == (5, "built-in")
    assert (unset.expiry, unset.source("expiry")) == ((ExpiryStep(1, None),), "built-in")
