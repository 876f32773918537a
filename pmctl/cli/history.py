"""``pmctl events`` and ``pmctl report``: the audit trail and the day's metrics. Database only."""

import difflib
import re
from datetime import date, datetime, timedelta, timezone

import typer

from pmctl.cli.environment import environment
from pmctl.cli.positions import ACCOUNT
from pmctl.errors import UsageError, typed
from pmctl.core.market import market_date, market_day

ROW_ID_MAX = 2**31 - 1
_RELATIVE = re.compile(r"^([0-9]+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
FORMAT = typer.Option("table", "--format", "-f", help="table (colour on a terminal), json, plain, markdown or csv.")


def events(
    ctx: typer.Context,
    account: str | None = ACCOUNT,
    position: int | None = typer.Option(None, "--position", "-p", min=1, max=ROW_ID_MAX, help="Only this row id."),
    since: str | None = typer.Option(None, "--since", help="ISO date or time (UTC if no offset), or 30m / 6h / 2d."),
    kind: list[str] = typer.Option([], "--kind", "-k", help="Only this kind (repeat for several), e.g. order_failed."),
    limit: int = typer.Option(200, "--limit", min=1, max=100000, help="At most this many, newest first."),
    fmt: str = FORMAT,
) -> None:
    """The audit trail from position_events, newest first."""
    from pmctl.cli import listing, output
    from pmctl.shell import history

    _check_format(fmt)
    env = environment(ctx)
    names = [a.name for a in env.settings.selected(account)]
    start = parse_since(since) if since is not None else None
    if kind:
        _check_kinds(kind, history.event_kinds(env.settings, env.database_url))
    records = history.events(env.settings, env.database_url, names, position, start, kind or None, limit)
    rows = listing.event_rows(records)
    columns = listing.columns_for(fmt, listing.EVENTS_TABLE, listing.EVENTS_ALL)
    output.render(columns, rows, fmt, title="position events (newest first)", summary=f"{len(rows)} event(s)",
                  json_key="events")


def report(
    ctx: typer.Context,
    day: str | None = typer.Option(None, "--date", help="The trading day, YYYY-MM-DD (default: today in New York)."),
    account: str | None = ACCOUNT,
    fmt: str = FORMAT,
) -> None:
    """The day's metrics: opened, closed by reason, realized P&L, win rate, average hold."""
    from pmctl.cli import listing, output
    from pmctl.shell.history import day_report

    _check_format(fmt)
    env = environment(ctx)
    names = [a.name for a in env.settings.selected(account)]
    chosen = _day(day)
    result = day_report(env.settings, env.database_url, names, chosen)
    output.render(listing.REPORT_REASONS, listing.report_rows(result), fmt, title=f"closes by reason, {chosen}",
                  summary=listing.report_summary(result), json_key="by_reason", extra=listing.report_extra(result),
                  totals=listing.report_totals(result))
    if fmt == "table" and result.by_reason:
        output.bar_chart({line.reason: line.realized for line in result.by_reason})


def parse_since(text: str) -> datetime:
    too_far = UsageError(f"--since {typed(text)}: too far back (want a time after the year 1)")
    relative = _RELATIVE.match(text.strip())
    if relative:
        amount, unit = relative.group(1), relative.group(2)
        if len(amount) > 9:
            raise too_far
        try:
            return datetime.now(timezone.utc) - timedelta(**{_UNITS[unit]: int(amount)})
        except OverflowError:
            raise too_far from None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--since {typed(text)}: want an ISO date or time (2026-02-03, 2026-02-03T15:00) "
                         "or 30m / 6h / 2d") from None
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise too_far from None


def _check_kinds(asked: list[str], recorded: set[str]) -> None:
    """A typo in ``--kind`` would match nothing and read as "no such event happened": the nearest kinds are named,
    or, with none near, every kind (space-separated: the list has outgrown one readable line with commas)."""
    from pmctl.core.vocabulary import EVENT_KINDS

    known = EVENT_KINDS | recorded
    unknown = [kind for kind in asked if kind not in known]
    if not unknown:
        return
    near = difflib.get_close_matches(unknown[0], sorted(known), n=3)
    if near:
        raise UsageError(f"--kind {typed(unknown[0])}: no such event kind (did you mean {' or '.join(near)}?)")
    raise UsageError(f"--kind {typed(unknown[0])}: no such event kind (known: {' '.join(sorted(known))})")


def _day(text: str | None) -> date:
    """The trading day asked for (default: today in New York), refused unless it has a whole day's bounds."""
    if text is None:
        return market_date(datetime.now(timezone.utc))
    try:
        chosen = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date {typed(text)}: want YYYY-MM-DD") from None
    try:
        market_day(chosen)
    except OverflowError:
        raise UsageError(f"--date {typed(text)}: out of range (want a day before 9999-12-31)") from None
    return chosen


def _check_format(fmt: str) -> None:
    from pmctl.cli.output import FORMATS

    if fmt not in FORMATS:
        raise UsageError(f"--format {typed(fmt)}: choose one of {', '.join(FORMATS)}")
