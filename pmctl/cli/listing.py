"""The columns of each listing command, and their rows as plain data for ``pmctl.cli.output``."""

from decimal import Decimal

from pmctl.cli.output import Column
from pmctl.core.numbers import num
from pmctl.core.report import Report
from pmctl.core.status import Line

#: On a narrow terminal the columns with a ``drop`` rank are left out, lowest first (README, "Output"): what
#: identifies a position (id, account, symbol, side, quantity, status) and whether the broker agrees stay.
STATUS_TABLE = [
    Column("id", "id", "number"), Column("account", "account"), Column("symbol", "symbol"), Column("side", "side"),
    Column("quantity", "qty", "number"), Column("status", "status"), Column("entry_price", "entry", "number", drop=7),
    Column("current_price", "price", "number", drop=10), Column("price_from", "price from", drop=2),
    Column("pnl_dollars", "P&L $", "money", drop=11),
    Column("pnl_percent", "P&L %", "money", drop=8), Column("stop_loss", "stop", "number", drop=6),
    Column("take_profit", "target", "number", drop=5), Column("trailing_stop_price", "trail", "number", drop=4),
    Column("hours_to_expiration", "expiry h", "number", drop=9), Column("next_exit", "next exit", drop=3),
    Column("plan", "plan", drop=1), Column("broker", "broker", "match", wrap=True),
]
STATUS_ALL = STATUS_TABLE[:6] + [
    Column("strategy", "strategy"), Column("tracked_as", "tracked as"), Column("entry_price", "entry", "number"),
    Column("entry_time", "entered", "time"), STATUS_TABLE[7],
    Column("price_source", "price source"), Column("price_age_seconds", "price age s", "number"),
    Column("quote_problem", "quote problem"),
    *STATUS_TABLE[9:14], Column("expiration_date", "expires"), Column("hours_to_expiration", "expiry h", "number"),
    Column("plan", "plan"), Column("next_exit", "next exit"),
    Column("broker_quantity", "broker qty", "number"), Column("broker", "broker", "match"),
]

EVENTS_TABLE = [
    Column("id", "id", "number"), Column("time", "time", "time"), Column("account", "account"),
    Column("position", "row", "number"), Column("symbol", "symbol"), Column("kind", "kind"),
    Column("actor", "by", drop=1), Column("detail", "detail", wrap=True, own_line=True),
]
EVENTS_ALL = EVENTS_TABLE[:7] + [Column("data", "data")]

REPORT_REASONS = [
    Column("reason", "close reason"), Column("closes", "closes", "number"),
    Column("realized", "realized P&L", "money"), Column("unknown", "exit unknown", "number"),
    Column("slippage", "slippage $", "money"), Column("slippage_percent", "slippage %", "money"),
]


def columns_for(fmt: str, table: list[Column], everything: list[Column]) -> list[Column]:
    """Terminals get the columns that fit; scripts (json, csv) get every field."""
    return everything if fmt in ("json", "csv") else table


def status_rows(lines: list[Line]) -> list[dict]:
    return [
        {
            "id": line.row.id, "account": line.row.account_name, "symbol": line.row.symbol, "side": line.row.side,
            "quantity": line.row.quantity, "status": line.row.status, "strategy": line.row.strategy_type,
            "tracked_as": line.row.tracked_as, "entry_price": line.row.entry_price, "entry_time": line.row.entry_time,
            "current_price": line.price, "price_from": price_from(line), "price_source": line.price_source,
            "price_age_seconds": line.price_age, "quote_problem": line.quote_problem or None,
            "pnl_dollars": line.pnl_dollars, "pnl_percent": line.pnl_percent, "stop_loss": line.stop_loss,
            "take_profit": line.take_profit, "trailing_stop_price": line.trailing_stop_price,
            "expiration_date": line.row.expiration_date, "hours_to_expiration": line.hours_to_expiration,
            "broker_quantity": line.broker_qty, "broker": line.broker, "plan": line.plan,
            "next_exit": line.next_exit,
        }
        for line in lines
    ]


def price_from(line: Line) -> str:
    """Where a row's price came from, in a few characters: ``bid, 3 s``, ``last``, ``last, quote stale``."""
    if line.price_source is None:
        return ""
    parts = [str(line.price_source)]
    if line.price_age is not None:
        parts.append(f"{num(line.price_age)} s")
    if line.quote_problem:
        parts.append(f"quote {line.quote_problem}")
    return ", ".join(parts)


def status_summary(rows: list[dict], unconfirmed: dict[str, str] | None = None) -> str:
    """``unconfirmed``: accounts whose broker could not be read, and why; their rows are the database's alone."""
    unconfirmed = unconfirmed or {}
    total = sum((row["pnl_dollars"] for row in rows if row["pnl_dollars"] is not None), Decimal(0))
    text = f"{len(rows)} open position(s), unrealized P&L {num(total)}"
    confirmed = [row for row in rows if row["account"] not in unconfirmed]
    if confirmed or not unconfirmed:
        disagree = sum(1 for row in confirmed if row["broker"] not in ("agrees", "not asked"))
        agreement = f"{disagree} disagree with the broker" if disagree else "all agree with the broker"
        if all(row["broker"] == "not asked" for row in confirmed):
            agreement = "broker not asked"
        text += f", {agreement}"
    for name, why in unconfirmed.items():
        mine = sum(1 for row in rows if row["account"] == name)
        text += f"; account {name}: NOT confirmed by the broker ({why}): its {mine} row(s) are the database's view"
    return text


def cycle_rows(heartbeats) -> dict[str, dict]:
    """``status --json``'s ``cycles``: per account, seconds since its last cycle and its watcher's beat (null:
    never recorded), and by whom."""
    return {beat.account: {"last_cycle_seconds_ago": _rounded(beat.cycle_age), "last_cycle_by": beat.cycle_by,
                           "watcher": beat.watcher, "watcher_beat_seconds_ago": _rounded(beat.beat_age)}
            for beat in heartbeats}


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def event_rows(records: list[tuple]) -> list[dict]:
    rows = []
    for event_id, created, account, position, symbol, kind, actor, data in records:
        data = data or {}
        rows.append({"id": event_id, "time": created, "account": account, "position": position, "symbol": symbol,
                     "kind": kind, "actor": actor, "detail": str(data.get("why") or data.get("text") or _compact(data)),
                     "data": data})
    return rows


def _compact(data: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(data.items()) if key != "evidence")


def report_rows(report: Report) -> list[dict]:
    return [{"reason": line.reason, "closes": line.closes, "realized": line.realized, "unknown": line.unknown,
             "slippage": line.slippage, "slippage_percent": line.slippage_percent}
            for line in report.by_reason]


def report_extra(report: Report) -> dict:
    hold = report.average_hold
    return {
        "date": report.day.isoformat(), "accounts": list(report.accounts), "opened": report.opened,
        "closed": report.closed, "realized_pnl": f"{report.realized:f}", "closed_exit_unknown": report.unknown_exit,
        "wins": report.wins, "losses": report.losses, "break_even": report.break_even,
        "win_rate_percent": None if report.win_rate is None else f"{report.win_rate:f}",
        "average_hold_minutes": None if hold is None else f"{Decimal(hold.total_seconds() / 60):.1f}",
    }


def report_totals(report: Report) -> dict:
    """The summary as name/value pairs for a format without room for a sentence (csv's second section)."""
    return {**report_extra(report), "accounts": " ".join(report.accounts)}


def _win_rate(report: Report) -> str:
    even = f"{report.break_even} break-even, not counted" if report.break_even else ""
    if report.win_rate is None:
        return f"win rate n/a ({even})" if even else "win rate n/a"
    return f"win rate {report.win_rate}% ({report.wins} won, {report.losses} lost{', ' + even if even else ''})"


def report_summary(report: Report) -> str:
    hold = report.average_hold
    parts = [
        f"{report.day}: {report.opened} opened, {report.closed} closed",
        f"realized P&L {num(report.realized)}" + (f" ({report.unknown_exit} closed with exit price unknown, "
                                                  "not counted)" if report.unknown_exit else ""),
        _win_rate(report),
        f"average hold {int(hold.total_seconds() // 60)} min" if hold is not None else "average hold n/a",
    ]
    return "; ".join(parts)
