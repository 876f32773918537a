"""Alpaca's JSON shapes for the simulator's records, as alpaca-py's models parse them."""

from datetime import date, timedelta
from decimal import Decimal

from pmctl import occ
from pmctl.sim.clock import Session, iso
from pmctl.sim.models import Account, Order, Position, Quote, Trade, asset_id, fmt


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else fmt(value)


def _opt_time(value) -> str | None:
    return None if value is None else iso(value)


def _opt_id(value) -> str | None:
    return None if value is None else str(value)


def order_json(order: Order, nested: bool = False) -> dict:
    """``nested``: an oco's take-profit carries its stop leg under ``legs``, as Alpaca nests them on request."""
    option = occ.is_option(order.symbol)
    return {
        "id": str(order.id),
        "client_order_id": order.client_order_id,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at or order.created_at),
        "submitted_at": iso(order.created_at),
        "filled_at": _opt_time(order.filled_at),
        "expired_at": _opt_time(order.expired_at),
        "canceled_at": _opt_time(order.canceled_at),
        "failed_at": _opt_time(order.failed_at),
        "replaced_at": _opt_time(order.replaced_at),
        "replaced_by": _opt_id(order.replaced_by),
        "replaces": _opt_id(order.replaces),
        "asset_id": str(asset_id(order.symbol)),
        "symbol": order.symbol,
        "asset_class": "us_option" if option else "us_equity",
        "notional": None,
        "qty": fmt(order.qty),
        "filled_qty": fmt(order.filled_qty),
        "filled_avg_price": _opt(order.filled_avg_price),
        "order_class": order.order_class,
        "order_type": order.type,
        "type": order.type,
        "side": order.side,
        "position_intent": order.position_intent,
        "time_in_force": order.time_in_force,
        "limit_price": _opt(order.limit_price),
        "stop_price": _opt(order.stop_price),
        "status": order.status,
        "extended_hours": order.extended_hours,
        "legs": [order_json(leg) for leg in order.legs] if nested and order.legs else None,
        "trail_percent": _opt(order.trail_percent),
        "trail_price": _opt(order.trail_price),
        "hwm": _opt(order.hwm),
    }


def market_trade_json(trade: Trade, option: bool) -> dict:
    """A trade as market data sends it (REST and stream alike): stocks carry condition lists and a tape,
    options one condition letter. ``t`` stays a datetime for the encoder (RFC 3339 text, or msgpack's timestamp)."""
    if option:
        return {"t": trade.at, "x": "C", "p": float(trade.price), "s": 1, "c": "I"}
    return {"t": trade.at, "x": "V", "p": float(trade.price), "s": 100, "c": ["@"], "i": 1, "z": "C"}


def market_quote_json(quote: Quote, option: bool) -> dict:
    exchange = "C" if option else "V"
    body = {"t": quote.at, "ax": exchange, "ap": float(quote.ask), "as": quote.ask_size,
            "bx": exchange, "bp": float(quote.bid), "bs": quote.bid_size}
    return {**body, "c": "A"} if option else {**body, "c": ["R"], "z": "C"}


def quote_json(quote: Quote) -> dict:
    """The control API's view of a quote (decimals as strings, as everywhere in /_sim)."""
    return {"bid": fmt(quote.bid), "ask": fmt(quote.ask), "bid_size": quote.bid_size,
            "ask_size": quote.ask_size, "timestamp": iso(quote.at), "explicit": quote.explicit}


def position_values(position: Position, price: Decimal | None) -> dict[str, Decimal]:
    current = position.avg_entry_price if price is None else price
    m = occ.multiplier(position.symbol)
    market_value = position.qty * current * m
    cost_basis = position.qty * position.avg_entry_price * m
    return {"current_price": current, "market_value": market_value, "cost_basis": cost_basis}


def position_json(position: Position, price: Decimal | None, qty_available: Decimal) -> dict:
    v = position_values(position, price)
    pl = v["market_value"] - v["cost_basis"]
    plpc = pl / abs(v["cost_basis"]) if v["cost_basis"] else Decimal(0)
    option = occ.is_option(position.symbol)
    return {
        "asset_id": str(position.asset_id),
        "symbol": position.symbol,
        "exchange": "" if option else "NASDAQ",
        "asset_class": "us_option" if option else "us_equity",
        "asset_marginable": not option,
        "qty": fmt(position.qty),
        "qty_available": fmt(qty_available),
        "avg_entry_price": fmt(position.avg_entry_price),
        "side": "long" if position.qty > 0 else "short",
        "market_value": fmt(v["market_value"].quantize(Decimal("0.01"))),
        "cost_basis": fmt(v["cost_basis"].quantize(Decimal("0.01"))),
        "unrealized_pl": fmt(pl.quantize(Decimal("0.01"))),
        "unrealized_plpc": fmt(plpc.quantize(Decimal("0.000001"))),
        "unrealized_intraday_pl": fmt(pl.quantize(Decimal("0.01"))),
        "unrealized_intraday_plpc": fmt(plpc.quantize(Decimal("0.000001"))),
        "current_price": fmt(v["current_price"]),
        "lastday_price": fmt(v["current_price"]),
        "change_today": "0",
    }


def account_json(account: Account, prices: dict[str, Decimal]) -> dict:
    long_value = short_value = Decimal(0)
    for position in account.positions.values():
        value = position_values(position, prices.get(position.symbol))["market_value"]
        if value >= 0:
            long_value += value
        else:
            short_value += value
    equity = account.cash + long_value + short_value
    buying_power = max(equity, Decimal(0))
    return {
        "id": str(account.id),
        "account_number": account.account_number,
        "status": "ACTIVE",
        "crypto_status": "INACTIVE",
        "currency": "USD",
        "cash": _money(account.cash),
        "buying_power": _money(buying_power),
        "regt_buying_power": _money(buying_power),
        "daytrading_buying_power": "0",
        "non_marginable_buying_power": _money(max(account.cash, Decimal(0))),
        "options_buying_power": _money(max(account.cash, Decimal(0))),
        "accrued_fees": "0",
        "pending_transfer_in": "0",
        "pending_transfer_out": "0",
        "portfolio_value": _money(equity),
        "equity": _money(equity),
        "last_equity": _money(equity),
        "long_market_value": _money(long_value),
        "short_market_value": _money(short_value),
        "initial_margin": "0",
        "maintenance_margin": "0",
        "last_maintenance_margin": "0",
        "sma": "0",
        "multiplier": "1",
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "shorting_enabled": True,
        "daytrade_count": 0,
        "options_approved_level": 2,
        "options_trading_level": 2,
        "created_at": iso(account.created_at),
    }


def _money(value: Decimal) -> str:
    return fmt(value.quantize(Decimal("0.01")))


def session_json(session: Session) -> dict:
    return {
        "date": session.day.isoformat(),
        "open": session.open.strftime("%H:%M"),
        "close": session.close.strftime("%H:%M"),
        "session_open": "0400",
        "session_close": "2000",
        "settlement_date": _next_weekday(session.day).isoformat(),
    }


def _next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day
