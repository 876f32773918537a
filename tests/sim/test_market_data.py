"""Quotes, trades and snapshots through alpaca-py's data clients, with Alpaca's feeds and batch limits."""

from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import DataFeed, OptionsFeed
from alpaca.data.historical.option import OptionHistoricalDataClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import (
    OptionLatestQuoteRequest,
    OptionLatestTradeRequest,
    OptionSnapshotRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
    StockSnapshotRequest,
)

OPTION = "GOOGL260220C00340000"


def contracts(n: int) -> list[str]:
    """n distinct well-formed GOOGL calls, strikes 1.000, 2.000, ..."""
    return [f"GOOGL260220C{strike * 1000:08d}" for strike in range(1, n + 1)]


@pytest.fixture
def stocks(sim, keys) -> StockHistoricalDataClient:
    key, secret = keys["a"]
    return StockHistoricalDataClient(key, secret, url_override=sim.url)


@pytest.fixture
def options(sim, keys) -> OptionHistoricalDataClient:
    key, secret = keys["a"]
    return OptionHistoricalDataClient(key, secret, url_override=sim.url)


def test_a_set_quote_is_what_the_data_clients_read_while_the_last_trade_stays(sim, state, options, noon):
    response = requests.post(f"{sim.url}/_sim/quotes", json={
        OPTION: {"bid": "1.10", "ask": "1.30", "bid_size": 5, "ask_size": 7, "age_seconds": 90}})
    assert response.status_code == 200
    assert response.json()[OPTION] == {"bid": "1.1", "ask": "1.3", "bid_size": 5, "ask_size": 7,
                                       "timestamp": "2026-02-03T15:58:30Z", "explicit": True}

    quote = options.get_option_latest_quote(OptionLatestQuoteRequest(symbol_or_symbols=OPTION))[OPTION]
    assert (quote.bid_price, quote.ask_price, quote.bid_size, quote.ask_size) == (1.1, 1.3, 5, 7)
    assert quote.timestamp == noon - timedelta(seconds=90)
    trade = options.get_option_latest_trade(OptionLatestTradeRequest(symbol_or_symbols=OPTION))[OPTION]
    assert (trade.price, trade.timestamp) == (4.0, noon)


def test_without_a_quote_the_last_trade_is_both_sides_and_clearing_a_quote_returns_to_it(sim, state, stocks):
    quote = stocks.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="GOOGL"))["GOOGL"]
    assert (quote.bid_price, quote.ask_price) == (335.4, 335.4)
    state.set_quote("GOOGL", Decimal("335"), Decimal("336"))
    requests.post(f"{sim.url}/_sim/prices", json={"GOOGL": "340"})
    quote = stocks.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="GOOGL"))["GOOGL"]
    assert (quote.bid_price, quote.ask_price) == (335.0, 336.0)
    requests.post(f"{sim.url}/_sim/quotes", json={"GOOGL": None})
    quote = stocks.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="GOOGL"))["GOOGL"]
    assert (quote.bid_price, quote.ask_price) == (340.0, 340.0)


def test_zero_bids_crossed_and_stale_markets_can_all_be_served(sim, state, options, noon):
    calls = contracts(3)
    requests.post(f"{sim.url}/_sim/quotes", json={
        calls[0]: {"bid": "0", "ask": "0.05"},
        calls[1]: {"bid": "2.10", "ask": "2.00"},
        calls[2]: {"bid": "1.00", "ask": "1.00", "timestamp": "2026-02-02T20:59:00Z"}})
    quotes = options.get_option_latest_quote(OptionLatestQuoteRequest(symbol_or_symbols=calls))
    assert (quotes[calls[0]].bid_price, quotes[calls[0]].ask_price) == (0.0, 0.05)
    assert quotes[calls[1]].bid_price > quotes[calls[1]].ask_price
    assert noon - quotes[calls[2]].timestamp == timedelta(hours=19, minutes=1)
    bad = requests.post(f"{sim.url}/_sim/quotes", json={OPTION: {"bid": "-0.05", "ask": "1"}})
    assert bad.status_code == 422 and "negative" in bad.json()["message"]


def test_an_old_print_keeps_its_time_in_the_latest_trade(sim, stocks, noon):
    requests.post(f"{sim.url}/_sim/prices", json={"GOOGL": {"price": "330", "age_seconds": 7200}})
    trade = stocks.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="GOOGL"))["GOOGL"]
    assert (trade.price, trade.timestamp) == (330.0, noon - timedelta(hours=2))


def test_snapshots_carry_the_latest_trade_and_quote_for_stocks_and_options(state, stocks, options, noon):
    state.set_quote(OPTION, Decimal("3.90"), Decimal("4.10"))
    stock = stocks.get_stock_snapshot(StockSnapshotRequest(symbol_or_symbols=["GOOGL", "NOPE"]))
    assert set(stock) == {"GOOGL"}
    assert stock["GOOGL"].latest_trade.price == 335.4 and stock["GOOGL"].latest_quote.ask_price == 335.4
    option = options.get_option_snapshot(OptionSnapshotRequest(symbol_or_symbols=[OPTION]))
    assert option[OPTION].latest_quote.bid_price == 3.9 and option[OPTION].latest_trade.price == 4.0


def test_option_requests_take_at_most_100_symbols_as_alpaca_does(state, options):
    calls = contracts(101)
    for strike, symbol in enumerate(calls, start=1):
        state.set_quote(symbol, Decimal("1"), Decimal("1.05") + strike / Decimal(100))
    batch = options.get_option_latest_quote(OptionLatestQuoteRequest(symbol_or_symbols=calls[:100]))
    assert len(batch) == 100 and batch[calls[99]].ask_price == 2.05
    for request in (OptionLatestQuoteRequest(symbol_or_symbols=calls),
                    OptionLatestTradeRequest(symbol_or_symbols=calls),
                    OptionSnapshotRequest(symbol_or_symbols=calls)):
        with pytest.raises(APIError) as refused:
            {OptionLatestQuoteRequest: options.get_option_latest_quote,
             OptionLatestTradeRequest: options.get_option_latest_trade,
             OptionSnapshotRequest: options.get_option_snapshot}[type(request)](request)
        assert refused.value.status_code == 400 and "at most 100" in refused.value.message


def test_option_snapshots_page_with_next_page_token(sim, state, keys):
    calls = contracts(3)
    for symbol in calls:
        state.set_quote(symbol, Decimal("1"), Decimal("1.10"))
    key, secret = keys["a"]
    headers = {"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret}
    url = f"{sim.url}/v1beta1/options/snapshots"
    first = requests.get(url, headers=headers, params={"symbols": ",".join(calls), "limit": 2}).json()
    assert list(first["snapshots"]) == calls[:2] and first["next_page_token"]
    rest = requests.get(url, headers=headers, params={"symbols": ",".join(calls), "limit": 2,
                                                      "page_token": first["next_page_token"]}).json()
    assert list(rest["snapshots"]) == calls[2:] and rest["next_page_token"] is None


def test_the_request_log_records_the_feed_asked_for_and_a_bad_feed_is_refused(sim, state, stocks, options):
    state.reset_requests()
    stocks.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="GOOGL", feed=DataFeed.IEX))
    options.get_option_latest_quote(OptionLatestQuoteRequest(symbol_or_symbols=OPTION, feed=OptionsFeed.OPRA))
    options.get_option_latest_trade(OptionLatestTradeRequest(symbol_or_symbols=OPTION))
    assert [(r.path, r.feed) for r in state.requests] == [
        ("/v2/stocks/quotes/latest", "iex"), ("/v1beta1/options/quotes/latest", "opra"),
        ("/v1beta1/options/trades/latest", None)]
    assert requests.get(f"{sim.url}/_sim/requests").json()[0]["feed"] == "iex"
    with pytest.raises(APIError) as refused:
        stocks.get("/stocks/quotes/latest", {"symbols": "GOOGL", "feed": "opra"})
    assert refused.value.status_code == 400 and "invalid feed" in refused.value.message
