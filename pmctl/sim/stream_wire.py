"""Alpaca's websocket messages in the shapes and encodings the streams use.

Market data (docs "WebSocket Stream"): every server message is an array of objects
with a ``T`` type; control messages come alone, data points may come several to an
array. JSON by default, msgpack when the client asks with ``Content-Type:
application/msgpack`` (alpaca-py always does; the option stream knows nothing else);
msgpack carries ``t`` as its timestamp extension, which alpaca-py reads with
``to_datetime()``. The trading stream (docs "Websocket Streaming") sends one object
per message, ``{"stream": ..., "data": ...}``, in binary frames on the paper host,
JSON unless the client asked for msgpack.
"""

import json
from datetime import datetime

import msgpack

from pmctl.sim.clock import iso
from pmctl.sim.wire import to_json

MSGPACK = "application/msgpack"

DATA_ERRORS = {
    400: "invalid syntax",
    401: "not authenticated",
    402: "auth failed",
    403: "already authenticated",
    404: "auth timeout",
    405: "symbol limit exceeded",
    406: "connection limit exceeded",
    407: "slow client",
    409: "insufficient subscription",
    410: "invalid subscribe action for this feed",
    412: "option messages are only available in MsgPack format",
    413: "star subscription is not allowed for option quotes",
    500: "internal error",
}


def encoding_of(content_type: str | None) -> str:
    return "msgpack" if (content_type or "").split(";")[0].strip().lower() == MSGPACK else "json"


def encode(frame, encoding: str, binary: bool) -> bytes | str:
    """msgpack is always binary; JSON goes in a binary frame where Alpaca sends one (the trading stream)."""
    if encoding == "msgpack":
        return msgpack.packb(frame, datetime=True)
    text = to_json(frame)
    return text.encode() if binary else text


def decode(raw: bytes | str):
    """A client's message: JSON text, or msgpack (or JSON) bytes; ValueError when it is neither."""
    if isinstance(raw, str):
        return json.loads(raw)
    try:
        return msgpack.unpackb(raw, timestamp=3)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        return json.loads(raw)


def success(message: str) -> list[dict]:
    return [{"T": "success", "msg": message}]


def error(code: int) -> list[dict]:
    return [{"T": "error", "code": code, "msg": DATA_ERRORS[code]}]


def point(kind: str, symbol: str, body: dict) -> dict:
    """A data point: ``kind`` "t" (trade) or "q" (quote), then the body market data sends for it."""
    return {"T": kind, "S": symbol, **body}


def trade_update(event: str, order: dict, at: datetime, fill: dict | None = None) -> dict:
    """``fill``: execution_id, price and qty of this execution and position_qty after it (Alpaca-API#103)."""
    return {"stream": "trade_updates",
            "data": {"event": event, "order": order, "timestamp": iso(at), **(fill or {})}}


def authorization(status: str, action: str) -> dict:
    return {"stream": "authorization", "data": {"status": status, "action": action}}


def listening(streams) -> dict:
    return {"stream": "listening", "data": {"streams": list(streams)}}
