"""The one adapter between pmctl and Alpaca, through the official alpaca-py SDK.

Each method is one thing the core needs, in as few requests as the API allows,
and returns plain data from ``pmctl.core.market``. Reads retry within a bound;
order submissions never retry. Importing this module imports alpaca-py, so only
commands that talk to the broker do.
"""

import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TypeVar

import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, PositionIntent, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    ClosePositionRequest, GetCalendarRequest, GetOrdersRequest, LimitOrderRequest, MarketOrderRequest,
)
from pydantic import ValidationError

from pmctl.core.numbers import finite_decimal, num
from pmctl.broker import errors
from pmctl.broker.market_data import MarketData, batches
from pmctl.broker.protective import ProtectiveOrders
from pmctl.broker.transport import RetryPolicy, Retryable, configure, with_retries
from pmctl.core.market import (
    MARKET_ZONE, AccountInfo, Clock, CloseRequest, Fill, NonTradeActivity, Order, Position, Session, as_utc,
)
from pmctl.core.quotes import Quote
from pmctl.config import AccountConfig

T = TypeVar("T")
ORDERS_PAGE = 500
ACTIVITIES_PAGE = 100
#: Stocks per latest-trades request. Alpaca documents no limit for stocks; this keeps the request's URL well
#: under the 8 KB servers commonly accept (500 tickers of up to 6 letters and a comma, about 3.5 KB).
STOCK_SYMBOLS_PER_REQUEST = 500
OPTION_EVENTS = ("OPEXP", "OPEXC", "OPASN")
#: Latest-quotes requests in flight at once for one account: below requests' pool of 10 connections per host.
QUOTE_READERS = 4


class AlpacaBroker(ProtectiveOrders):
    """The broker as seen by one configured account."""

    def __init__(self, account: AccountConfig, timeout: Decimal, policy: RetryPolicy = RetryPolicy(), sleep=None):
        self.account_name = account.name
        key, secret = account.api_key.reveal(), account.secret_key.reveal()
        self._trading = TradingClient(key, secret, paper=account.paper, url_override=account.base_url)
        configure(self._trading, float(timeout))
        self._data = MarketData(account, float(timeout))
        self._policy = policy
        self._sleep = sleep
        self._account: AccountInfo | None = None

    def account(self) -> AccountInfo:
        """Who these keys belong to; asked once per process."""
        if self._account is None:
            raw = self._repeatable("read the account", self._trading.get_account)
            self._account = AccountInfo(str(raw.id), raw.account_number, str(raw.status.value))
        return self._account

    def clock(self) -> Clock:
        raw = self._repeatable("read the market clock", self._trading.get_clock)
        return Clock(as_utc(raw.timestamp), raw.is_open, as_utc(raw.next_open), as_utc(raw.next_close))

    def calendar(self, start: date, end: date) -> list[Session]:
        raw = self._repeatable(
            "read the market calendar", lambda: self._trading.get_calendar(GetCalendarRequest(start=start, end=end))
        )
        return [
            Session(day.date, _market_time(day.date, day.open), _market_time(day.date, day.close)) for day in raw
        ]

    def positions(self) -> list[Position]:
        raw = self._repeatable("read positions", self._trading.get_all_positions)
        return [_position(item) for item in raw]

    def open_orders(self) -> list[Order]:
        """Every open order, paging backwards by submission time past the API's 500 per request.

        A read that cannot be completed raises: a partial list of orders would
        look like quantity that nothing holds.
        """
        found: dict[str, Order] = {}
        until: datetime | None = None
        while True:
            query = GetOrdersRequest(
                status=QueryOrderStatus.OPEN, limit=ORDERS_PAGE, direction="desc", nested=False, until=until
            )
            page = self._repeatable("read open orders", lambda: self._trading.get_orders(filter=query))
            fresh = [_order(item) for item in page if str(item.id) not in found]
            found.update((order.id, order) for order in fresh)
            if len(page) < ORDERS_PAGE:
                return list(found.values())
            if not fresh:
                raise errors.BrokerUnavailable(
                    f"could not read every open order: more than {ORDERS_PAGE} share one submission time"
                )
            # ``until`` is exclusive: step just past the oldest time seen so orders sharing it are not skipped.
            until = min(order.submitted_at for order in fresh) + timedelta(microseconds=1)

    def order_by_client_id(self, client_order_id: str) -> Order | None:
        try:
            raw = self._repeatable(
                f"look up order {client_order_id}", lambda: self._trading.get_order_by_client_id(client_order_id)
            )
        except errors.OrderNotFound:
            return None
        return _order(raw)

    def cancel_order(self, order_id: str) -> None:
        self._repeatable(f"cancel order {order_id}", lambda: self._trading.cancel_order_by_id(order_id))

    def order_by_id(self, order_id: str) -> Order | None:
        try:
            raw = self._repeatable(f"look up order {order_id}", lambda: self._trading.get_order_by_id(order_id))
        except errors.OrderNotFound:
            return None
        return _order(raw)

    def orders_since(self, symbol: str, after: datetime) -> list[Order]:
        """Every order on one symbol submitted after a time, oldest first, in one request.

        How a stock close whose answer was lost is found again: DELETE
        /v2/positions carries no client order id to look it up by.
        """
        query = GetOrdersRequest(status=QueryOrderStatus.ALL, symbols=[symbol], after=after, direction="asc",
                                 limit=ORDERS_PAGE, nested=False)
        page = self._repeatable(f"read the {symbol} orders since {after:%H:%M:%S} UTC",
                          lambda: self._trading.get_orders(filter=query))
        if len(page) >= ORDERS_PAGE:
            raise errors.BrokerUnavailable(
                f"could not read every {symbol} order since {after:%H:%M:%S} UTC: more than {ORDERS_PAGE - 1}"
            )
        return [_order(item) for item in page]

    def submit_close(self, request: CloseRequest) -> Order:
        """Send one reducing market order, once: an option's as an order, a stock's through its position.

        An unclear outcome is ``OrderOutcomeUnknown``.
        """
        action = f"{request.side} {num(request.qty)} {request.symbol} to close"
        if request.by_position:
            action += f" (DELETE /v2/positions/{request.symbol}?qty={num(request.qty)})"
            return self._send(action, request.client_order_id, lambda: self._trading.close_position(
                request.symbol, ClosePositionRequest(qty=num(request.qty))))
        return self._send(action, request.client_order_id, lambda: self._trading.submit_order(_market_close(request)))

    def submit_limit_close(self, request: CloseRequest, limit_price: Decimal) -> Order:
        """Send one reducing limit order, once, good for the day, with the close's intent and client order id.

        Only a close with an intent: a stock's close goes through its position, which takes no limit.
        An unclear outcome is ``OrderOutcomeUnknown``.
        """
        if request.by_position:
            raise ValueError(f"a close of {request.symbol} without an intent cannot be a limit order")
        action = f"{request.side} {num(request.qty)} {request.symbol} to close at a limit of {num(limit_price)}"
        order = LimitOrderRequest(symbol=request.symbol, qty=float(request.qty), side=OrderSide(request.side),
                                  time_in_force=TimeInForce.DAY, limit_price=float(limit_price),
                                  client_order_id=request.client_order_id,
                                  position_intent=PositionIntent(request.position_intent))
        return self._send(action, request.client_order_id, lambda: self._trading.submit_order(order))

    def latest_quotes(self, stocks: Iterable[str], options: Iterable[str]) -> dict[str, Quote]:
        """The latest quote of each symbol from the market-data API, on the account's feeds: one request per
        100 symbols of each asset class, none for a class with no symbols, up to ``QUOTE_READERS`` at a time (a
        5,000-position book is 50 requests: one after another they would cost 50 round trips of latency). A
        symbol Alpaca has no quote for is left out; a batch that cannot be read fails the whole read."""
        reads = [(batch, self._data.stock_quotes) for batch in batches(stocks)]
        reads += [(batch, self._data.option_quotes) for batch in batches(options)]

        def read(job) -> dict[str, Quote]:
            batch, ask = job
            return self._repeatable(f"read the quotes of {_some(batch)}", lambda: ask(batch))

        found: dict[str, Quote] = {}
        if len(reads) <= 1:
            for job in reads:
                found.update(read(job))
            return found
        with ThreadPoolExecutor(max_workers=min(len(reads), QUOTE_READERS)) as pool:
            for quotes in pool.map(read, reads):
                found.update(quotes)
        return found

    def latest_trades(self, symbols: tuple[str, ...]) -> dict[str, Decimal]:
        """The last trade of each stock, from the market-data API on the account's stock feed: one request for
        them all (per ``STOCK_SYMBOLS_PER_REQUEST``). A symbol Alpaca has no trade for is left out."""
        prices: dict[str, Decimal] = {}
        for start in range(0, len(symbols), STOCK_SYMBOLS_PER_REQUEST):
            batch = list(symbols[start:start + STOCK_SYMBOLS_PER_REQUEST])
            prices.update(self._repeatable(f"read the last trade of {_some(batch)}",
                                           lambda batch=batch: self._data.stock_trades(batch)))
        return prices


    def fills_since(self, after: datetime) -> list[Fill]:
        """FILL activities after a time, oldest first, read raw: alpaca-py 0.44 cannot parse them."""
        return [_fill(item) for item in self._activities("/account/activities/FILL", {}, after)]

    def option_events_since(self, after: datetime) -> list[NonTradeActivity]:
        items = self._activities("/account/activities", {"activity_types": ",".join(OPTION_EVENTS)}, after)
        return [_non_trade(item) for item in items]

    def _activities(self, path: str, params: dict, after: datetime) -> list[dict]:
        items: list[dict] = []
        token: str | None = None
        while True:
            query = {**params, "after": after.isoformat(), "direction": "asc", "page_size": ACTIVITIES_PAGE}
            if token:
                query["page_token"] = token
            page = self._repeatable(f"read account activities ({path})", lambda: self._trading.get(path, query))
            if not isinstance(page, list):
                raise errors.BrokerUnavailable(f"unreadable answer from {path}: expected a list")
            items.extend(page)
            if len(page) < ACTIVITIES_PAGE:
                return items
            token = page[-1].get("id")

    @staticmethod
    def _position(raw) -> Position:
        return _position(raw)

    def _send(self, action: str, client_order_id: str, call: Callable[[], T]) -> Order:
        """An order request, sent once: a refusal is its typed error, no clear answer ``OrderOutcomeUnknown``."""
        try:
            raw = call()
        except APIError as error:
            failure = errors.classify(error.status_code, str(error), action)
            if isinstance(failure, errors.BrokerUnavailable):
                raise errors.OrderOutcomeUnknown(
                    f"no clear answer to the close {client_order_id} ({action}): {failure}"
                ) from None
            raise failure from None
        except (requests.Timeout, requests.ConnectionError) as error:
            raise errors.OrderOutcomeUnknown(
                f"no answer to the close {client_order_id} ({action}): {type(error).__name__}"
            ) from None
        return _order(raw)

    def _repeatable(self, action: str, call: Callable[[], T]) -> T:
        """A request that may be sent again on a timeout or 5xx: every read, and a cancel (cancelling twice
        cancels once). A close order is never sent through here."""

        def attempt() -> T:
            try:
                return call()
            except APIError as error:
                failure = errors.classify(error.status_code, str(error), action)
                if isinstance(failure, errors.BrokerUnavailable):
                    raise Retryable(failure) from None
                raise failure from None
            except (requests.Timeout, requests.ConnectionError) as error:
                raise Retryable(
                    errors.BrokerUnavailable(f"broker unreachable while trying to {action}: {_describe(error)}")
                ) from None
            except (ValidationError, ValueError) as error:
                raise errors.BrokerUnavailable(
                    f"unreadable answer from the broker while trying to {action}: {type(error).__name__}"
                ) from None

        kwargs = {"sleep": self._sleep} if self._sleep else {}
        return with_retries(attempt, self._policy, **kwargs)


def _market_close(request: CloseRequest) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol=request.symbol,
        qty=float(request.qty),
        side=OrderSide(request.side),
        time_in_force=TimeInForce.DAY,
        client_order_id=request.client_order_id,
        position_intent=PositionIntent(request.position_intent),
    )


def _some(symbols: list[str]) -> str:
    """A batch named in an error message: its first symbols and how many more."""
    shown = ", ".join(symbols[:3])
    return shown if len(symbols) <= 3 else f"{shown} and {len(symbols) - 3} more"


def _describe(error: Exception) -> str:
    if isinstance(error, requests.Timeout):
        return "timed out"
    return "connection failed"


def _market_time(day: date, moment: datetime) -> datetime:
    """Calendar times are New York wall-clock times; alpaca-py gives them naive."""
    if moment.tzinfo is None:
        moment = datetime.combine(day, moment.time(), MARKET_ZONE)
    return moment.astimezone(timezone.utc)


def _optional_decimal(value) -> Decimal | None:
    return None if value in (None, "") else finite_decimal(value)


def _position(raw) -> Position:
    qty = finite_decimal(raw.qty)
    side = raw.side.value if hasattr(raw.side, "value") else str(raw.side)
    signed = -abs(qty) if side == "short" else abs(qty)
    available = _optional_decimal(raw.qty_available)
    return Position(
        symbol=raw.symbol,
        qty=signed,
        qty_available=abs(available) if available is not None else abs(qty),
        avg_entry_price=finite_decimal(raw.avg_entry_price),
        current_price=_optional_decimal(raw.current_price),
        asset_class=raw.asset_class.value if hasattr(raw.asset_class, "value") else str(raw.asset_class),
    )


def as_order(raw) -> Order:
    """An alpaca-py order, as a REST answer or a trade update carries it, in the core's vocabulary."""
    return _order(raw)


def _order(raw) -> Order:
    return Order(
        id=str(raw.id),
        client_order_id=raw.client_order_id,
        symbol=raw.symbol or "",
        side=raw.side.value if raw.side else "",
        qty=_optional_decimal(raw.qty) or Decimal(0),
        filled_qty=_optional_decimal(raw.filled_qty) or Decimal(0),
        filled_avg_price=_optional_decimal(raw.filled_avg_price),
        order_type=(raw.order_type or raw.type).value if (raw.order_type or raw.type) else "",
        status=raw.status.value,
        submitted_at=as_utc(raw.submitted_at),
        filled_at=as_utc(raw.filled_at) if raw.filled_at else None,
        position_intent=raw.position_intent.value if raw.position_intent else None,
        order_class=raw.order_class.value if raw.order_class else "simple",
        limit_price=_optional_decimal(raw.limit_price),
        stop_price=_optional_decimal(raw.stop_price),
        legs=tuple(_order(leg) for leg in raw.legs or ()),
    )


def _fill(item: dict) -> Fill:
    try:
        return Fill(
            id=str(item["id"]),
            order_id=str(item["order_id"]),
            symbol=str(item["symbol"]),
            side=str(item["side"]),
            qty=finite_decimal(item["qty"]),
            price=finite_decimal(item["price"]),
            time=as_utc(datetime.fromisoformat(str(item["transaction_time"]).replace("Z", "+00:00"))),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise errors.BrokerUnavailable(f"unreadable FILL activity from the broker: {_item_text(item, error)}") from None


def _non_trade(item: dict) -> NonTradeActivity:
    try:
        return NonTradeActivity(
            id=str(item["id"]),
            activity_type=str(item["activity_type"]),
            symbol=str(item["symbol"]),
            qty=finite_decimal(item["qty"]),
            day=date.fromisoformat(str(item["date"])[:10]),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise errors.BrokerUnavailable(f"unreadable account activity from the broker: {_item_text(item, error)}") from None


def _item_text(item, error: Exception) -> str:
    return f"{type(error).__name__} {error} in {json.dumps(item, default=str)[:200]}"

