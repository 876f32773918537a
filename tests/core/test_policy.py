"""The exit policy on plain data: which value is in force for a strategy and instrument, and where it came from."""

import json
import tomllib
from datetime import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmctl.core.policy import KEYS, ExpiryStep, Policy, ScaleStep, Sourced
from pmctl.errors import ConfigError

ENV = {
    "stop_loss_percent": Sourced(Decimal("20"), "PMCTL_STOP_LOSS_PERCENT"),
    "max_hold_minutes": Sourced(240, "PMCTL_MAX_HOLD_MINUTES"),
    "day_trade_close_minutes": Sourced(10, "PMCTL_DAY_TRADE_CLOSE_MINUTES"),
}

EVERY_LAYER = """
[defaults]
stop_loss_percent = 30
[defaults.option]
stop_loss_percent = 40
[profiles.swing_trade]
stop_loss_percent = 50
[profiles.swing_trade.option]
stop_loss_percent = 60
"""


def policy(text: str = "", env: dict | None = None) -> Policy:
    return Policy.parse(tomllib.loads(text), origin="pmctl.toml", env_defaults=env or {})


def without(text: str, table: str) -> str:
    """``EVERY_LAYER`` with one table's stop removed."""
    return text.replace(f"[{table}]\nstop_loss_percent", f"[{table}]\n# stop_loss_percent")


@pytest.mark.parametrize(
    ("removed", "value", "source", "said"),
    [
        ((), "60", "profiles.swing_trade.option", "profile swing_trade/option"),
        (("profiles.swing_trade.option",), "50", "profiles.swing_trade", "profile swing_trade"),
        (("profiles.swing_trade.option", "profiles.swing_trade"), "40", "defaults.option",
         "the policy's defaults for options"),
        (("profiles.swing_trade.option", "profiles.swing_trade", "defaults.option"), "30", "defaults",
         "the policy's defaults"),
        (("profiles.swing_trade.option", "profiles.swing_trade", "defaults.option", "defaults"), "20",
         "PMCTL_STOP_LOSS_PERCENT", "PMCTL_STOP_LOSS_PERCENT"),
    ],
)
def test_the_most_specific_table_that_sets_a_key_wins_and_is_named(removed, value, source, said):
    text = EVERY_LAYER
    for table in removed:
        text = without(text, table)
    resolved = policy(text, ENV).resolve("swing_trade", "option")
    assert resolved.stop_loss_percent == Decimal(value)
    assert resolved.source("stop_loss_percent") == source
    assert resolved.source_text("stop_loss_percent") == said


def test_with_no_file_and_no_variable_the_built_in_value_holds():
    resolved = policy().resolve("swing_trade", "option")
    assert resolved.stop_loss_percent is None
    assert resolved.source("stop_loss_percent") == "built-in"
    assert resolved.source_text("stop_loss_percent") == "the built-in default"
    assert resolved.profile == "defaults"


def test_a_strategy_with_no_profile_gets_the_defaults_for_its_instrument():
    chosen = policy(EVERY_LAYER, ENV)
    option = chosen.resolve("conservative", "option")
    stock = chosen.resolve("conservative", "stock")
    assert (option.stop_loss_percent, option.source("stop_loss_percent"), option.profile) == (
        Decimal(40), "defaults.option", "defaults.option")
    assert (stock.stop_loss_percent, stock.source("stop_loss_percent"), stock.profile) == (
        Decimal(30), "defaults", "defaults")


def test_a_strategy_table_applies_to_both_instruments_below_their_own_tables():
    chosen = policy(EVERY_LAYER)
    assert chosen.resolve("swing_trade", "stock").stop_loss_percent == Decimal(50)
    assert chosen.resolve("swing_trade", "stock").profile == "profiles.swing_trade"
    assert chosen.resolve("swing_trade", "option").profile == "profiles.swing_trade.option"


def test_built_in_trigger_and_close_order_differ_by_instrument():
    chosen = policy()
    option, stock = chosen.resolve("any", "option"), chosen.resolve("any", "stock")
    assert (option.trigger, option.close_order, option.expiry_deadline) == ("bid_ask", "limit", time(15, 0))
    assert (stock.trigger, stock.close_order, stock.expiry_deadline) == ("last", "market", None)
    assert option.expiry == (ExpiryStep(1, None),)
    assert option.use_trade_levels is True


def test_option_only_keys_never_reach_a_stock():
    chosen = policy('[defaults]\nexpiry = [{ days_to_expiry = 3 }]\nexpiry_deadline = "14:00"')
    stock = chosen.resolve("swing_trade", "stock")
    assert (stock.expiry, stock.source("expiry")) == ((), "built-in")
    assert (stock.expiry_deadline, stock.source("expiry_deadline")) == (None, "built-in")
    assert chosen.resolve("swing_trade", "option").expiry == (ExpiryStep(3, None),)


def test_only_day_trades_inherit_a_close_before_the_bell():
    chosen = policy("[defaults]\nday_trade_close_minutes = 15\n[profiles.scalp]\nday_trade_close_minutes = 20", ENV)
    day_trade = chosen.resolve("day_trade", "stock")
    assert (day_trade.day_trade_close_minutes, day_trade.source("day_trade_close_minutes")) == (15, "defaults")
    swing = chosen.resolve("swing_trade", "stock")
    assert (swing.day_trade_close_minutes, swing.source("day_trade_close_minutes")) == (None, "built-in")
    assert chosen.resolve("scalp", "option").day_trade_close_minutes == 20
    assert policy(env=ENV).resolve("day_trade", "option").source("day_trade_close_minutes") == (
        "PMCTL_DAY_TRADE_CLOSE_MINUTES")
    assert policy().resolve("day_trade", "option").day_trade_close_minutes == 5


def test_the_issue_example_reads_as_written():
    chosen = policy("""
        [defaults]
        stop_loss_percent = 20
        [profiles.swing_trade.option]
        stop_loss_percent = 60
        take_profit_percent = 80
        trailing_stop_percent = 25
        trailing_starts_at_profit_percent = 30
        min_hold_minutes = 30
        catastrophic_loss_percent = 50
        max_hold_minutes = 360
        scale_out = [{ at_profit_percent = 50, sell_percent = 50 },
                     { at_profit_percent = 75, sell_percent = 25 }]
        expiry = [{ days_to_expiry = 1, unless_profit_percent = 10 },
                  { days_to_expiry = 2, unless_profit_percent = 0 }]
        use_trade_levels = true
    """)
    option = chosen.resolve("swing_trade", "option")
    assert (option.stop_loss_percent, option.take_profit_percent, option.trailing_stop_percent) == (60, 80, 25)
    assert (option.trailing_starts_at_profit_percent, option.min_hold_minutes) == (30, 30)
    assert (option.catastrophic_loss_percent, option.max_hold_minutes) == (50, 360)
    assert option.scale_out == (ScaleStep(Decimal(50), Decimal(50)), ScaleStep(Decimal(75), Decimal(25)))
    assert option.expiry == (ExpiryStep(1, Decimal(10)), ExpiryStep(2, Decimal(0)))
    assert chosen.resolve("swing_trade", "stock").stop_loss_percent == 20


def test_expiry_steps_are_kept_in_order_of_days_and_a_fraction_of_a_percent_is_exact():
    chosen = policy('[defaults]\nexpiry = [{ days_to_expiry = 2 }, { days_to_expiry = 0 }]\n'
                    'take_profit_percent = 0.1\nexpiry_deadline = 14:45:00')
    option = chosen.resolve("x", "option")
    assert [step.days_to_expiry for step in option.expiry] == [0, 2]
    assert option.take_profit_percent == Decimal("0.1")
    assert option.expiry_deadline == time(14, 45)


def test_the_market_table_adds_penny_classes_to_the_three_always_in_it():
    market = policy('[market]\npenny_symbols = ["AAPL", "TSLA"]\nnon_penny_symbols = ["BRKB"]').market
    assert market.penny_symbols == {"SPY", "QQQ", "IWM", "AAPL", "TSLA"}
    assert market.non_penny_symbols == {"BRKB"}


def test_lookups_for_strategies_without_a_profile_share_one_resolution():
    """Thousands of rows a cycle: a look-up builds nothing."""
    chosen = policy(EVERY_LAYER, ENV)
    assert chosen.resolve("conservative", "option") is chosen.resolve("momentum", "option")
    assert chosen.resolve("swing_trade", "stock") is chosen.resolve("swing_trade", "stock")


def test_an_instrument_that_is_neither_is_a_programming_error():
    with pytest.raises(ValueError):
        policy().resolve("swing_trade", "future")


def test_every_entry_names_a_key_once_in_order():
    assert [key for key, _, _ in policy().resolve("a", "stock").entries()] == list(KEYS)


# Any valid profile round-trips: written as TOML, read back with every value and its source.

PERCENT = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99.9999"), places=4)
PROFIT = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("9999.9999"), places=4)
SCALE = st.lists(st.tuples(PROFIT, st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("33"), places=4)),
                 max_size=3, unique_by=lambda step: step[0])
EXPIRY = st.lists(st.tuples(st.integers(0, 365), st.none() | st.decimals(min_value=Decimal("-99.9999"),
                                                                          max_value=Decimal("9999.9999"), places=4)),
                  max_size=3, unique_by=lambda step: step[0])
VALUES = {
    "stop_loss_percent": PERCENT,
    "take_profit_percent": PROFIT,
    "trailing_stop_percent": PERCENT,
    "trailing_starts_at_profit_percent": st.decimals(min_value=0, max_value=Decimal("9999.9999"), places=4),
    "min_hold_minutes": st.integers(0, 2**31 - 1),
    "catastrophic_loss_percent": PERCENT,
    "max_hold_minutes": st.integers(1, 2**31 - 1),
    "scale_out": SCALE.map(lambda steps: tuple(ScaleStep(*step) for step in sorted(steps))),
    "expiry": EXPIRY.map(lambda steps: tuple(ExpiryStep(*step) for step in sorted(steps, key=lambda s: s[0]))),
    "use_trade_levels": st.booleans(),
    "day_trade_close_minutes": st.integers(0, 390),
    "trigger": st.sampled_from(["last", "bid_ask", "mid", "pessimistic_mid"]),
    "close_order": st.sampled_from(["limit", "market"]),
    "limit_offset_ticks": st.integers(0, 100),
    "max_slippage_percent": PERCENT,
    "walk_steps": st.integers(1, 100),
    "walk_interval_seconds": st.integers(1, 3600),
    "max_quote_age_seconds": st.integers(1, 86400),
    "max_spread_percent": st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("199.9999"), places=4),
    "expiry_deadline": st.times(min_value=time(9, 30), max_value=time(15, 59)).map(
        lambda moment: moment.replace(second=0, microsecond=0)),
    "protect_at_broker": st.booleans(),
    "protect_with_target": st.booleans(),
    "trail_step_percent": PERCENT,
}
OPTIONS_ONLY = {"expiry", "expiry_deadline"}
assert set(VALUES) == set(KEYS)


def table(instrument: str | None):
    keys = [key for key in KEYS if instrument != "stock" or key not in OPTIONS_ONLY]
    return st.sets(st.sampled_from(keys)).flatmap(
        lambda chosen: st.fixed_dictionaries({key: VALUES[key] for key in sorted(chosen)}))


LAYERS = ("profiles.{s}.{i}", "profiles.{s}", "defaults.{i}", "defaults")
STRATEGY = st.sampled_from(["day_trade", "swing_trade", "conservative", "adopted", "momentum-2"])


@st.composite
def documents(draw):
    """Tables by name (``defaults``, ``defaults.option``, ``profiles.x``, ``profiles.x.stock`` …) with their keys."""
    tables = {"defaults": draw(table(None))}
    for instrument in ("stock", "option"):
        tables[f"defaults.{instrument}"] = draw(table(instrument))
    for strategy in draw(st.lists(STRATEGY, max_size=3, unique=True)):
        tables[f"profiles.{strategy}"] = draw(table(None))
        for instrument in draw(st.lists(st.sampled_from(["stock", "option"]), unique=True)):
            tables[f"profiles.{strategy}.{instrument}"] = draw(table(instrument))
    return tables


def toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, time):
        return json.dumps(f"{value:%H:%M}")
    if isinstance(value, ScaleStep):
        return f"{{ at_profit_percent = {toml(value.at_profit_percent)}, sell_percent = {toml(value.sell_percent)} }}"
    if isinstance(value, ExpiryStep):
        unless = value.unless_profit_percent
        return f"{{ days_to_expiry = {value.days_to_expiry}" + (
            "" if unless is None else f", unless_profit_percent = {toml(unless)}") + " }"
    if isinstance(value, tuple):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    return str(value)


def written(tables: dict) -> str:
    return "\n".join(f"[{name}]\n" + "".join(f"{key} = {toml(value)}\n" for key, value in keys.items())
                     for name, keys in tables.items())


ENV_ANY = st.sets(st.sampled_from(["stop_loss_percent", "take_profit_percent", "max_hold_minutes",
                                   "day_trade_close_minutes", "trailing_stop_percent"])).map(
    lambda chosen: {key: ENV.get(key, Sourced(Decimal(7), "PMCTL_TRAILING_OR_TAKE")) for key in chosen})


@given(documents(), ENV_ANY, STRATEGY, st.sampled_from(["stock", "option"]))
def test_any_valid_profile_reads_back_every_value_with_the_table_it_came_from(tables, env, strategy, instrument):
    resolved = policy(written(tables), env).resolve(strategy, instrument)
    built_in = policy().resolve("any-other" if strategy != "day_trade" else strategy, instrument)
    for key in KEYS:
        expected = (getattr(built_in, key), "built-in")
        if key in env and (key != "day_trade_close_minutes" or strategy == "day_trade"):
            expected = (env[key].value, env[key].source)
        layers = [layer.format(s=strategy, i=instrument) for layer in LAYERS]
        if key == "day_trade_close_minutes" and strategy != "day_trade":
            layers = layers[:2]
        if instrument == "stock" and key in OPTIONS_ONLY:
            layers = []
        for layer in reversed(layers):
            if key in tables.get(layer, {}):
                expected = (tables[layer][key], layer)
        assert (getattr(resolved, key), resolved.source(key)) == expected, key


@given(st.sampled_from(["stop_loss_percent", "trailing_stop_percent", "catastrophic_loss_percent",
                        "max_slippage_percent", "trail_step_percent"]),
       st.integers(100, 10**6) | st.integers(-10**6, 0) | st.sampled_from([99.99995, 100.5, -0.5, 0.0]),
       st.sampled_from(["defaults", "defaults.option", "profiles.swing_trade", "profiles.day_trade.stock"]))
def test_a_share_of_the_entry_outside_0_to_100_is_refused_naming_its_path(key, value, table_name):
    with pytest.raises(ConfigError) as refused:
        policy(f"[{table_name}]\n{key} = {value!r}")
    reason = "must have at most 4 decimal places" if value == 99.99995 else "must be above 0 and below 100"
    assert str(refused.value) == f"pmctl.toml: {table_name}.{key} = {value!r}: {reason}"
    assert refused.value.exit_code == 2
