"""Alpaca's trading paths (/v2/account, clock, calendar, positions, orders, activities)."""

from werkzeug.wrappers import Response

from pmctl.sim.models import unprocessable
from pmctl.sim.render import order_json, session_json
from pmctl.sim.wire import day, flag, integer, json_body, moment, respond, symbol_list

BROKER_RULES = [
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
    ("PATCH", "/v2/orders/<order_id>", "replace_order"),
    ("DELETE", "/v2/orders/<order_id>", "cancel_order"),
    ("GET", "/v2/account/activities", "activities"),
    ("GET", "/v2/account/activities/<activity_type>", "activities"),
]


class BrokerRoutes:
    """Mixed into ``SimApp``: each handler takes the request and the authenticated account's name."""

    def account(self, request, account):
        return respond(self.state.account_json(account))

    def clock(self, request, account):
        return respond(self.state.clock_json())

    def calendar(self, request, account):
        a = request.args
        sessions = self.state.sessions(day(a.get("start"), "start"), day(a.get("end"), "end"))
        return respond([session_json(s) for s in sessions])

    def positions(self, request, account):
        return respond([self.state.position_json(account, p)
                        for p in self.state.list_positions(account)])

    def position(self, request, account, symbol):
        return respond(self.state.position_json(account, self.state.get_position(account, symbol)))

    def close_position(self, request, account, symbol):
        order = self.state.close_position(account, symbol, request.args.get("qty"),
                                          request.args.get("percentage"))
        return respond(order_json(order))

    def orders(self, request, account):
        a = request.args
        nested = bool(flag(a.get("nested"), "nested"))
        orders = self.state.list_orders(
            account,
            status=a.get("status", "open"),
            limit=integer(a.get("limit"), "limit") or 50,
            after=moment(a.get("after"), "after"),
            until=moment(a.get("until"), "until"),
            direction=a.get("direction", "desc"),
            symbols=symbol_list(a.get("symbols")),
            side=a.get("side"),
            nested=nested,
        )
        return respond([order_json(o, nested) for o in orders])

    def submit_order(self, request, account):
        body = json_body(request)
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
            extended_hours=flag(extended, "extended_hours") if isinstance(extended, str)
            else bool(extended),
            take_profit=body.get("take_profit"), stop_loss=body.get("stop_loss"),
        )
        return respond(order_json(order, nested=True))

    def cancel_orders(self, request, account):
        canceled = self.state.cancel_all_orders(account)
        return respond([{"id": str(o.id), "status": 200, "body": order_json(o)}
                        for o in canceled], 207)

    def order_by_client_id(self, request, account):
        client_order_id = request.args.get("client_order_id")
        if not client_order_id:
            raise unprocessable("client_order_id is required")
        return respond(order_json(self.state.get_order_by_client_id(account, client_order_id)))

    def order(self, request, account, order_id):
        nested = bool(flag(request.args.get("nested"), "nested"))
        return respond(order_json(self.state.get_order(account, order_id), nested))

    def replace_order(self, request, account, order_id):
        body = json_body(request)
        order = self.state.replace_order(
            account, order_id, qty=body.get("qty"), time_in_force=body.get("time_in_force"),
            limit_price=body.get("limit_price"), stop_price=body.get("stop_price"),
            trail=body.get("trail"), client_order_id=body.get("client_order_id"))
        return respond(order_json(order))

    def cancel_order(self, request, account, order_id):
        self.state.cancel_order(account, order_id)
        return Response(status=204)

    def activities(self, request, account, activity_type=None):
        a = request.args
        types = [activity_type.upper()] if activity_type else [
            t.upper() for t in symbol_list(a.get("activity_types"))]
        return respond(self.state.list_activities(
            account,
            activity_types=types,
            after=moment(a.get("after"), "after"),
            until=moment(a.get("until"), "until"),
            direction=a.get("direction", "desc"),
            page_size=integer(a.get("page_size"), "page_size") or 100,
            page_token=a.get("page_token"),
        ))
