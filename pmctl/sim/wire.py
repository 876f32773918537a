"""Reading Alpaca-style request parameters and writing Alpaca-shaped answers.

A malformed parameter is the same 422 ``{"code", "message"}`` body Alpaca sends, so a
client sees one kind of refusal whichever route it called.
"""

import json
from datetime import date, datetime
from decimal import Decimal

from werkzeug.wrappers import Request, Response

from pmctl.sim.clock import iso, parse_time
from pmctl.sim.models import SimError, unprocessable


def _json_default(value):
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def to_json(body) -> str:
    """JSON as Alpaca writes it; datetimes as RFC 3339 UTC text."""
    return json.dumps(body, default=_json_default)


def respond(body, status: int = 200) -> Response:
    return Response(to_json(body), status=status, mimetype="application/json")


def refuse(status: int, code: int, message: str) -> Response:
    return respond({"code": code, "message": message}, status)


def flag(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise unprocessable(f"invalid {name}: {value!r}")


def integer(value, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise unprocessable(f"invalid {name}: {value!r}") from None


def moment(value: str | None, name: str) -> datetime | None:
    """An RFC 3339 time, or a bare date meaning its midnight UTC."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return parse_time(value + "T00:00:00Z")
        return parse_time(value)
    except ValueError:
        raise unprocessable(f"invalid {name}: {value!r}") from None


def day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise unprocessable(f"invalid {name}: {value!r}") from None


def symbol_list(value: str | None) -> list[str]:
    return [s.strip() for s in (value or "").split(",") if s.strip()]


def json_body(request: Request) -> dict:
    raw = request.get_data()
    if not raw:
        return {}
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise SimError(400, 40010000, "request body format is invalid") from None
    if not isinstance(body, dict):
        raise SimError(400, 40010000, "request body format is invalid")
    return body
