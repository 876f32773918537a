"""The /_sim control API: steer the market, the clock, positions, orders and faults over HTTP."""

from werkzeug.wrappers import Response

from pmctl.sim.clock import iso
from pmctl.sim.models import fmt, unprocessable
from pmctl.sim.render import order_json, quote_json
from pmctl.sim.wire import day, integer, json_body, moment, respond

CONTROL_RULES = [
    ("GET", "/_sim/state", "sim_state"),
    ("POST", "/_sim/prices", "sim_prices"),
    ("POST", "/_sim/quotes", "sim_quotes"),
    ("POST", "/_sim/ticks", "sim_ticks"),
    ("POST", "/_sim/market/open", "sim_open"),
    ("POST", "/_sim/market/close", "sim_close"),
    ("POST", "/_sim/clock", "sim_clock"),
    ("POST", "/_sim/orders/<order_id>/fill", "sim_fill"),
    ("POST", "/_sim/orders/<order_id>/reject", "sim_reject"),
    ("PUT", "/_sim/accounts/<account>/positions/<symbol>", "sim_set_position"),
    ("POST", "/_sim/accounts/<account>/positions/<symbol>/close_by_hand", "sim_close_by_hand"),
    ("POST", "/_sim/accounts/<account>/activities", "sim_activity"),
    ("GET", "/_sim/faults", "sim_faults"),
    ("POST", "/_sim/faults", "sim_add_fault"),
    ("DELETE", "/_sim/faults", "sim_clear_faults"),
    ("POST", "/_sim/latency", "sim_latency"),
    ("GET", "/_sim/requests", "sim_requests"),
    ("DELETE", "/_sim/requests", "sim_reset_requests"),
    ("GET", "/_sim/streams", "sim_streams"),
    ("POST", "/_sim/streams/drop", "sim_drop_streams"),
    ("POST", "/_sim/streams/pause", "sim_pause_streams"),
    ("POST", "/_sim/streams/resume", "sim_resume_streams"),
    ("POST", "/_sim/streams/limit", "sim_stream_limit"),
]


class ControlRoutes:
    """Mixed into ``SimApp``: no auth, no faults, no request log; each handler takes the request only."""

    def sim_state(self, request):
        return respond(self.state.snapshot())

    def sim_prices(self, request):
        """``{"SYM": "4.00"}``, or ``{"SYM": {"price": "4.00", "age_seconds": 3600}}`` for an old print."""
        for symbol, spec in json_body(request).items():
            if isinstance(spec, dict):
                _keys(spec, {"price", "timestamp", "age_seconds"}, symbol)
                self.state.set_price(symbol, spec.get("price"),
                                     at=moment(spec.get("timestamp"), "timestamp"),
                                     age_seconds=spec.get("age_seconds"))
            else:
                self.state.set_price(symbol, spec)
        return respond({s: fmt(p) for s, p in sorted(self.state.prices.items())})

    def sim_quotes(self, request):
        """``{"SYM": {"bid", "ask", "bid_size", "ask_size", "timestamp" | "age_seconds"}}``; null clears."""
        body = json_body(request)
        for symbol, spec in body.items():
            if spec is None:
                self.state.clear_quote(symbol)
                continue
            if not isinstance(spec, dict):
                raise unprocessable(f"{symbol}: a quote is an object with bid and ask, or null")
            _keys(spec, {"bid", "ask", "bid_size", "ask_size", "timestamp", "age_seconds"}, symbol)
            if "bid" not in spec or "ask" not in spec:
                raise unprocessable(f"{symbol}: a quote needs bid and ask")
            sizes = {k: spec[k] for k in ("bid_size", "ask_size") if k in spec}
            self.state.set_quote(symbol, spec["bid"], spec["ask"], **sizes,
                                 at=moment(spec.get("timestamp"), "timestamp"),
                                 age_seconds=spec.get("age_seconds"))
        return respond({s: _quote_or_none(self.state.quote(s)) for s in body})

    def sim_ticks(self, request):
        body = json_body(request)
        _keys(body, {"penny_all_prices", "outside_program"}, "ticks")
        rules = self.state.set_option_ticks(body.get("penny_all_prices"),
                                            body.get("outside_program"))
        return respond({"penny_all_prices": sorted(rules.penny_all_prices),
                        "outside_program": sorted(rules.outside_program)})

    def sim_open(self, request):
        self.state.set_market_open(True)
        return respond(self.state.clock_json())

    def sim_close(self, request):
        self.state.set_market_open(False)
        return respond(self.state.clock_json())

    def sim_clock(self, request):
        body = json_body(request)
        frozen, is_open = body.get("frozen"), body.get("is_open")
        self.state.set_clock(
            timestamp=moment(body.get("timestamp"), "timestamp"),
            is_open=None if is_open is None else bool(is_open),
            next_open=moment(body.get("next_open"), "next_open"),
            next_close=moment(body.get("next_close"), "next_close"),
            frozen=None if frozen is None else bool(frozen),
        )
        return respond(self.state.clock_json())

    def sim_fill(self, request, order_id):
        body = json_body(request)
        order = self.state.fill_order(order_id, body.get("qty"), body.get("price"))
        return respond(order_json(order))

    def sim_reject(self, request, order_id):
        return respond(order_json(self.state.reject_order(order_id)))

    def sim_set_position(self, request, account, symbol):
        body = json_body(request)
        self.state.set_position(account, symbol, body.get("qty", "0"),
                                body.get("avg_entry_price", "0"))
        return respond({"account": account, "symbol": symbol, "qty": str(body.get("qty", "0"))})

    def sim_close_by_hand(self, request, account, symbol):
        body = json_body(request)
        order = self.state.close_by_hand(account, symbol, body.get("qty"), body.get("price"),
                                         cancel_orders=bool(body.get("cancel_orders", False)))
        return respond(order_json(order))

    def sim_activity(self, request, account):
        body = json_body(request)
        activity = self.state.add_activity(
            account, str(body.get("activity_type", "")), symbol=body.get("symbol"),
            qty=body.get("qty"), net_amount=body.get("net_amount", "0"),
            description=body.get("description", ""), on=day(body.get("date"), "date"))
        return respond({"id": activity.id, **activity.body})

    def sim_faults(self, request):
        return respond([vars(f) for f in self.state.faults])

    def sim_add_fault(self, request):
        body = json_body(request)
        if not body.get("path") or not body.get("kind"):
            raise unprocessable("a fault needs path and kind")
        seconds = body.get("seconds")
        fault = self.state.inject_fault(
            body["path"], body["kind"], count=integer(body.get("count", 1), "count"),
            method=body.get("method"), status=integer(body.get("status"), "status"),
            seconds=None if seconds is None else float(seconds), message=body.get("message"))
        return respond(vars(fault), 201)

    def sim_clear_faults(self, request):
        self.state.clear_faults()
        return Response(status=204)

    def sim_latency(self, request):
        self.state.set_latency(float(json_body(request).get("seconds", 0)))
        return respond({"seconds": self.state.latency})

    def sim_requests(self, request):
        with self.state.lock:
            records = list(self.state.requests)
        return respond([{"at": iso(r.at), "method": r.method, "path": r.path,
                         "account": r.account, "status": r.status, "feed": r.feed}
                        for r in records])

    def sim_reset_requests(self, request):
        self.state.reset_requests()
        return Response(status=204)


    def sim_streams(self, request):
        return respond(self.state.stream_connections())

    def sim_drop_streams(self, request):
        """``{"kind": "trading"|"stocks"|"options", "account": NAME, "mode": "abrupt"|"close"}``, each optional."""
        body = json_body(request)
        _keys(body, {"kind", "account", "mode"}, "streams")
        count = self.state.drop_streams(body.get("kind"), body.get("account"),
                                        body.get("mode", "abrupt"))
        return respond({"dropped": count})

    def sim_pause_streams(self, request):
        body = json_body(request)
        _keys(body, {"kind", "account"}, "streams")
        return respond({"paused": self.state.pause_streams(body.get("kind"), body.get("account"))})

    def sim_resume_streams(self, request):
        body = json_body(request)
        _keys(body, {"kind", "account"}, "streams")
        return respond({"resumed": self.state.resume_streams(body.get("kind"), body.get("account"))})

    def sim_stream_limit(self, request):
        """``{"connections": N}`` sessions per account and data endpoint; null lifts the limit."""
        body = json_body(request)
        _keys(body, {"connections"}, "streams")
        limit = body.get("connections")
        self.state.set_stream_connection_limit(None if limit is None else integer(limit, "connections"))
        return respond({"connections": self.state.streams.connection_limit})


def _keys(spec, allowed: set[str], where: str) -> None:
    if not isinstance(spec, dict):
        raise unprocessable(f"{where}: need a JSON object")
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise unprocessable(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _quote_or_none(quote):
    return None if quote is None else quote_json(quote)
