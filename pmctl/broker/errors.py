"""Broker failures as typed errors, each keeping the broker's own words.

The adapter raises these; the core's apply step decides what each means for a
position (``PositionNotFound`` and an intent mismatch inferred ``…_to_open`` mean
"already flat: reconcile", never "try again"); anything that reaches the CLI
ends the run with exit 1.
"""

import json
import re

from pmctl.errors import BrokerError


class BrokerUnavailable(BrokerError):
    """No usable answer: a timeout, a dropped connection, 429 or 5xx after the retries allowed."""


class Unauthorized(BrokerError):
    """The broker refused the keys."""


class BrokerRejected(BrokerError):
    """The broker answered and said no. ``status``, ``code`` and ``broker_message`` are Alpaca's."""

    def __init__(self, message: str, status: int | None = None, code: int | None = None, broker_message: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code
        self.broker_message = broker_message


class PositionNotFound(BrokerRejected):
    """The broker holds no position in that symbol."""


class OrderNotFound(BrokerRejected):
    """No order with that id at the broker."""


class OrderNotCancelable(BrokerRejected):
    """The order already filled, was cancelled, or is otherwise final."""


class InsufficientQuantity(BrokerRejected):
    """Less is available than the order asks for: other open orders hold the rest."""


class MarketClosed(BrokerRejected):
    """The broker will not take this order outside market hours."""


class IntentMismatch(BrokerRejected):
    """The broker inferred a different position intent than the order gave.

    ``inferred`` ending in ``_to_open`` means the position to close is not there.
    """

    @property
    def inferred(self) -> str | None:
        match = re.search(r"inferred:\s*([a-z_]+)", self.broker_message)
        return match.group(1) if match else None

    @property
    def position_is_gone(self) -> bool:
        return (self.inferred or "").endswith("_to_open")


class DuplicateClientOrderId(BrokerRejected):
    """An order with this client order id already exists."""


class OrderOutcomeUnknown(BrokerError):
    """An order was sent and no clear answer came back: it may or may not exist.

    Never resend on this: look the order up by its client order id first.
    """


def classify(status: int | None, body: str, action: str) -> BrokerError:
    """The typed error for an HTTP error answer to ``action`` (e.g. "close GOOGL260220C00340000")."""
    code, message = _parse_body(body)
    text = f"broker refused to {action}: {message or f'HTTP {status}'}"
    if status == 401 or code == 40110000:
        return Unauthorized(f"broker refused the API keys ({status}): {message or 'unauthorized'}")
    if status == 429 or (status is not None and status >= 500):
        return BrokerUnavailable(f"broker unavailable ({status}) while trying to {action}: {message}".rstrip(": "))
    lowered = message.lower()
    kind = BrokerRejected
    if "position intent mismatch" in lowered:
        kind = IntentMismatch
    elif "insufficient qty" in lowered or "insufficient quantity" in lowered:
        kind = InsufficientQuantity
    elif "client_order_id must be unique" in lowered:
        kind = DuplicateClientOrderId
    elif "market hours" in lowered or "market is closed" in lowered:
        kind = MarketClosed
    elif status == 404 and "position" in lowered:
        kind = PositionNotFound
    elif status == 404:
        kind = OrderNotFound
    elif status == 422 and ("not cancelable" in lowered or "already in" in lowered):
        kind = OrderNotCancelable
    return kind(text, status=status, code=code, broker_message=message)


def _parse_body(body: str) -> tuple[int | None, str]:
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return None, (body or "").strip()[:200]
    if not isinstance(data, dict):
        return None, str(data)[:200]
    code = data.get("code")
    return (code if isinstance(code, int) else None), str(data.get("message", "")).strip()
