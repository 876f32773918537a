"""Fault injection as a client experiences it through alpaca-py."""

import time

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import GetOrdersRequest, MarketOrderRequest


def buy(client_order_id=None):
    return MarketOrderRequest(symbol="GOOGL", qty=1, side=OrderSide.BUY,
                              time_in_force=TimeInForce.DAY, client_order_id=client_order_id)


def test_error_fault_answers_the_given_status_for_count_requests(trading, state):
    state.inject_fault("/v2/positions", "error", count=2, status=503)
    for _ in range(2):
        with pytest.raises(APIError) as info:
            trading.get_all_positions()
        assert info.value.status_code == 503
        assert (info.value.code, info.value.message) == (50310000, "service unavailable")
    assert trading.get_all_positions() == []
    assert [r.status for r in state.requests] == [503, 503, 200]


def test_error_fault_matches_method_and_glob(trading, state):
    state.inject_fault("/v2/orders*", "error", method="POST", status=500)
    assert trading.get_orders() == []
    with pytest.raises(APIError) as info:
        trading.submit_order(buy())
    assert info.value.status_code == 500
    assert trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL)) == []


def test_rate_limit_fault_is_retried_by_alpaca_py(trading, state):
    state.inject_fault("/v2/account", "error", status=429, count=1)
    assert trading.get_account().account_number == "PA-A"
    assert [r.status for r in state.requests] == [429, 200]


def test_latency_fault_delays_then_answers(trading, state):
    state.inject_fault("/v2/clock", "latency", seconds=0.3)
    started = time.monotonic()
    assert trading.get_clock().is_open
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    trading.get_clock()
    assert time.monotonic() - started < 0.3


def test_global_latency_applies_to_every_request(trading, state):
    state.set_latency(0.1)
    started = time.monotonic()
    trading.get_clock()
    trading.get_account()
    assert time.monotonic() - started >= 0.2


def test_hang_never_answers_in_time(sim, state, keys):
    state.inject_fault("/v2/account", "hang")
    key, secret = keys["a"]
    headers = {"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret}
    with pytest.raises(requests.Timeout):
        requests.get(f"{sim.url}/v2/account", headers=headers, timeout=0.3)
    assert requests.get(f"{sim.url}/v2/account", headers=headers, timeout=2).status_code == 200


def test_lost_answer_places_the_order_but_drops_the_connection(trading, state):
    state.inject_fault("/v2/orders", "lost_answer", method="POST")
    with pytest.raises(requests.ConnectionError):
        trading.submit_order(buy("exit-googl"))
    placed = trading.get_order_by_client_id("exit-googl")
    assert placed.status == OrderStatus.FILLED
    assert trading.get_open_position("GOOGL").qty == "1"


def test_lost_answer_504_plus_alpaca_retry_hits_duplicate_client_order_id(trading, state):
    state.inject_fault("/v2/orders", "lost_answer", method="POST", status=504)
    with pytest.raises(APIError) as info:
        trading.submit_order(buy("exit-googl"))
    assert info.value.message == "client_order_id must be unique"
    assert trading.get_open_position("GOOGL").qty == "1"
    assert [r.status for r in state.requests if r.method == "POST"] == [504, 422]


def test_faults_and_request_log_over_the_control_api(sim, trading, state):
    added = requests.post(f"{sim.url}/_sim/faults",
                          json={"path": "/v2/clock", "kind": "error", "status": 500}).json()
    assert added["remaining"] == 1
    with pytest.raises(APIError):
        trading.get_clock()
    log = requests.get(f"{sim.url}/_sim/requests").json()
    assert [(r["method"], r["path"], r["account"], r["status"]) for r in log] == [
        ("GET", "/v2/clock", "a", 500)]
    assert requests.delete(f"{sim.url}/_sim/requests").status_code == 204
    assert state.requests == []
    bad = requests.post(f"{sim.url}/_sim/faults", json={"path": "/v2/clock", "kind": "explode"})
    assert bad.status_code == 422 and "explode" in bad.json()["message"]
