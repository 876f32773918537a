"""PATCH /v2/orders/{id}: replace an open order with a new one, as Alpaca does.

The old order ends ``replaced`` and names its successor in ``replaced_by``; the new
order has a new id, names the old in ``replaces`` and is checked like any new order,
with the old order's quantity free for it. Its ``qty`` is the chain's total: what the
old order already filled counts toward it (Alpaca refuses a qty not above the filled
qty), and the new order carries those fills, as FIX's cancel/replace does.
"""

from decimal import Decimal

from pmctl.sim.models import Order, SimError, forbidden, number, unprocessable

_NOT_SENT = ("accepted", "pending_new")


def _refusal(message: str) -> SimError:
    return SimError(422, 40010001, f"unable to replace order, {message}")


class Replacing:
    """Mixed into ``SimState``: shares its lock, accounts, order placement and matching."""

    def replace_order(self, account_name: str, order_id, *, qty: Decimal | None = None,
                      time_in_force: str | None = None, limit_price: Decimal | None = None,
                      stop_price: Decimal | None = None, trail: Decimal | None = None,
                      client_order_id: str | None = None) -> Order:
        """The new order; refusals in Alpaca's words where they are known (see README)."""
        with self.lock:
            account = self.account(account_name)
            old = self.get_order(account_name, order_id)
            if old.status in _NOT_SENT:
                raise _refusal("order isn't sent to exchange yet")
            if not old.is_open:
                raise _refusal("order is not open")
            changes = _changes(old, qty, time_in_force, limit_price, stop_price, trail,
                               client_order_id)
            if not changes:
                raise forbidden("order parameters are not changed")
            new_qty = changes.get("qty", old.qty)
            if new_qty <= old.filled_qty:
                raise _refusal("qty must be > filled_qty")
            if len(old.group) > 1:
                self._check_leg_change(old, changes)
            trails = _trails(old, changes.get("trail"))
            new = self._place(
                account, old.symbol, new_qty - old.filled_qty, old.side, old.type,
                changes.get("time_in_force", old.time_in_force),
                changes.get("limit_price", old.limit_price),
                changes.get("stop_price", old.stop_price), *trails,
                client_order_id, old.position_intent, old.order_class,
                old.extended_hours, replacing=old)
            new.qty, new.filled_qty, new.filled_avg_price = (
                new_qty, old.filled_qty, old.filled_avg_price)
            new.hwm, new.elected, new.replaces = old.hwm, old.elected, old.id
            _take_place_in_group(old, new)
            now = self.clock.now()
            old.status, old.replaced_by, old.replaced_at, old.updated_at = (
                "replaced", new.id, now, now)
            self._announce(account, old, "replaced")
            if new.status != "held":
                self._announce(account, new, new.status)
            self._try_fill(account, new)
            return new

    def _check_leg_change(self, old: Order, changes: dict) -> None:
        if "qty" in changes:
            raise unprocessable("qty cannot be replaced on an oco order")
        head = old.parent or old
        target = changes.get("limit_price", head.limit_price) if old is head else head.limit_price
        for leg in head.legs:
            stop = changes.get("stop_price", leg.stop_price) if leg is old else leg.stop_price
            self._check_stop_base(old.symbol, old.side, stop, target)


def _take_place_in_group(old: Order, new: Order) -> None:
    """The new order stands where the old stood in its oco group: the take-profit keeps its legs, a leg its parent."""
    if old.parent is not None:
        new.parent, new.status = old.parent, old.status
        old.parent.legs = [new if leg is old else leg for leg in old.parent.legs]
    for leg in old.legs:
        leg.parent = new
    new.legs, old.legs = old.legs, []


def _changes(old: Order, qty, time_in_force, limit_price, stop_price, trail,
             client_order_id) -> dict:
    """The fields that differ from the old order's; a field the order type has no use for is refused."""
    given = {
        "qty": None if qty is None else number(qty, "qty"),
        "time_in_force": time_in_force,
        "limit_price": None if limit_price is None else number(limit_price, "limit_price"),
        "stop_price": None if stop_price is None else number(stop_price, "stop_price"),
        "trail": None if trail is None else number(trail, "trail"),
        "client_order_id": client_order_id,
    }
    uses = {"limit_price": old.type in ("limit", "stop_limit"),
            "stop_price": old.type in ("stop", "stop_limit"),
            "trail": old.type == "trailing_stop"}
    for field, used in uses.items():
        if given[field] is not None and not used:
            raise unprocessable(f"{field} cannot be replaced on a {old.type} order")
    current = {
        "qty": old.qty, "time_in_force": old.time_in_force, "limit_price": old.limit_price,
        "stop_price": old.stop_price, "client_order_id": old.client_order_id,
        "trail": old.trail_price if old.trail_price is not None else old.trail_percent,
    }
    return {field: value for field, value in given.items()
            if value is not None and value != current[field]}


def _trails(old: Order, trail: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """(trail_price, trail_percent): a new trail keeps the old one's kind (Alpaca cannot switch it)."""
    if trail is None:
        return old.trail_price, old.trail_percent
    return (trail, None) if old.trail_price is not None else (None, trail)
