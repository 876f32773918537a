"""HTTP face of the simulator: Alpaca's trading and market-data paths plus the /_sim control API.

Broker paths go through the global latency, hooks, fault injection, auth and the request log;
/_sim paths skip all of these so a test can always steer the world it is breaking.
"""

import json
import socket
import time
from datetime import date, datetime
from decimal import Decimal

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from pmctl.sim.clock import iso, parse_time
from pmctl.sim.models import Fault, SimError, fmt, unprocessable
from pmctl.sim.render import order_json, session_json
from pmctl.sim.state import SimState

_FAULT_MESSAGES = {
    429: "rate limit exceeded",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}

_BROKER_RULES = [
    ("GET", "/v2/account", "account"),
    ("GET", "/v2/clock", "clock"),
    ("GET", "/v2/calendar", "calendar"),
    ("GET", "/v2/positions", "positions"),
    ("GET", "/v2/positions/<symbol>", "position"),
    ("DELETE", "/v2/positions/<symbol>", "close_position"),
    ("GET", "/v2/orders", "orders"),
    ("POST", "/v2/orders", "submit_order"),
    ("DELETE", "/v2/orders", "cancel_orders"),
    ("GET", "/v2/orders:by_client_order_id", "order_by_client_id"),
    ("GET", "/v2/orders/<order_id>", "order"),
    ("DELETE", "/v2/orders/<order_id>", "cancel_order"),
    ("GET", "/v2/account/activities", "activities"),
    ("GET", "/v2/account/activities/<activity_type>", "activities"),
    ("GET", "/v2/stocks/trades/latest", "latest_trades"),
    ("GET", "/v2/stocks/quotes/latest", "latest_quotes"),
    ("GET", "/v1beta1/options/trades/latest", "latest_trades"),
    ("GET", "/v1beta1/options/quotes/latest", "latest_quotes"),
]

_CONTROL_RULES = [
    ("GET", "/_sim/state", "sim_state"),
    ("POST", "/_sim/prices", "sim_prices"),
    ("POST", "/_sim/market/open", "sim_open"),
    ("POST", "/_sim/market/close", "sim_close"),
    ("POST", "/_sim/clock", "sim_clock"),
    ("POST", "/_sim/orders/<order_id>/fill", "sim_fill"),
    ("PUT", "/_sim/accounts/<account>/positions/<symbol>", "sim_set_position"),
    ("POST", "/_sim/accounts/<account>/positions/<symbol>/close_by_hand", "sim_close_by_hand"),
    ("POST", "/_sim/accounts/<account>/activities", "sim_activity"),
    ("GET", "/_sim/faults", "sim_faults"),
    ("POST", "/_sim/faults", "sim_add_fault"),
    ("DELETE", "/_sim/faults", "sim_clear_faults"),
    ("POST", "/_sim/latency", "sim_latency"),
    ("GET", "/_sim/requests", "sim_requests"),
    ("DELETE", "/_sim/requests", "sim_reset_requests"),
]


class _NoAnswer(Exception):
    """The client must get no HTTP answer at all."""


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(status: int, code: int, message: str) -> Response:
    return _json({"code": code, "message": message}, status)


def _fault_response(fault: Fault, default_status: int) -> Response:
    status = fault.status or default_status
    message = fault.message or _FAULT_MESSAGES.get(status, "injected fault")
    return _error(status, status * 100000 + 10000, message)


def _bool(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise unprocessable(f"invalid {name}: {value!r}")


def _int(value, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise unprocessable(f"invalid {name}: {value!r}") from None


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            return parse_time(value + "T00:00:00Z")
        return parse_time(value)
    except ValueError:
        raise unprocessable(f"invalid {name}: {value!r}") from None


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise unprocessable(f"invalid {name}: {value!r}") from None


def _symbols(value: str | None) -> list[str]:
    return [s.strip() for s in (value or "").split(",") if s.strip()]


def _body(request: Request) -> dict:
    raw = request.get_data()
    if not raw:
        return {}
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise SimError(400, 40010000, "request body format is invalid") from None
    if not isinstance(body, dict):
        raise SimError(400, 40010000, "request body format is invalid")
    return body


class SimApp:
    """WSGI application over one SimState."""

    def __init__(self, state: SimState):
        self.state = state
        self.url_map = Map(
            [Rule(path, methods=[method], endpoint=endpoint)
             for method, path, endpoint in _BROKER_RULES + _CONTROL_RULES],
            strict_slashes=False,
        )

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self._handle(request)
        except _NoAnswer:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError("simulated lost answer") from None
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        if request.path.startswith("/_sim/"):
            return self._dispatch(request, None)
        if self.state.latency:
            time.sleep(self.state.latency)
        account_name, auth_error = None, None
        try:
            account_name = self.state.authenticate(
                request.headers.get("APCA-API-KEY-ID"),
                request.headers.get("APCA-API-SECRET-KEY")).name
        except SimError as e:
            auth_error = e
        status = 0
        try:
            hook = self.state.take_hook(request.method, request.path)
            if hook is not None:
                hook.action()
            fault = self.state.take_fault(request.method, request.path)
            if fault and fault.kind == "error":
                response = _fault_response(fault, 500)
                status = response.status_code
                return response
            if fault and fault.kind == "latency":
                time.sleep(1.0 if fault.seconds is None else fault.seconds)
            if fault and fault.kind == "hang":
                self.state.stopping.wait(3600.0 if fault.seconds is None else fault.seconds)
                raise _NoAnswer
            if auth_error:
                response = _error(auth_error.status, auth_error.code, auth_error.message)
            else:
                response = self._dispatch(request, account_name)
            if fault and fault.kind == "lost_answer":
                if fault.status is None:
                    raise _NoAnswer
                response = _fault_response(fault, 504)
            if fault and fault.kind == "slow_answer":
                self.state.stopping.wait(1.0 if fault.seconds is None else fault.seconds)
            status = response.status_code
            return response
        finally:
            self.state.log_request(request.method, request.path, account_name, status)

    def _dispatch(self, request: Request, account: str | None) -> Response:
        try:
            endpoint, values = self.url_map.bind_to_environ(request.environ).match()
        except HTTPException as e:
            return _error(e.code or 404, (e.code or 404) * 100000 + 10000,
                          "endpoint not found" if e.code == 404 else "method not allowed")
        try:
            if account is None:
                return getattr(self, endpoint)(request, **values)
            return getattr(self, endpoint)(request, account, **values)
        except SimError as e:
            return _error(e.status, e.code, e.message)

    # -------------------------------------------------------------- broker

    def account(self, request, account):
        return _json(self.state.account_json(account))

    def clock(self, request, account):
        return _json(self.state.clock_json())

    def calendar(self, request, account):
        a = request.args
        sessions = self.state.sessions(_date(a.get("start"), "start"), _date(a.get("end"), "end"))
        return _json([session_json(s) for s in sessions])

    def positions(self, request, account):
        return _json([self.state.position_json(account, p)
                      for p in self.state.list_positions(account)])

    def position(self, request, account, symbol):
        return _json(self.state.position_json(account, self.state.get_position(account, symbol)))

    def close_position(self, request, account, symbol):
        order = self.state.close_position(account, symbol, request.args.get("qty"),
                                          request.args.get("percentage"))
        return _json(order_json(order))

    def orders(self, request, account):
        a = request.args
        _bool(a.get("nested"), "nested")
        orders = self.state.list_orders(
            account,
            status=a.get("status", "open"),
            limit=_int(a.get("limit"), "limit") or 50,
            after=_time(a.get("after"), "after"),
            until=_time(a.get("until"), "until"),
            direction=a.get("direction", "desc"),
            symbols=_symbols(a.get("symbols")),
            side=a.get("side"),
        )
        return _json([order_json(o) for o in orders])

    def submit_order(self, request, account):
        body = _body(request)
        if body.get("notional") is not None:
            raise unprocessable("notional orders are not supported by the simulator")
        if body.get("qty") is None:
            raise unprocessable("qty is required")
        extended = body.get("extended_hours")
        order = self.state.submit_order(
            account, body.get("symbol"), body["qty"], body.get("side"),
            body.get("type", "market"), body.get("time_in_force", "day"),
            limit_price=body.get("limit_price"), stop_price=body.get("stop_price"),
            trail_price=body.get("trail_price"), trail_percent=body.get("trail_percent"),
            client_order_id=body.get("client_order_id"),
            position_intent=body.get("position_intent"),
            order_class=body.get("order_class") or "simple",
            extended_hours=_bool(extended, "extended_hours") if isinstance(extended, str)
            else bool(extended),
        )
        return _json(order_json(order))

    def cancel_orders(self, request, account):
        canceled = self.state.cancel_all_orders(account)
        return _json([{"id": str(o.id), "status": 200, "body": order_json(o)}
                      for o in canceled], 207)

    def order_by_client_id(self, request, account):
        client_order_id = request.args.get("client_order_id")
        if not client_order_id:
            raise unprocessable("client_order_id is required")
        return _json(order_json(self.state.get_order_by_client_id(account, client_order_id)))

    def order(self, request, account, order_id):
        return _json(order_json(self.state.get_order(account, order_id)))

    def cancel_order(self, request, account, order_id):
        self.state.cancel_order(account, order_id)
        return Response(status=204)

    def activities(self, request, account, activity_type=None):
        a = request.args
        types = [activity_type.upper()] if activity_type else [
            t.upper() for t in _symbols(a.get("activity_types"))]
        return _json(self.state.list_activities(
            account,
            activity_types=types,
            after=_time(a.get("after"), "after"),
            until=_time(a.get("until"), "until"),
            direction=a.get("direction", "desc"),
            page_size=_int(a.get("page_size"), "page_size") or 100,
            page_token=a.get("page_token"),
        ))

    def latest_trades(self, request, account):
        now = iso(self.state.clock.now())
        return _json({"trades": {
            symbol: {"t": now, "x": "V", "p": float(price), "s": 100, "c": ["@"], "i": 1,
                     "z": "C"}
            for symbol, price in self._latest(request)
        }})

    def latest_quotes(self, request, account):
        now = iso(self.state.clock.now())
        return _json({"quotes": {
            symbol: {"t": now, "ax": "V", "ap": float(price), "as": 1, "bx": "V",
                     "bp": float(price), "bs": 1, "c": ["R"], "z": "C"}
            for symbol, price in self._latest(request)
        }})

    def _latest(self, request):
        prices = dict(self.state.prices)
        return [(s, prices[s]) for s in _symbols(request.args.get("symbols")) if s in prices]

    # ------------------------------------------------------------- control

    def sim_state(self, request):
        return _json(self.state.snapshot())

    def sim_prices(self, request):
        for symbol, price in _body(request).items():
            self.state.set_price(symbol, price)
        return _json({s: fmt(p) for s, p in sorted(self.state.prices.items())})

    def sim_open(self, request):
        self.state.set_market_open(True)
        return _json(self.state.clock_json())

    def sim_close(self, request):
        self.state.set_market_open(False)
        return _json(self.state.clock_json())

    def sim_clock(self, request):
        body = _body(request)
        frozen, is_open = body.get("frozen"), body.get("is_open")
        self.state.set_clock(
            timestamp=_time(body.get("timestamp"), "timestamp"),
            is_open=None if is_open is None else bool(is_open),
            next_open=_time(body.get("next_open"), "next_open"),
            next_close=_time(body.get("next_close"), "next_close"),
            frozen=None if frozen is None else bool(frozen),
        )
        return _json(self.state.clock_json())

    def sim_fill(self, request, order_id):
        body = _body(request)
        order = self.state.fill_order(order_id, body.get("qty"), body.get("price"))
        return _json(order_json(order))

    def sim_set_position(self, request, account, symbol):
        body = _body(request)
        self.state.set_position(account, symbol, body.get("qty", "0"),
                                body.get("avg_entry_price", "0"))
        return _json({"account": account, "symbol": symbol, "qty": str(body.get("qty", "0"))})

    def sim_close_by_hand(self, request, account, symbol):
        body = _body(request)
        order = self.state.close_by_hand(account, symbol, body.get("qty"), body.get("price"))
        return _json(order_json(order))

    def sim_activity(self, request, account):
        body = _body(request)
        activity = self.state.add_activity(
            account, str(body.get("activity_type", "")), symbol=body.get("symbol"),
            qty=body.get("qty"), net_amount=body.get("net_amount", "0"),
            description=body.get("description", ""), on=_date(body.get("date"), "date"))
        return _json({"id": activity.id, **activity.body})

    def sim_faults(self, request):
        return _json([vars(f) for f in self.state.faults])

    def sim_add_fault(self, request):
        body = _body(request)
        if not body.get("path") or not body.get("kind"):
            raise unprocessable("a fault needs path and kind")
        seconds = body.get("seconds")
        fault = self.state.inject_fault(
            body["path"], body["kind"], count=_int(body.get("count", 1), "count"),
            method=body.get("method"), status=_int(body.get("status"), "status"),
            seconds=None if seconds is None else float(seconds), message=body.get("message"))
        return _json(vars(fault), 201)

    def sim_clear_faults(self, request):
        self.state.clear_faults()
        return Response(status=204)

    def sim_latency(self, request):
        self.state.set_latency(float(_body(request).get("seconds", 0)))
        return _json({"seconds": self.state.latency})

    def sim_requests(self, request):
        with self.state.lock:
            records = list(self.state.requests)
        return _json([{"at": iso(r.at), "method": r.method, "path": r.path,
                       "account": r.account, "status": r.status} for r in records])

    def sim_reset_requests(self, request):
        self.state.reset_requests()
        return Response(status=204)
