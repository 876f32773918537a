"""Hand-written JSON scenarios (format in README.md) turned into a ready SimState.

Operators write these files for rehearsals, so every problem is reported as one line
that names where in the file it is.
"""

import json
import uuid
from datetime import date, datetime, time
from decimal import Decimal
from importlib import resources
from pathlib import Path

from pmctl.sim.clock import Calendar, Session, SimClock, parse_time
from pmctl.sim.models import SimError
from pmctl import occ
from pmctl.core.numbers import finite_decimal
from pmctl.sim.state import SimState

_TOP_KEYS = {"accounts", "prices", "quotes", "option_ticks", "clock", "calendar", "description"}
_ACCOUNT_KEYS = {"name", "api_key", "secret_key", "account_number", "account_id", "cash",
                 "positions", "open_orders", "activities"}
_CLOCK_KEYS = {"timestamp", "is_open", "next_open", "next_close", "frozen"}
_QUOTE_KEYS = {"bid", "ask", "bid_size", "ask_size", "timestamp", "age_seconds"}
_TICK_KEYS = {"penny_all_prices", "outside_program"}
_ORDER_KEYS = {"symbol", "qty", "side", "type", "time_in_force", "limit_price", "stop_price",
               "trail_price", "trail_percent", "client_order_id", "position_intent"}


class ScenarioError(ValueError):
    """One line naming the problem and where it is."""


def builtin_names() -> list[str]:
    folder = resources.files("pmctl.sim") / "scenarios"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir()
                  if p.name.endswith(".json"))


def read_scenario(source: str | Path) -> dict:
    """A file path, or the name of a built-in scenario such as 'incident'."""
    path = Path(source)
    if path.is_file():
        text, label = path.read_text(encoding="utf-8"), str(path)
    elif str(source) in builtin_names():
        resource = resources.files("pmctl.sim") / "scenarios" / f"{source}.json"
        text, label = resource.read_text(encoding="utf-8"), f"built-in scenario {source}"
    else:
        raise ScenarioError(f"no scenario file or built-in named {str(source)!r} "
                            f"(built-ins: {', '.join(builtin_names())})")
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as e:
        raise ScenarioError(f"{label}: bad JSON at line {e.lineno} column {e.colno}: {e.msg}") \
            from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{label}: the top level must be a JSON object")
    return data


def load_scenario(source: str | Path | dict) -> SimState:
    data = source if isinstance(source, dict) else read_scenario(source)
    return build_state(data)


def build_state(data: dict) -> SimState:
    _keys(data, _TOP_KEYS, "scenario")
    state = SimState(_clock(data))
    accounts = data.get("accounts")
    if not isinstance(accounts, list) or not accounts:
        raise ScenarioError("accounts: need a non-empty list of accounts")
    for i, raw in enumerate(accounts):
        _account(state, raw, f"accounts[{i}]")
    prices = data.get("prices", {})
    if not isinstance(prices, dict):
        raise ScenarioError("prices: need an object of SYMBOL: price")
    for symbol, price in prices.items():
        _guard(f"prices.{symbol}", state.set_price, _symbol(symbol, "prices"),
               _number(price, f"prices.{symbol}"))
    _quotes(state, data.get("quotes", {}))
    _option_ticks(state, data.get("option_ticks", {}))
    for i, raw in enumerate(accounts):
        for j, order in enumerate(raw.get("open_orders", [])):
            _open_order(state, raw["name"], order, f"accounts[{i}].open_orders[{j}]")
    return state


def _quotes(state: SimState, quotes) -> None:
    if not isinstance(quotes, dict):
        raise ScenarioError("quotes: need an object of SYMBOL: {bid, ask, ...}")
    for symbol, raw in quotes.items():
        where = f"quotes.{symbol}"
        _keys(raw, _QUOTE_KEYS, where)
        if "bid" not in raw or "ask" not in raw:
            raise ScenarioError(f"{where}: need bid and ask")
        numbers = {k: _number(raw[k], f"{where}.{k}") for k in
                   ("bid", "ask", "bid_size", "ask_size", "age_seconds") if k in raw}
        at = _time(raw["timestamp"], f"{where}.timestamp") if "timestamp" in raw else None
        _guard(where, state.set_quote, _symbol(symbol, "quotes"), at=at, **numbers)


def _option_ticks(state: SimState, raw) -> None:
    _keys(raw, _TICK_KEYS, "option_ticks")
    lists = {}
    for key in _TICK_KEYS & set(raw):
        roots = raw[key]
        if not isinstance(roots, list) or not all(isinstance(r, str) and r for r in roots):
            raise ScenarioError(f"option_ticks.{key}: need a list of option roots")
        lists[key] = roots
    state.set_option_ticks(**lists)


def _keys(raw, allowed: set[str], where: str) -> None:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: need a JSON object")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key {unknown[0]!r} "
                            f"(allowed: {', '.join(sorted(allowed))})")


def _number(value, where: str) -> Decimal:
    if not isinstance(value, (int, str, Decimal)):
        raise ScenarioError(f"{where}: not a number: {value!r}")
    try:
        return finite_decimal(value)
    except ValueError:
        raise ScenarioError(f"{where}: not a number: {value!r}") from None


def _time(value, where: str) -> datetime:
    try:
        return parse_time(str(value))
    except ValueError:
        raise ScenarioError(f"{where}: not an ISO 8601 timestamp with timezone: {value!r}") \
            from None


def _text(raw: dict, key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}.{key}: need a non-empty string")
    return value


def _symbol(symbol: str, where: str) -> str:
    problem = occ.problem(symbol)
    if problem:
        raise ScenarioError(f"{where}: {problem}")
    return symbol


def _guard(where: str, call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except (SimError, ValueError) as e:
        raise ScenarioError(f"{where}: {e}") from None


def _clock(data: dict) -> SimClock:
    calendar = Calendar(_sessions(data["calendar"]) if "calendar" in data else None)
    raw = data.get("clock", {})
    _keys(raw, _CLOCK_KEYS, "clock")
    timestamp = _time(raw["timestamp"], "clock.timestamp") if "timestamp" in raw else None
    for flag in ("is_open", "frozen"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise ScenarioError(f"clock.{flag}: need true or false")
    clock = SimClock(calendar, timestamp, raw.get("is_open"), raw.get("frozen", False))
    if "next_open" in raw:
        clock.pinned_next_open = _time(raw["next_open"], "clock.next_open")
    if "next_close" in raw:
        clock.pinned_next_close = _time(raw["next_close"], "clock.next_close")
    return clock


def _sessions(raw) -> list[Session]:
    if not isinstance(raw, list) or not raw:
        raise ScenarioError("calendar: need a non-empty list of {date, open, close}")
    sessions = []
    for i, day in enumerate(raw):
        where = f"calendar[{i}]"
        _keys(day, {"date", "open", "close"}, where)
        try:
            sessions.append(Session(date.fromisoformat(day["date"]),
                                    time.fromisoformat(day.get("open", "09:30")),
                                    time.fromisoformat(day.get("close", "16:00"))))
        except (KeyError, TypeError, ValueError):
            raise ScenarioError(f"{where}: need date YYYY-MM-DD and open/close HH:MM") from None
    return sessions


def _account(state: SimState, raw, where: str) -> None:
    _keys(raw, _ACCOUNT_KEYS, where)
    name = _text(raw, "name", where)
    kwargs = {}
    if "account_number" in raw:
        kwargs["account_number"] = _text(raw, "account_number", where)
    if "cash" in raw:
        kwargs["cash"] = _number(raw["cash"], f"{where}.cash")
    if "account_id" in raw:
        try:
            kwargs["account_id"] = uuid.UUID(_text(raw, "account_id", where))
        except ValueError:
            raise ScenarioError(f"{where}.account_id: not a UUID") from None
    _guard(where, state.add_account, name, _text(raw, "api_key", where),
           _text(raw, "secret_key", where), **kwargs)
    positions = raw.get("positions", {})
    if not isinstance(positions, dict):
        raise ScenarioError(
            f"{where}.positions: need an object of SYMBOL: {{qty, avg_entry_price}}")
    for symbol, pos in positions.items():
        at = f"{where}.positions.{symbol}"
        _keys(pos, {"qty", "avg_entry_price"}, at)
        if "qty" not in pos or "avg_entry_price" not in pos:
            raise ScenarioError(f"{at}: need qty and avg_entry_price")
        _guard(at, state.set_position, name, _symbol(symbol, at),
               _number(pos["qty"], f"{at}.qty"),
               _number(pos["avg_entry_price"], f"{at}.avg_entry_price"))
    activities = raw.get("activities", [])
    if not isinstance(activities, list):
        raise ScenarioError(f"{where}.activities: need a list")
    for j, activity in enumerate(activities):
        _activity(state, name, activity, f"{where}.activities[{j}]")


def _activity(state: SimState, account: str, raw, where: str) -> None:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: need a JSON object")
    kind = _text(raw, "activity_type", where)
    if kind == "FILL":
        _keys(raw, {"activity_type", "transaction_time", "symbol", "side", "qty", "price"}, where)
        _guard(where, state.add_fill_history, account, _symbol(_text(raw, "symbol", where), where),
               _text(raw, "side", where), _number(raw.get("qty"), f"{where}.qty"),
               _number(raw.get("price"), f"{where}.price"),
               _time(raw.get("transaction_time"), f"{where}.transaction_time"))
        return
    _keys(raw, {"activity_type", "date", "symbol", "qty", "net_amount", "description"}, where)
    try:
        on = date.fromisoformat(raw["date"]) if "date" in raw else None
    except (TypeError, ValueError):
        raise ScenarioError(f"{where}.date: need YYYY-MM-DD") from None
    symbol = raw.get("symbol")
    _guard(where, state.add_activity, account, kind,
           symbol=None if symbol is None else _symbol(symbol, where),
           qty=None if "qty" not in raw else _number(raw["qty"], f"{where}.qty"),
           net_amount=_number(raw.get("net_amount", "0"), f"{where}.net_amount"),
           description=str(raw.get("description", "")), on=on)


def _open_order(state: SimState, account: str, raw, where: str) -> None:
    _keys(raw, _ORDER_KEYS, where)
    numbers = {k: _number(raw[k], f"{where}.{k}") for k in
               ("limit_price", "stop_price", "trail_price", "trail_percent") if k in raw}
    _guard(where, state.submit_order, account, _symbol(_text(raw, "symbol", where), where),
           _number(raw.get("qty"), f"{where}.qty"), _text(raw, "side", where),
           raw.get("type", "market"), raw.get("time_in_force", "day"),
           client_order_id=raw.get("client_order_id"),
           position_intent=raw.get("position_intent"), **numbers)
