"""Alpaca's market-data API for one account: latest quotes of stocks and options, in batches, on its feeds, and
the last trades of stocks (the underlyings whose levels a row watches).

The data clients are made on first use: a cycle whose profiles all trigger on
the last trade reads no market data. Their modules are imported with this one,
not on first use: accounts are cycled in parallel threads, and two threads
importing alpaca-py's data package at once can fail halfway (a ``KeyError``
from the import system); with the trading client loaded it costs about 20 ms.
Each request is one batch; the adapter owns retries and errors, this module
only builds requests and reads answers.
"""

from collections.abc import Iterable, Iterator
from decimal import Decimal

from alpaca.data.enums import DataFeed, OptionsFeed
from alpaca.data.historical.option import OptionHistoricalDataClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import OptionLatestQuoteRequest, StockLatestQuoteRequest, StockLatestTradeRequest

from pmctl.broker.transport import configure
from pmctl.config import AccountConfig
from pmctl.core.market import as_utc
from pmctl.core.numbers import finite_decimal
from pmctl.core.quotes import Quote

#: Symbols per latest-quotes request: Alpaca's documented limit for options. Alpaca documents none for stocks;
#: the same 100 keeps a request's URL short (100 tickers of up to 6 letters) and the count of requests per
#: cycle one formula, ceil(symbols / 100) per asset class.
SYMBOLS_PER_REQUEST = 100


def batches(symbols: Iterable[str]) -> Iterator[list[str]]:
    """The symbols, each once and in order, ``SYMBOLS_PER_REQUEST`` at a time."""
    unique = sorted(set(symbols))
    for start in range(0, len(unique), SYMBOLS_PER_REQUEST):
        yield unique[start:start + SYMBOLS_PER_REQUEST]


class MarketData:
    """The account's two data clients (stocks on ``stock_feed``, options on ``option_feed``) at its ``data_url``."""

    def __init__(self, account: AccountConfig, timeout: float):
        self._account = account
        self._timeout = timeout
        self._stocks = None
        self._options = None

    def stock_quotes(self, symbols: list[str]) -> dict[str, Quote]:
        request = StockLatestQuoteRequest(symbol_or_symbols=symbols, feed=DataFeed(self._account.stock_feed))
        return _quotes(self._stock_client().get_stock_latest_quote(request))

    def option_quotes(self, symbols: list[str]) -> dict[str, Quote]:
        request = OptionLatestQuoteRequest(symbol_or_symbols=symbols, feed=OptionsFeed(self._account.option_feed))
        return _quotes(self._option_client().get_option_latest_quote(request))

    def stock_trades(self, symbols: list[str]) -> dict[str, Decimal]:
        request = StockLatestTradeRequest(symbol_or_symbols=symbols, feed=DataFeed(self._account.stock_feed))
        return {symbol: finite_decimal(trade.price)
                for symbol, trade in self._stock_client().get_stock_latest_trade(request).items()}

    def _stock_client(self):
        if self._stocks is None:
            self._stocks = self._configured(StockHistoricalDataClient)
        return self._stocks

    def _option_client(self):
        if self._options is None:
            self._options = self._configured(OptionHistoricalDataClient)
        return self._options

    def _configured(self, kind):
        account = self._account
        client = kind(account.api_key.reveal(), account.secret_key.reveal(), url_override=account.data_url)
        configure(client, self._timeout)
        return client


def _quotes(raw: dict) -> dict[str, Quote]:
    """alpaca-py's quotes as the core's: prices and sizes as Decimal through their text, times in UTC.

    A malformed value raises ValueError, which the adapter reports as an unreadable answer.
    """
    return {
        symbol: Quote(symbol=symbol, bid=finite_decimal(quote.bid_price), ask=finite_decimal(quote.ask_price),
                      bid_size=finite_decimal(quote.bid_size), ask_size=finite_decimal(quote.ask_size),
                      at=as_utc(quote.timestamp))
        for symbol, quote in raw.items()
    }
