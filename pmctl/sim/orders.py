"""Placing, finding, listing and canceling orders, with the refusals Alpaca gives for each.

A reducing order never passes flat: what open orders on the same side already hold is
not available to another, which is how Alpaca answers a second close of the same lot.
An oco group holds its quantity once. Options take market, limit, stop and stop_limit,
``day`` or ``gtc`` (Alpaca's changelog, 2026-08-27 and 2026-08-28).
"""

import uuid
from datetime import datetime
from decimal import Decimal

from pmctl import occ
from pmctl.sim.models import Account, Order, SimError, forbidden, fmt, not_found, number, unprocessable
from pmctl.sim.ticks import price_problem

ORDER_TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")
TIMES_IN_FORCE = ("day", "gtc", "opg", "cls", "ioc", "fok")
OPTION_TIMES_IN_FORCE = ("day", "gtc")


def insufficient(requested: Decimal, available: Decimal) -> SimError:
    return forbidden(f"insufficient qty available for order "
                     f"(requested: {fmt(requested)}, available: {fmt(max(available, Decimal(0)))})")


class Orders:
    """Mixed into ``SimState``: shares its lock, accounts, prices and order matching."""

    def submit_order(self, account_name: str, symbol: str, qty: Decimal, side: str,
                     type: str = "market", time_in_force: str = "day", *,
                     limit_price: Decimal | None = None, stop_price: Decimal | None = None,
                     trail_price: Decimal | None = None, trail_percent: Decimal | None = None,
                     client_order_id: str | None = None, position_intent: str | None = None,
                     order_class: str | None = None, extended_hours: bool = False,
                     take_profit: dict | None = None, stop_loss: dict | None = None) -> Order:
        """``order_class="oco"`` (stocks): ``take_profit={"limit_price"}``, ``stop_loss={"stop_price", "limit_price"?}``;
        the answer is the take-profit with its stop leg in ``legs``. ``order_class="bracket"`` (stocks): the same
        two, and the answer is the entry with both exits in ``legs``."""
        with self.lock:
            account = self.account(account_name)
            if (order_class or "simple") == "oco" and not occ.is_option(symbol or ""):
                order = self._place_oco(account, symbol, qty, side, type, time_in_force, limit_price,
                                        take_profit, stop_loss, client_order_id, position_intent,
                                        extended_hours)
            elif order_class == "bracket" and not occ.is_option(symbol or ""):
                order = self._place_bracket(account, symbol, qty, side, type, time_in_force, limit_price,
                                            take_profit, stop_loss, client_order_id, position_intent,
                                            extended_hours)
            else:
                order = self._place(
                    account, symbol, qty, side, type, time_in_force, limit_price, stop_price,
                    trail_price, trail_percent, client_order_id, position_intent,
                    order_class or "simple", extended_hours,
                )
            self._announce(account, order, order.status)
            for member in order.group:
                self._try_fill(account, member)
            return order

    def _place(self, account, symbol, qty, side, type, time_in_force, limit_price, stop_price,
               trail_price, trail_percent, client_order_id, position_intent, order_class,
               extended_hours, replacing: Order | None = None) -> Order:
        """Validate and book a new order; ``replacing`` is the order a replacement frees the quantity of."""
        if client_order_id is not None and any(
                o.client_order_id == client_order_id for o in account.orders):
            raise SimError(422, 40010001, "client_order_id must be unique")
        problem = occ.problem(symbol or "")
        if problem:
            raise unprocessable(problem)
        if occ.is_option(symbol) and order_class in ("bracket", "oco", "oto"):
            raise unprocessable(f"{order_class} orders are not supported for options")
        if side not in ("buy", "sell"):
            raise unprocessable(f"invalid side: {side!r}")
        if type not in ORDER_TYPES:
            raise unprocessable(f"invalid order type: {type!r}")
        if time_in_force not in TIMES_IN_FORCE:
            raise unprocessable(f"invalid time_in_force: {time_in_force!r}")
        qty = number(qty, "qty")
        if qty <= 0:
            raise unprocessable("qty must be > 0")
        prices = {
            name: None if value is None else number(value, name)
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
        self._check_prices(symbol, prices["limit_price"], prices["stop_price"])

        position = account.positions.get(symbol)
        held_qty = position.qty if position else Decimal(0)
        if occ.is_option(symbol):
            position_intent = self._check_option_order(
                account, symbol, qty, side, type, time_in_force, position_intent, order_class,
                held_qty, replacing)
        else:
            if order_class not in ("simple", "oco", "bracket"):
                raise unprocessable(f"order_class {order_class} is not supported by the simulator")
            reducing = (side == "sell" and held_qty > 0) or (side == "buy" and held_qty < 0)
            if reducing:
                available = abs(held_qty) - self._held(account, symbol, side, replacing)
                if qty > available:
                    raise insufficient(qty, available)

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

    def _check_prices(self, symbol: str, limit_price: Decimal | None,
                      stop_price: Decimal | None) -> None:
        if limit_price is not None and limit_price <= 0:
            raise SimError(422, 40010001, "limit price must be > 0")
        if stop_price is not None and stop_price <= 0:
            raise SimError(422, 40010001, "stop price must be > 0")
        for field, price in (("limit_price", limit_price), ("stop_price", stop_price)):
            problem = None if price is None else price_problem(self.ticks, symbol, field, price)
            if problem:
                raise unprocessable(problem)

    def _check_option_order(self, account, symbol, qty, side, type, time_in_force,
                            position_intent, order_class, held_qty, replacing) -> str:
        if qty != qty.to_integral_value():
            raise unprocessable("qty must be a whole number of contracts for options")
        if time_in_force not in OPTION_TIMES_IN_FORCE:
            raise unprocessable("options orders only support time_in_force day or gtc")
        if order_class != "simple":
            raise unprocessable(f"order_class {order_class} is not supported by the simulator")
        if type == "trailing_stop":
            raise unprocessable("trailing_stop orders are not supported for options")
        if side == "buy":
            inferred = "buy_to_close" if held_qty < 0 else "buy_to_open"
        else:
            inferred = "sell_to_close" if held_qty > 0 else "sell_to_open"
        if position_intent and position_intent != inferred:
            raise unprocessable(
                f"position intent mismatch, inferred: {inferred}, specified: {position_intent}")
        if inferred == "sell_to_open":
            raise forbidden("account not eligible to trade uncovered option contracts")
        if inferred.endswith("_close"):
            available = abs(held_qty) - self._held(account, symbol, side, replacing)
            if qty > available:
                raise insufficient(qty, available)
        return inferred

    def _held(self, account: Account, symbol: str, side: str,
              excluding: Order | None = None) -> Decimal:
        """What open orders on ``side`` hold: an oco group, or a bracket's two exits, once (its first open order on
        the side), ``excluding``'s group not at all; a leg whose parent is still open holds nothing yet."""
        freed = excluding.group if excluding is not None else []
        counted: set[int] = set()
        held = Decimal(0)
        for o in account.orders:
            head = id(o.parent or o)
            if (o.is_open and o.symbol == symbol and o.side == side and head not in counted
                    and not any(o is f for f in freed)
                    and not (o.parent is not None and o.parent.is_open)):
                counted.add(head)
                held += o.remaining
        return held

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
                    side: str | None = None, nested: bool = False) -> list[Order]:
        """``nested``: an oco's stop leg is left out of the list (it travels in its take-profit's ``legs``)."""
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
                and not (nested and o.parent is not None)
            ]
        orders.sort(key=lambda t: t[:2], reverse=direction == "desc")
        return [o for _, _, o in orders[:max(1, min(limit, 500))]]

    def cancel_order(self, account_name: str, order_id) -> Order:
        """Canceling either order of an oco group cancels both (Alpaca: "any remaining open order in the group")."""
        with self.lock:
            account = self.account(account_name)
            order = self.get_order(account_name, order_id)
            if not order.is_open:
                raise unprocessable(f"order is already in \"{order.status}\" state")
            self._cancel(account, order)
            self._cancel_group(account, order)
            return order

    def _cancel(self, account: Account, order: Order) -> None:
        order.status = "canceled"
        order.canceled_at = order.updated_at = self.clock.now()
        self._announce(account, order, "canceled")

    def _cancel_group(self, account: Account, order: Order) -> None:
        for other in order.group:
            if other is not order and other.is_open:
                self._cancel(account, other)

    def cancel_all_orders(self, account_name: str) -> list[Order]:
        with self.lock:
            account = self.account(account_name)
            canceled = []
            for order in list(account.orders):
                if order.is_open:
                    self._cancel(account, order)
                    canceled.append(order)
            return canceled
