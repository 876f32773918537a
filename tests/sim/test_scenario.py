"""Scenario files: the built-in incident, and one clear line for each kind of mistake."""

import json
from decimal import Decimal

import pytest
from alpaca.trading.client import TradingClient
from typer.testing import CliRunner

from pmctl.cli.sim import sim_app
from pmctl.sim.scenario import ScenarioError, load_scenario, read_scenario
from pmctl.sim.server import SimServer

MINIMAL = {
    "accounts": [{"name": "large", "api_key": "PKX", "secret_key": "s",
                  "positions": {"GOOGL260220C00340000": {"qty": "10", "avg_entry_price": "5.20"},
                                "ORCL": {"qty": "-12", "avg_entry_price": "160"}}}],
    "prices": {"GOOGL260220C00340000": "4.00"},
    "clock": {"timestamp": "2026-02-03T16:00:00Z", "is_open": True, "frozen": True},
}


def test_incident_scenario_over_http():
    state = load_scenario("incident")
    with SimServer(state) as sim:
        large = read_scenario("incident")["accounts"][0]
        tiny = read_scenario("incident")["accounts"][1]
        big = TradingClient(large["api_key"], large["secret_key"], url_override=sim.url)
        small = TradingClient(tiny["api_key"], tiny["secret_key"], url_override=sim.url)
        assert big.get_account().account_number != small.get_account().account_number
        assert big.get_account().id != small.get_account().id
        positions = {p.symbol: p for p in big.get_all_positions()}
        assert {"QCOM260220P00145000", "SPY", "NOW260220P00110000", "GOOGL260220C00340000",
                "META", "ORCL"} <= set(positions)
        assert positions["ORCL"].side.value == "short"
        stop_hit = positions["GOOGL260220C00340000"]
        assert Decimal(stop_hit.current_price) < Decimal(stop_hit.avg_entry_price)
        assert small.get_all_positions() == []
        exits = {f["symbol"]: f["price"] for f in big.get("/account/activities/FILL")}
        assert {"QCOM", "CRM260227P00200000", "NOW", "ORCL260213C00155000"} <= set(exits)
        assert [f["symbol"] for f in small.get("/account/activities/FILL")] == ["SPY"]
        clock = big.get_clock()
        assert clock.is_open and clock.timestamp.isoformat() == "2026-02-03T16:00:00+00:00"
        assert "secret" not in json.dumps(state.snapshot())


def test_minimal_scenario_with_short_orders_and_activities(tmp_path):
    data = json.loads(json.dumps(MINIMAL))
    data["accounts"][0]["open_orders"] = [
        {"symbol": "GOOGL260220C00340000", "qty": "4", "side": "sell", "type": "limit",
         "limit_price": "6"}]
    data["accounts"][0]["activities"] = [
        {"activity_type": "OPEXP", "date": "2026-01-16", "symbol": "QCOM260116P00140000",
         "qty": "-2", "description": "expired worthless"}]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    state = load_scenario(path)
    assert state.qty_available("large", "GOOGL260220C00340000") == 6
    assert state.get_position("large", "ORCL").qty == -12
    assert state.list_activities("large")[0]["activity_type"] == "OPEXP"


def test_a_scenario_sets_quotes_and_option_ticks_before_its_open_orders():
    data = json.loads(json.dumps(MINIMAL))
    data["quotes"] = {"GOOGL260220C00340000": {"bid": "3.10", "ask": "3.60", "age_seconds": 600}}
    data["option_ticks"] = {"outside_program": ["GOOGL"]}
    data["accounts"][0]["open_orders"] = [
        {"symbol": "GOOGL260220C00340000", "qty": "4", "side": "sell", "type": "limit",
         "limit_price": "3.15"}]
    with pytest.raises(ScenarioError, match="increments of 0.10"):
        load_scenario(data)
    data["accounts"][0]["open_orders"][0]["limit_price"] = "3.10"
    state = load_scenario(data)
    quote = state.quote("GOOGL260220C00340000")
    assert (quote.bid, quote.ask, quote.at.isoformat()) == (
        Decimal("3.10"), Decimal("3.60"), "2026-02-03T15:50:00+00:00")
    [order] = state.account("large").orders
    assert (order.status, order.filled_avg_price) == ("filled", Decimal("3.1"))


@pytest.mark.parametrize("mutate, problem", [
    (lambda d: d.update({"quotes": {"SPY": {"bid": "1"}}}), "quotes.SPY: need bid and ask"),
    (lambda d: d.update({"quotes": {"SPY": {"bid": "1", "ask": "2", "age": 5}}}), "unknown key 'age'"),
    (lambda d: d.update({"option_ticks": {"outside_program": "GOOGL"}}), "option_ticks.outside_program"),
    (lambda d: d["prices"].update({"SPY": "abc"}), "prices.SPY: not a number: 'abc'"),
    (lambda d: d["prices"].update({"GOOGL26022C340": "1"}), "malformed OCC option symbol"),
    (lambda d: d["accounts"].append(dict(d["accounts"][0], name="other")), "duplicate api_key"),
    (lambda d: d["accounts"][0].update({"postions": {}}), "unknown key 'postions'"),
    (lambda d: d["clock"].update({"timestamp": "yesterday"}), "clock.timestamp"),
])
def test_scenario_validation_names_the_problem(mutate, problem):
    data = json.loads(json.dumps(MINIMAL))
    mutate(data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    assert problem in str(info.value) and "\n" not in str(info.value)


def test_bad_json_and_missing_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"accounts": [}')
    with pytest.raises(ScenarioError, match="bad JSON at line 1 column 15"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="built-ins: incident"):
        load_scenario(tmp_path / "nope.json")


def test_cli_serve_reports_scenario_errors_in_one_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"accounts": [], "prices": {}}))
    result = CliRunner().invoke(sim_app, ["serve", "--scenario", str(path), "--port", "0"])
    assert result.exit_code == 2
    assert "accounts: need a non-empty list" in result.output


def test_cli_serve_runs_the_incident_until_interrupted():
    import signal
    import subprocess
    import sys

    import requests

    proc = subprocess.Popen(
        [sys.executable, "-c", "from pmctl.cli.sim import sim_app; sim_app()",
         "serve", "--scenario", "incident", "--port", "0"],
        stderr=subprocess.PIPE, text=True)
    try:
        banner = [proc.stderr.readline() for _ in range(4)]
        url = banner[0].split()[-1]
        assert url.startswith("http://127.0.0.1:")
        assert any("large" in line and "PA3LARGE0001" in line for line in banner)
        assert not any("secret" in line for line in banner)
        assert requests.get(f"{url}/_sim/state", timeout=5).json()["frozen"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert "stopping" in proc.stderr.read()
