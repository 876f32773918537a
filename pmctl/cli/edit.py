"""``pmctl edit``: change a position's exit parameters, with the old and new values recorded."""

from decimal import Decimal, InvalidOperation

import typer

from pmctl.cli.environment import environment
from pmctl.cli.positions import ACCOUNT
from pmctl.errors import UsageError

PRICE_HELP = "New price, or 'none' to remove it."


def edit(
    ctx: typer.Context,
    row_id: int = typer.Argument(..., metavar="ID", min=1, help="The row id (see pmctl status)."),
    account: str | None = ACCOUNT,
    stop_loss: str | None = typer.Option(None, "--stop-loss", help=PRICE_HELP),
    take_profit: str | None = typer.Option(None, "--take-profit", help=PRICE_HELP),
    trailing: str | None = typer.Option(None, "--trailing-stop-percent", help="Percent, or 'none'."),
    max_hold: str | None = typer.Option(None, "--max-hold-minutes", help="Minutes, or 'none'."),
) -> None:
    """Change a position's stop, target, trailing stop or hold limit; check applies them next cycle."""
    from pmctl.core.edit import CLEAR, plan_edit
    from pmctl.shell.run import actor
    from pmctl.store import positions as store

    changes = {
        field: _value(flag, text, whole)
        for field, flag, text, whole in (
            ("stop_loss", "--stop-loss", stop_loss, False), ("take_profit", "--take-profit", take_profit, False),
            ("trailing_stop_percent", "--trailing-stop-percent", trailing, False),
            ("max_hold_minutes", "--max-hold-minutes", max_hold, True),
        )
        if text is not None
    }
    env = environment(ctx)
    names = [a.name for a in env.settings.selected(account)]
    with env.database() as conn:
        found = [(name, row) for name in names if (row := store.row_by_id(conn, name, row_id)) is not None]
        if not found:
            owner = store.row_account(conn, row_id)
            where = f"belongs to account {owner[0]!r}" if owner else "does not exist"
            raise UsageError(f"row {row_id} {where}; nothing was changed")
        name, row = found[0]
        change = plan_edit(row, changes)
        with conn.transaction():
            if not store.set_exit_parameters(conn, name, row_id, change.new):
                raise UsageError(f"row {row_id} changed meanwhile (closed?); nothing was changed")
            store.insert_events(conn, name, [store.Event(row_id, "edited", {
                "symbol": row.symbol, "old": change.old, "new": change.new})], actor(env.operator),
                _now())
    shown = ", ".join(f"{field} {change.old[field]} -> {change.new[field] if change.new[field] is not None else CLEAR}"
                      for field in change.new)
    typer.echo(f"row {row_id} {row.symbol}: {shown}")


def _value(flag: str, text: str, whole: bool):
    if text.strip().lower() == "none":
        return "none"
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UsageError(f"{flag} {text!r} is not a number") from None
    if not value.is_finite():
        raise UsageError(f"{flag} {text!r} is not a number")
    if whole:
        if value != value.to_integral_value():
            raise UsageError(f"{flag} {text!r} must be a whole number of minutes")
        return int(value)
    return value


def _now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
