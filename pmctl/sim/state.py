"""The broker engine: accounts, positions, orders, fills, prices and the clock behind one lock.

The HTTP layer and the control API both call these methods, so a test that sets a
price in Python and a client that reads it over HTTP see the same world.
"""

import itertools
import threading
import uuid
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from pmctl.sim.clock import NEW_YORK, Calendar, SimClock, iso, utc
from pmctl.sim.models import (
    Account,
    Activity,
    Order,
    Position,
    SimError,
    forbidden,
    fmt,
    multiplier,
    not_found,
    unprocessable,
)
from pmctl import occ
from pmctl.core.numbers import finite_decimal
from pmctl.sim.interference import Interference
from pmctl.sim.render import account_json, order_json, position_json

ORDER_TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")
TIMES_IN_FORCE = ("day", "gtc", "opg", "cls", "ioc", "fok")
_PRICE_STEP = Decimal("0.000001")


def _decimal(value, what: str) -> Decimal:
    try:
        return finite_decimal(value)
    except ValueError:
        raise unprocessable(f"invalid {what}: {value!r}") from None


def _activity_id(at: datetime) -> str:
    """Alpaca's activity ids sort by time: 'YYYYMMDDhhmmssfff::uuid'."""
    return f"{at.strftime('%Y%m%d%H%M%S%f')[:17]}::{uuid.uuid4()}"


class SimState(Interference):
    def __init__(self, clock: SimClock | None = None):
        super().__init__(threading.RLock())
        self.clock = clock or SimClock(Calendar())
        self.accounts: dict[str, Account] = {}
        self.prices: dict[str, Decimal] = {}
        self._seq = itertools.count()

    # ----------------------------------------------------------- accounts

    def add_account(self, name: str, api_key: str, secret_key: str,
                    account_number: str | None = None, cash: Decimal = Decimal("100000"),
                    account_id: uuid.UUID | None = None) -> Account:
        with self.lock:
            if name in self.accounts:
                raise ValueError(f"duplicate account name {name!r}")
            if any(a.api_key == api_key for a in self.accounts.values()):
                raise ValueError(f"duplicate api_key for account {name!r}")
            account = Account(
                name=name, api_key=api_key, secret_key=secret_key,
                account_number=account_number or f"PA{uuid.uuid4().int % 10**10:010d}",
                id=account_id or uuid.uuid4(), cash=Decimal(cash), created_at=self.clock.now(),
            )
            self.accounts[name] = account
            return account

    def account(self, name: str) -> Account:
        with self.lock:
            if name not in self.accounts:
                raise not_found(f"account {name!r} does not exist")
            return self.accounts[name]

    def authenticate(self, api_key: str | None, secret_key: str | None) -> Account:
        with self.lock:
            for account in self.accounts.values():
                if account.api_key == api_key and account.secret_key == secret_key:
                    return account
        raise SimError(401, 40110000, "request is not authorized")

    # ------------------------------------------------------------- market

    def set_price(self, symbol: str, price: Decimal) -> None:
        problem = occ.problem(symbol)
        if problem:
            raise unprocessable(problem)
        price = _decimal(price, "price")
        if price < 0:
            raise unprocessable(f"price for {symbol} must not be negative, got {price}")
        with self.lock:
            self.prices[symbol] = price
            self._match_all()

    def set_market_open(self, is_open: bool) -> None:
        with self.lock:
            self.clock.is_open = is_open
            self._match_all()

    def set_clock(self, timestamp: datetime | None = None, is_open: bool | None = None,
                  next_open: datetime | None = None, next_close: datetime | None = None,
                  frozen: bool | None = None) -> None:
        with self.lock:
            if timestamp is not None:
                self.clock.set_timestamp(timestamp)
            if frozen is not None:
                self.clock.freeze(frozen)
            if next_open is not None:
                self.clock.pinned_next_open = next_open
            if next_close is not None:
                self.clock.pinned_next_close = next_close
            if is_open is not None:
                self.set_market_open(is_open)

    def clock_json(self) -> dict:
        with self.lock:
            return {
                "timestamp": iso(self.clock.now()),
                "is_open": self.clock.is_open,
                "next_open": iso(self.clock.next_open()),
                "next_close": iso(self.clock.next_close()),
            }

    def sessions(self, start: date | None = None, end: date | None = None):
        with self.lock:
            today = self.clock.now().astimezone(NEW_YORK).date()
            start = start or today
            end = end or start + timedelta(days=30)
            return self.clock.calendar.sessions(start, end)

    # ------------------------------------------------------------- orders

    def submit_order(self, account_name: str, symbol: str, qty: Decimal, side: str,
                     type: str = "market", time_in_force: str = "day", *,
                     limit_price: Decimal | None = None, stop_price: Decimal | None = None,
                     trail_price: Decimal | None = None, trail_percent: Decimal | None = None,
                     client_order_id: str | None = None, position_intent: str | None = None,
                     order_class: str | None = None, extended_hours: bool = False) -> Order:
        with self.lock:
            account = self.account(account_name)
            order = self._place(
                account, symbol, qty, side, type, time_in_force, limit_price, stop_price,
                trail_price, trail_percent, client_order_id, position_intent,
                order_class or "simple", extended_hours,
            )
            self._try_fill(account, order)
            return order

    def _place(self, account, symbol, qty, side, type, time_in_force, limit_price, stop_price,
               trail_price, trail_percent, client_order_id, position_intent, order_class,
               extended_hours) -> Order:
        if client_order_id is not None and any(
                o.client_order_id == client_order_id for o in account.orders):
            raise SimError(422, 40010001, "client_order_id must be unique")
        problem = occ.problem(symbol or "")
        if problem:
            raise unprocessable(problem)
        if side not in ("buy", "sell"):
            raise unprocessable(f"invalid side: {side!r}")
        if type not in ORDER_TYPES:
            raise unprocessable(f"invalid order type: {type!r}")
        if time_in_force not in TIMES_IN_FORCE:
            raise unprocessable(f"invalid time_in_force: {time_in_force!r}")
        qty = _decimal(qty, "qty")
        if qty <= 0:
            raise unprocessable("qty must be > 0")
        prices = {
            name: None if value is None else _decimal(value, name)
            for name, value in (("limit_price", limit_price), ("stop_price", stop_price),
                                ("trail_price", trail_price), ("trail_percent", trail_percent))
        }
        needs = {"limit": ["limit_price"], "stop": ["stop_price"],
                 "stop_limit": ["limit_price", "stop_price"]}.get(type, [])
        for name in needs:
            if prices[name] is None:
                raise unprocessable(f"{name} is required for {type} orders")
        trails = [prices["trail_price"], prices["trail_percent"]]
        if type == "trailing_stop" and trails.count(None) != 1:
            raise unprocessable(
                "trailing_stop orders need exactly one of trail_price or trail_percent")

        position = account.positions.get(symbol)
        held_qty = position.qty if position else Decimal(0)
        if occ.is_option(symbol):
            position_intent = self._check_option_order(
                account, symbol, qty, side, type, time_in_force, position_intent, order_class,
                held_qty)
        else:
            if order_class != "simple":
                raise unprocessable(f"order_class {order_class} is not supported by the simulator")
            reducing = (side == "sell" and held_qty > 0) or (side == "buy" and held_qty < 0)
            if reducing:
                available = abs(held_qty) - self._held(account, symbol, side)
                if qty > available:
                    raise _insufficient(qty, available)

        now = self.clock.now()
        hwm = self.prices.get(symbol) if type == "trailing_stop" else None
        order = Order(
            id=uuid.uuid4(), client_order_id=client_order_id or str(uuid.uuid4()),
            symbol=symbol, side=side, type=type, qty=qty, time_in_force=time_in_force,
            created_at=now, updated_at=now, status="new" if self.clock.is_open else "accepted",
            order_class=order_class, position_intent=position_intent,
            extended_hours=bool(extended_hours), hwm=hwm,
            **prices,
        )
        account.orders.append(order)
        return order

    def _check_option_order(self, account, symbol, qty, side, type, time_in_force,
                            position_intent, order_class, held_qty) -> str:
        if qty != qty.to_integral_value():
            raise unprocessable("qty must be a whole number of contracts for options")
        if time_in_force != "day":
            raise unprocessable("options orders only support time_in_force day")
        if order_class in ("bracket", "oco", "oto"):
            raise unprocessable(f"{order_class} orders are not supported for options")
        if order_class != "simple":
            raise unprocessable(f"order_class {order_class} is not supported by the simulator")
        if type == "trailing_stop":
            raise unprocessable("trailing_stop orders are not supported for options")
        if side == "buy":
            inferred = "buy_to_close" if held_qty < 0 else "buy_to_open"
        else:
            inferred = "sell_to_close" if held_qty > 0 else "sell_to_open"
        if position_intent and position_intent != inferred:
            raise forbidden(
                f"position intent mismatch, inferred: {inferred}, specified: {position_intent}")
        if inferred == "sell_to_open":
            raise forbidden("account not eligible to trade uncovered option contracts")
        if inferred.endswith("_close"):
            available = abs(held_qty) - self._held(account, symbol, side)
            if qty > available:
                raise _insufficient(qty, available)
        return inferred

    def _held(self, account: Account, symbol: str, side: str) -> Decimal:
        return sum((o.remaining for o in account.orders
                    if o.is_open and o.symbol == symbol and o.side == side), Decimal(0))

    def qty_available(self, account_name: str, symbol: str) -> Decimal:
        """Signed like qty: what is left after open orders that reduce the position."""
        with self.lock:
            account = self.account(account_name)
            position = account.positions.get(symbol)
            if position is None:
                return Decimal(0)
            reducing_side = "sell" if position.qty > 0 else "buy"
            left = max(abs(position.qty) - self._held(account, symbol, reducing_side), Decimal(0))
            return left if position.qty > 0 else -left

    def _match_all(self) -> None:
        for account in self.accounts.values():
            for order in list(account.orders):
                self._try_fill(account, order)

    def _try_fill(self, account: Account, order: Order) -> None:
        if not order.is_open or not self.clock.is_open:
            return
        price = self.prices.get(order.symbol)
        if price is not None and self._triggered(order, price):
            self._fill(account, order, order.remaining, price)

    def _triggered(self, order: Order, price: Decimal) -> bool:
        buy = order.side == "buy"
        limit_ok = order.limit_price is None or (
            price <= order.limit_price if buy else price >= order.limit_price)
        stop_ok = order.stop_price is None or (
            price >= order.stop_price if buy else price <= order.stop_price)
        if order.type == "trailing_stop":
            if order.hwm is None:
                order.hwm = price
            order.hwm = min(order.hwm, price) if buy else max(order.hwm, price)
            offset = order.trail_price if order.trail_price is not None else (
                order.hwm * order.trail_percent / 100)
            return price >= order.hwm + offset if buy else price <= order.hwm - offset
        return limit_ok and stop_ok

    def _fill(self, account: Account, order: Order, qty: Decimal, price: Decimal) -> None:
        now = self.clock.now()
        self._move_position(account, order.symbol, order.direction * qty, price)
        account.cash -= order.direction * qty * price * multiplier(order.symbol)
        paid_before = (order.filled_avg_price or Decimal(0)) * order.filled_qty
        order.filled_qty += qty
        order.filled_avg_price = ((paid_before + qty * price) / order.filled_qty).quantize(
            _PRICE_STEP).normalize()
        order.status = "filled" if order.remaining == 0 else "partially_filled"
        order.updated_at = now
        if order.status == "filled":
            order.filled_at = now
        self._add_fill_activity(account, order, qty, price, now)

    def _add_fill_activity(self, account, order, qty, price, at) -> None:
        account.activities.append(Activity(
            id=_activity_id(at), at=at, seq=next(self._seq), activity_type="FILL", body={
                "activity_type": "FILL",
                "transaction_time": iso(at),
                "type": "fill" if order.remaining == 0 else "partial_fill",
                "price": fmt(price),
                "qty": fmt(qty),
                "side": order.side,
                "symbol": order.symbol,
                "leaves_qty": fmt(order.remaining),
                "order_id": str(order.id),
                "cum_qty": fmt(order.filled_qty),
                "order_status": order.status,
            }))

    def _move_position(self, account: Account, symbol: str, delta: Decimal,
                       price: Decimal) -> None:
        position = account.positions.get(symbol)
        old = position.qty if position else Decimal(0)
        new = old + delta
        if new == 0:
            account.positions.pop(symbol, None)
            return
        if old == 0 or (old > 0) == (delta > 0):
            cost = abs(old) * (position.avg_entry_price if position else 0) + abs(delta) * price
            avg = (cost / abs(new)).quantize(_PRICE_STEP).normalize()
        elif (old > 0) != (new > 0):
            avg = price
        else:
            avg = position.avg_entry_price
        account.positions[symbol] = Position(symbol, new, avg)

    def fill_order(self, order_id, qty: Decimal | None = None,
                   price: Decimal | None = None) -> Order:
        """Operator fill, market open or not: qty defaults to the rest, price to the last price."""
        with self.lock:
            account, order = self._find_order(order_id)
            if not order.is_open:
                raise unprocessable(f"order is already in \"{order.status}\" state")
            qty = order.remaining if qty is None else _decimal(qty, "qty")
            if qty <= 0 or qty > order.remaining:
                raise unprocessable(
                    f"fill qty must be in (0, {fmt(order.remaining)}], got {fmt(qty)}")
            price = self.prices.get(order.symbol) if price is None else _decimal(price, "price")
            if price is None:
                raise unprocessable(f"no price for {order.symbol}; give one")
            self._fill(account, order, qty, price)
            return order

    def _find_order(self, order_id) -> tuple[Account, Order]:
        for account in self.accounts.values():
            for order in account.orders:
                if str(order.id) == str(order_id):
                    return account, order
        raise not_found("order not found")

    def get_order(self, account_name: str, order_id) -> Order:
        with self.lock:
            for order in self.account(account_name).orders:
                if str(order.id) == str(order_id):
                    return order
        raise not_found("order not found")

    def get_order_by_client_id(self, account_name: str, client_order_id: str) -> Order:
        with self.lock:
            for order in self.account(account_name).orders:
                if order.client_order_id == client_order_id:
                    return order
        raise not_found("order not found")

    def list_orders(self, account_name: str, status: str = "open", limit: int = 50,
                    after: datetime | None = None, until: datetime | None = None,
                    direction: str = "desc", symbols: list[str] | None = None,
                    side: str | None = None) -> list[Order]:
        if status not in ("open", "closed", "all"):
            raise unprocessable(f"invalid status: {status!r}")
        if direction not in ("asc", "desc"):
            raise unprocessable(f"invalid direction: {direction!r}")
        with self.lock:
            orders = [
                (o.created_at, i, o) for i, o in enumerate(self.account(account_name).orders)
                if (status == "all" or o.is_open == (status == "open"))
                and (after is None or o.created_at > after)
                and (until is None or o.created_at < until)
                and (not symbols or o.symbol in symbols)
                and (side is None or o.side == side)
            ]
        orders.sort(key=lambda t: t[:2], reverse=direction == "desc")
        return [o for _, _, o in orders[:max(1, min(limit, 500))]]

    def cancel_order(self, account_name: str, order_id) -> Order:
        with self.lock:
            order = self.get_order(account_name, order_id)
            if not order.is_open:
                raise unprocessable(f"order is already in \"{order.status}\" state")
            order.status = "canceled"
            order.canceled_at = order.updated_at = self.clock.now()
            return order

    def cancel_all_orders(self, account_name: str) -> list[Order]:
        with self.lock:
            return [self.cancel_order(account_name, o.id)
                    for o in self.account(account_name).orders if o.is_open]

    # ---------------------------------------------------------- positions

    def list_positions(self, account_name: str) -> list[Position]:
        with self.lock:
            return sorted(self.account(account_name).positions.values(), key=lambda p: p.symbol)

    def get_position(self, account_name: str, symbol_or_asset_id: str) -> Position:
        with self.lock:
            for position in self.account(account_name).positions.values():
                if symbol_or_asset_id in (position.symbol, str(position.asset_id)):
                    return position
        raise not_found("position does not exist")

    def close_position(self, account_name: str, symbol_or_asset_id: str,
                       qty: Decimal | None = None, percentage: Decimal | None = None) -> Order:
        """DELETE /v2/positions/{symbol}: a reducing market order that cannot pass flat.

        No position is a 404; more than is held (less what open reducing orders hold)
        is the same 403 as any reducing order; qty and percentage together are a 422.
        """
        with self.lock:
            position = self.get_position(account_name, symbol_or_asset_id)
            amount = self._closing_qty(position, qty, percentage)
            return self.submit_order(account_name, position.symbol, amount,
                                     "sell" if position.qty > 0 else "buy")

    def _closing_qty(self, position: Position, qty, percentage) -> Decimal:
        if qty is not None and percentage is not None:
            raise unprocessable("only one of qty or percentage may be given")
        if qty is not None:
            amount = _decimal(qty, "qty")
        elif percentage is not None:
            pct = _decimal(percentage, "percentage")
            if not 0 < pct <= 100:
                raise unprocessable("percentage must be in (0, 100]")
            amount = abs(position.qty) * pct / 100
            step = Decimal(1) if occ.is_option(position.symbol) else Decimal("0.000000001")
            amount = amount.quantize(step, rounding=ROUND_DOWN)
        else:
            amount = abs(position.qty)
        if amount <= 0:
            raise unprocessable("qty to close must be > 0")
        return amount

    def set_position(self, account_name: str, symbol: str, qty: Decimal,
                     avg_entry_price: Decimal) -> None:
        """Put a position in place without an order or a fill (scenario set-up, repairs)."""
        problem = occ.problem(symbol)
        if problem:
            raise unprocessable(problem)
        qty, avg = _decimal(qty, "qty"), _decimal(avg_entry_price, "avg_entry_price")
        if occ.is_option(symbol) and qty != qty.to_integral_value():
            raise unprocessable(f"option position {symbol} must be whole contracts")
        with self.lock:
            account = self.account(account_name)
            if qty == 0:
                account.positions.pop(symbol, None)
            else:
                account.positions[symbol] = Position(symbol, qty, avg)

    def close_by_hand(self, account_name: str, symbol: str, qty: Decimal | None = None,
                      price: Decimal | None = None) -> Order:
        """What an operator's click in Alpaca's dashboard leaves behind: a filled market order."""
        with self.lock:
            account = self.account(account_name)
            position = self.get_position(account_name, symbol)
            amount = self._closing_qty(position, qty, None)
            side = "sell" if position.qty > 0 else "buy"
            price = self.prices.get(symbol) if price is None else _decimal(price, "price")
            if price is None:
                raise unprocessable(f"no price for {symbol}; give one")
            order = self._place(account, symbol, amount, side, "market", "day", None, None,
                                None, None, None, None, "simple", False)
            self._fill(account, order, amount, price)
            return order

    def add_fill_history(self, account_name: str, symbol: str, side: str, qty: Decimal,
                         price: Decimal, at: datetime) -> Order:
        """A past fill for reconcilers to find: a filled order and its FILL, positions untouched."""
        problem = occ.problem(symbol)
        if problem:
            raise unprocessable(problem)
        if side not in ("buy", "sell"):
            raise unprocessable(f"invalid side: {side!r}")
        qty, price = _decimal(qty, "qty"), _decimal(price, "price")
        with self.lock:
            account = self.account(account_name)
            order = Order(
                id=uuid.uuid4(), client_order_id=str(uuid.uuid4()), symbol=symbol, side=side,
                type="market", qty=qty, time_in_force="day", created_at=at, updated_at=at,
                status="filled", filled_qty=qty, filled_avg_price=price, filled_at=at)
            account.orders.append(order)
            self._add_fill_activity(account, order, qty, price, at)
            account.activities.sort(key=lambda a: (a.at, a.seq))
            return order

    # --------------------------------------------------------- activities

    def add_activity(self, account_name: str, activity_type: str, symbol: str | None = None,
                     qty: Decimal | None = None, net_amount: Decimal = Decimal(0),
                     description: str = "", on: date | None = None) -> Activity:
        """Non-trade activity (OPEXP, OPEXC, OPASN, ...); it records, it does not move positions."""
        if not activity_type.isalpha() or not activity_type.isupper() or activity_type == "FILL":
            raise unprocessable(f"invalid non-trade activity_type: {activity_type!r}")
        with self.lock:
            account = self.account(account_name)
            now = self.clock.now()
            at = now if on is None else utc(datetime.combine(on, time(), NEW_YORK))
            on = on or now.astimezone(NEW_YORK).date()
            body = {
                "activity_type": activity_type,
                "date": on.isoformat(),
                "net_amount": fmt(_decimal(net_amount, "net_amount")),
                "symbol": symbol,
                "qty": None if qty is None else fmt(_decimal(qty, "qty")),
                "description": description,
                "status": "executed",
            }
            activity = Activity(id=_activity_id(at), at=at, seq=next(self._seq),
                                activity_type=activity_type, body=body)
            account.activities.append(activity)
            account.activities.sort(key=lambda a: (a.at, a.seq))
            return activity

    def list_activities(self, account_name: str, activity_types: list[str] | None = None,
                        after: datetime | None = None, until: datetime | None = None,
                        direction: str = "desc", page_size: int = 100,
                        page_token: str | None = None) -> list[dict]:
        if direction not in ("asc", "desc"):
            raise unprocessable(f"invalid direction: {direction!r}")
        with self.lock:
            items = [
                a for a in self.account(account_name).activities
                if (not activity_types or a.activity_type in activity_types)
                and (after is None or a.at > after)
                and (until is None or a.at < until)
            ]
        items.sort(key=lambda a: (a.at, a.seq), reverse=direction == "desc")
        if page_token:
            ids = [a.id for a in items]
            if page_token not in ids:
                raise unprocessable(f"invalid page_token: {page_token!r}")
            items = items[ids.index(page_token) + 1:]
        return [{"id": a.id, **a.body} for a in items[:max(1, min(page_size, 100))]]

    # ------------------------------------------------------------ reports

    def position_json(self, account_name: str, position: Position) -> dict:
        with self.lock:
            return position_json(position, self.prices.get(position.symbol),
                                 self.qty_available(account_name, position.symbol))

    def account_json(self, account_name: str) -> dict:
        with self.lock:
            return account_json(self.account(account_name), self.prices)

    def snapshot(self) -> dict:
        """Everything an operator wants to eyeball, without secrets."""
        with self.lock:
            return {
                "clock": self.clock_json(),
                "frozen": self.clock.frozen,
                "prices": {s: fmt(p) for s, p in sorted(self.prices.items())},
                "latency": self.latency,
                "faults": [vars(f) for f in self.faults],
                "accounts": [
                    {
                        "name": a.name,
                        "account": self.account_json(a.name),
                        "positions": [self.position_json(a.name, p)
                                      for p in self.list_positions(a.name)],
                        "orders": [order_json(o) for o in a.orders],
                    }
                    for a in self.accounts.values()
                ],
            }


def _insufficient(requested: Decimal, available: Decimal) -> SimError:
    return forbidden(f"insufficient qty available for order "
                     f"(requested: {fmt(requested)}, available: {fmt(max(available, Decimal(0)))})")
