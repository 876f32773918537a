"""Alpaca's market-data paths: latest trades and quotes for stocks and options."""

from pmctl.sim.clock import iso
from pmctl.sim.wire import respond, symbol_list

DATA_RULES = [
    ("GET", "/v2/stocks/trades/latest", "latest_trades"),
    ("GET", "/v2/stocks/quotes/latest", "latest_quotes"),
    ("GET", "/v1beta1/options/trades/latest", "latest_trades"),
    ("GET", "/v1beta1/options/quotes/latest", "latest_quotes"),
]


class DataRoutes:
    """Mixed into ``SimApp``: each handler takes the request and the authenticated account's name."""

    def latest_trades(self, request, account):
        now = iso(self.state.clock.now())
        return respond({"trades": {
            symbol: {"t": now, "x": "V", "p": float(price), "s": 100, "c": ["@"], "i": 1,
                     "z": "C"}
            for symbol, price in self._latest(request)
        }})

    def latest_quotes(self, request, account):
        now = iso(self.state.clock.now())
        return respond({"quotes": {
            symbol: {"t": now, "ax": "V", "ap": float(price), "as": 1, "bx": "V",
                     "bp": float(price), "bs": 1, "c": ["R"], "z": "C"}
            for symbol, price in self._latest(request)
        }})

    def _latest(self, request):
        prices = dict(self.state.prices)
        return [(s, prices[s]) for s in symbol_list(request.args.get("symbols")) if s in prices]
