"""The streams' protocol as Alpaca documents it, spoken by a plain websocket client: frames, encodings, errors."""

import json
import threading
from contextlib import contextmanager
from decimal import Decimal

import msgpack
import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from helpers import wait_until
from pmctl.sim import stream_sessions
from pmctl.sim.server import SimServer
from pmctl.sim.state import SimState

MSGPACK = {"Content-Type": "application/msgpack"}
OPTION = "GOOGL260220C00340000"


def said(ws):
    """The next message: JSON in a text or binary frame, else msgpack."""
    raw = ws.recv(timeout=5)
    if isinstance(raw, str) or raw[:1] in (b"{", b"["):
        return json.loads(raw)
    return msgpack.unpackb(raw)


@contextmanager
def data_stream(sim, path="/v2/iex", headers=None, key=None):
    with connect(sim.stream_url + path, additional_headers=headers or {}) as ws:
        assert said(ws) == [{"T": "success", "msg": "connected"}]
        if key is not None:
            ws.send(json.dumps({"action": "auth", "key": key[0], "secret": key[1]}))
            assert said(ws) == [{"T": "success", "msg": "authenticated"}]
        yield ws


def closed(ws) -> bool:
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=5)
    return True


def test_stock_data_in_json_text_frames_from_connection_to_quote(sim, keys, state):
    with data_stream(sim) as ws:
        ws.send(json.dumps({"action": "subscribe", "quotes": ["GOOGL"]}))
        assert said(ws) == [{"T": "error", "code": 401, "msg": "not authenticated"}]
        ws.send(json.dumps({"action": "auth", "key": keys["a"][0], "secret": "wrong"}))
        assert said(ws) == [{"T": "error", "code": 402, "msg": "auth failed"}]
        ws.send(json.dumps({"action": "auth", "key": keys["a"][0], "secret": keys["a"][1]}))
        assert said(ws) == [{"T": "success", "msg": "authenticated"}]
        ws.send(json.dumps({"action": "auth", "key": keys["a"][0], "secret": keys["a"][1]}))
        assert said(ws) == [{"T": "error", "code": 403, "msg": "already authenticated"}]
        ws.send(json.dumps({"action": "subscribe", "trades": ["GOOGL"], "quotes": ["GOOGL", "SPY"],
                            "bars": ["*"]}))
        assert said(ws) == [{"T": "subscription", "trades": ["GOOGL"], "quotes": ["GOOGL", "SPY"],
                             "bars": ["*"], "updatedBars": [], "dailyBars": [], "statuses": [],
                             "lulds": [], "corrections": ["GOOGL"], "cancelErrors": ["GOOGL"]}]
        ws.send(json.dumps({"action": "unsubscribe", "quotes": ["SPY"], "bars": ["*"]}))
        assert said(ws)[0]["quotes"] == ["GOOGL"]
        state.set_quote("GOOGL", Decimal("335.10"), Decimal("335.30"), bid_size=3, ask_size=7)
        raw = ws.recv(timeout=5)
        assert isinstance(raw, str)
        assert json.loads(raw) == [{"T": "q", "S": "GOOGL", "t": "2026-02-03T16:00:00Z", "bx": "V",
                                    "bp": 335.1, "bs": 3, "ax": "V", "ap": 335.3, "as": 7,
                                    "c": ["R"], "z": "C"}]
        state.set_price("GOOGL", Decimal("335.2"))
        assert said(ws) == [{"T": "t", "S": "GOOGL", "t": "2026-02-03T16:00:00Z", "x": "V", "p": 335.2,
                             "s": 100, "c": ["@"], "i": 1, "z": "C"}]


def test_subscriptions_the_feed_cannot_serve_are_refused_and_change_nothing(sim, keys):
    with data_stream(sim, key=keys["a"]) as ws:
        ws.send(json.dumps({"action": "subscribe", "quotes": ["GOOGL"]}))
        said(ws)
        for message, code in (({"action": "subscribe", "orderbooks": ["GOOGL"]}, 410),
                              ({"action": "subscribe", "quotes": [OPTION]}, 400),
                              ({"action": "subscribe", "quotes": "GOOGL"}, 400),
                              ({"action": "dance"}, 400), (["auth"], 400)):
            ws.send(json.dumps(message))
            assert said(ws)[0]["code"] == code
        ws.send("not json")
        assert said(ws)[0]["code"] == 400
        ws.send(json.dumps({"action": "subscribe", "trades": ["SPY"]}))
        assert said(ws)[0]["quotes"] == ["GOOGL"]


def test_options_speak_msgpack_only_and_refuse_a_star_on_quotes(sim, keys, state):
    with connect(sim.option_stream_url()) as ws:
        assert said(ws) == [{"T": "error", "code": 412,
                             "msg": "option messages are only available in MsgPack format"}]
        assert closed(ws)
    with connect(sim.option_stream_url(), additional_headers=MSGPACK) as ws:
        assert said(ws) == [{"T": "success", "msg": "connected"}]
        ws.send(msgpack.packb({"action": "auth", "key": keys["a"][0], "secret": keys["a"][1]}))
        assert said(ws) == [{"T": "success", "msg": "authenticated"}]
        ws.send(msgpack.packb({"action": "subscribe", "quotes": ["*"]}))
        assert said(ws) == [{"T": "error", "code": 413, "msg": "star subscription is not allowed for option quotes"}]
        ws.send(msgpack.packb({"action": "subscribe", "bars": [OPTION]}))
        assert said(ws)[0]["code"] == 410
        ws.send(msgpack.packb({"action": "subscribe", "trades": ["*"], "quotes": [OPTION]}))
        assert said(ws) == [{"T": "subscription", "trades": ["*"], "quotes": [OPTION]}]
        state.set_price(OPTION, Decimal("4.20"))
        raw = ws.recv(timeout=5)
        assert isinstance(raw, bytes)
        trade, quote = msgpack.unpackb(raw, timestamp=3)
        assert trade == {"T": "t", "S": OPTION, "t": state.clock.now(), "x": "C", "p": 4.2, "s": 1, "c": "I"}
        assert (quote["T"], quote["bp"], quote["ap"], quote["c"]) == ("q", 4.2, 4.2, "A")


def test_one_session_per_account_and_endpoint_unless_the_limit_is_lifted(sim, keys):
    with data_stream(sim, key=keys["a"]):
        with data_stream(sim) as second:
            second.send(json.dumps({"action": "auth", "key": keys["a"][0], "secret": keys["a"][1]}))
            assert said(second) == [{"T": "error", "code": 406, "msg": "connection limit exceeded"}]
            assert closed(second)
        with data_stream(sim, key=keys["b"]), data_stream(sim, "/v2/sip", key=keys["a"]):
            pass
        assert requests.post(f"{sim.url}/_sim/streams/limit", json={"connections": None}).json() == {
            "connections": None}
        with data_stream(sim, key=keys["a"]):
            pass


def test_keys_in_the_handshake_headers_authenticate_at_once(sim, keys):
    headers = {"APCA-API-KEY-ID": keys["a"][0], "APCA-API-SECRET-KEY": keys["a"][1]}
    with data_stream(sim, headers=headers) as ws:
        assert said(ws) == [{"T": "success", "msg": "authenticated"}]


def test_a_client_that_does_not_authenticate_in_time_is_told_and_cut_off(sim, monkeypatch):
    monkeypatch.setattr(stream_sessions, "AUTH_TIMEOUT_SECONDS", 0.2)
    with data_stream(sim) as ws:
        assert said(ws) == [{"T": "error", "code": 404, "msg": "auth timeout"}]
        assert closed(ws)


def test_the_trading_stream_authorizes_then_listens_in_binary_json(sim, keys, trading, state):
    with connect(sim.trading_stream_url) as ws:
        ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        assert said(ws) == {"stream": "authorization", "data": {"status": "unauthorized", "action": "listen"}}
        ws.send(json.dumps({"action": "authenticate", "data": {"key_id": keys["a"][0], "secret_key": "no"}}))
        assert said(ws) == {"stream": "authorization", "data": {"status": "unauthorized", "action": "authenticate"}}
        ws.send(json.dumps({"action": "auth", "key": keys["a"][0], "secret": keys["a"][1]}))
        raw = ws.recv(timeout=5)
        assert isinstance(raw, bytes)
        assert json.loads(raw) == {"stream": "authorization",
                                   "data": {"status": "authorized", "action": "authenticate"}}
        ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates", "account_updates"]}}))
        assert said(ws) == {"stream": "listening", "data": {"streams": ["trade_updates"]}}
        state.set_position("a", "GOOGL", Decimal(1), Decimal("300"))
        state.close_by_hand("a", "GOOGL")
        new, fill = said(ws), said(ws)
        assert (new["stream"], new["data"]["event"], new["data"]["timestamp"]) == (
            "trade_updates", "new", "2026-02-03T16:00:00Z")
        assert {k: fill["data"][k] for k in ("event", "price", "qty", "position_qty")} == {
            "event": "fill", "price": "335.4", "qty": "1", "position_qty": "0"}
        assert fill["data"]["order"]["status"] == "filled"
        ws.send(json.dumps({"action": "listen", "data": {"streams": []}}))
        assert said(ws) == {"stream": "listening", "data": {"streams": []}}
        state.set_position("a", "GOOGL", Decimal(1), Decimal("300"))
        state.close_by_hand("a", "GOOGL")
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.3)


def test_the_trading_stream_speaks_msgpack_when_asked(sim, keys):
    with connect(sim.trading_stream_url, additional_headers=MSGPACK) as ws:
        ws.send(msgpack.packb({"action": "authenticate",
                               "data": {"key_id": keys["a"][0], "secret_key": keys["a"][1]}}))
        assert said(ws)["data"]["status"] == "authorized"


def test_a_handshake_can_be_refused_by_an_injected_fault_and_is_logged(sim, keys, state):
    state.inject_fault("/v2/*", "error", status=503)
    with pytest.raises(InvalidStatus) as refused, connect(sim.stock_stream_url()):
        pass
    assert refused.value.response.status_code == 503
    with data_stream(sim, key=keys["a"]):
        pass
    assert [(r.method, r.path, r.status) for r in state.requests] == [("GET", "/v2/iex", 503),
                                                                      ("GET", "/v2/iex", 101)]
    plain = requests.get(f"{sim.url}/stream", headers={"APCA-API-KEY-ID": keys["a"][0],
                                                       "APCA-API-SECRET-KEY": keys["a"][1]})
    assert plain.status_code == 404
    with pytest.raises(InvalidStatus), connect(sim.stream_url + "/v2/nasdaq"):
        pass


def test_the_control_api_lists_drops_and_mutes_streams(sim, keys):
    base = f"{sim.url}/_sim/streams"
    with data_stream(sim, key=keys["a"]) as ws:
        [listed] = requests.get(base).json()
        assert {k: listed[k] for k in ("kind", "path", "encoding", "account", "paused")} == {
            "kind": "stocks", "path": "/v2/iex", "encoding": "json", "account": "a", "paused": False}
        assert requests.post(f"{base}/pause", json={"kind": "stocks"}).json() == {"paused": 1}
        assert requests.get(base).json()[0]["paused"] is True
        assert requests.post(f"{base}/resume", json={}).json() == {"resumed": 1}
        bad = requests.post(f"{base}/drop", json={"kind": "quotes"})
        assert (bad.status_code, bad.json()["message"]) == (
            422, "stream kind must be one of trading, stocks, options, got 'quotes'")
        assert requests.post(f"{base}/drop", json={"account": "b"}).json() == {"dropped": 0}
        assert requests.post(f"{base}/drop", json={"account": "a", "mode": "close"}).json() == {"dropped": 1}
        assert closed(ws)
        assert ws.close_code == 1000
    assert requests.get(base).json() == []


def test_stopping_the_emulator_closes_its_streams_and_leaves_no_thread(keys):
    state = SimState()
    state.add_account("a", *keys["a"])
    before = set(threading.enumerate())
    with SimServer(state) as server:
        with connect(server.stock_stream_url()) as ws:
            assert said(ws) == [{"T": "success", "msg": "connected"}]
            server.stop()
            assert closed(ws) and ws.close_code == 1000
    wait_until(lambda: not set(threading.enumerate()) - before, "the emulator's threads to end", timeout=2)
