"""Alpaca's market-data paths: latest trades, latest quotes and snapshots, for stocks and options.

Shapes follow Alpaca's market-data reference as alpaca-py's data models parse them:
stock trades and quotes carry condition lists and a tape, option ones a single
condition letter; stock snapshots are keyed by symbol at the top level, option
snapshots sit under ``snapshots`` with a ``next_page_token``. Symbols with nothing to
report (and symbols of the other asset class) are left out, as Alpaca leaves out
symbols it has no data for. Bars, greeks and implied volatility are not modelled.
"""

from pmctl import occ
from pmctl.sim.models import SimError
from pmctl.sim.render import market_quote_json, market_trade_json
from pmctl.sim.wire import integer, respond, symbol_list

DATA_RULES = [
    ("GET", "/v2/stocks/trades/latest", "stock_trades"),
    ("GET", "/v2/stocks/quotes/latest", "stock_quotes"),
    ("GET", "/v2/stocks/snapshots", "stock_snapshots"),
    ("GET", "/v1beta1/options/trades/latest", "option_trades"),
    ("GET", "/v1beta1/options/quotes/latest", "option_quotes"),
    ("GET", "/v1beta1/options/snapshots", "option_snapshots"),
]
STOCK_FEEDS = ("iex", "sip", "delayed_sip", "boats", "overnight", "otc")
OPTION_FEEDS = ("opra", "indicative")
OPTION_SYMBOLS_PER_REQUEST = 100
SNAPSHOT_PAGE_LIMIT = 1000
SNAPSHOT_PAGE_DEFAULT = 100


def _bad_request(message: str) -> SimError:
    return SimError(400, 40010001, message)


class DataRoutes:
    """Mixed into ``SimApp``: each handler takes the request and the authenticated account's name."""

    def stock_trades(self, request, account):
        return respond({"trades": self._trades(self._asked(request, option=False), False)})

    def stock_quotes(self, request, account):
        return respond({"quotes": self._quotes(self._asked(request, option=False), False)})

    def stock_snapshots(self, request, account):
        return respond(self._snapshots(self._asked(request, option=False), False))

    def option_trades(self, request, account):
        return respond({"trades": self._trades(self._asked(request, option=True), True)})

    def option_quotes(self, request, account):
        return respond({"quotes": self._quotes(self._asked(request, option=True), True)})

    def option_snapshots(self, request, account):
        symbols = self._asked(request, option=True)
        limit = integer(request.args.get("limit"), "limit") or SNAPSHOT_PAGE_DEFAULT
        if not 1 <= limit <= SNAPSHOT_PAGE_LIMIT:
            raise _bad_request(f"invalid limit: {limit} (1 to {SNAPSHOT_PAGE_LIMIT})")
        snapshots = self._snapshots(symbols, True)
        names = list(snapshots)
        token = request.args.get("page_token")
        if token:
            if token not in names:
                raise _bad_request(f"invalid page_token: {token!r}")
            names = names[names.index(token) + 1:]
        page = names[:limit]
        more = len(names) > limit
        return respond({"snapshots": {s: snapshots[s] for s in page},
                        "next_page_token": page[-1] if more else None})

    def _asked(self, request, option: bool) -> list[str]:
        """The requested symbols of this asset class, once each; Alpaca's limits refused with a 400."""
        feed = request.args.get("feed")
        feeds = OPTION_FEEDS if option else STOCK_FEEDS
        if feed is not None and feed not in feeds:
            raise _bad_request(f"invalid feed {feed!r}: want one of {', '.join(feeds)}")
        symbols = list(dict.fromkeys(symbol_list(request.args.get("symbols"))))
        if not symbols:
            raise _bad_request("missing symbols")
        if option and len(symbols) > OPTION_SYMBOLS_PER_REQUEST:
            raise _bad_request(f"too many symbols: {len(symbols)} given, at most "
                               f"{OPTION_SYMBOLS_PER_REQUEST} per request")
        return [s for s in symbols if occ.is_option(s) == option]

    def _trades(self, symbols: list[str], option: bool) -> dict:
        trades = {s: self.state.latest_trade(s) for s in symbols}
        return {s: market_trade_json(t, option) for s, t in trades.items() if t is not None}

    def _quotes(self, symbols: list[str], option: bool) -> dict:
        quotes = {s: self.state.quote(s) for s in symbols}
        return {s: market_quote_json(q, option) for s, q in quotes.items() if q is not None}

    def _snapshots(self, symbols: list[str], option: bool) -> dict:
        trades, quotes = self._trades(symbols, option), self._quotes(symbols, option)
        snapshots = {}
        for symbol in symbols:
            parts = {"latestTrade": trades.get(symbol), "latestQuote": quotes.get(symbol)}
            if any(parts.values()):
                snapshots[symbol] = {k: v for k, v in parts.items() if v is not None}
        return snapshots
