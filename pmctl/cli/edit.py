"""``pmctl edit``: change a position's exit parameters, with the old and new values recorded."""

import typer

from pmctl.cli.environment import environment
from pmctl.cli.group import exit_with
from pmctl.cli.positions import ACCOUNT
from pmctl.errors import UsageError
from pmctl.exit_codes import ExitCode

PRICE_HELP = "New price, or 'none' to remove it."
FLAGS = {"stop_loss": "--stop-loss", "take_profit": "--take-profit", "trailing_stop_percent": "--trailing-stop-percent",
         "max_hold_minutes": "--max-hold-minutes"}


def edit(
    ctx: typer.Context,
    row_id: int = typer.Argument(..., metavar="ID", min=1, help="The row id (see pmctl status)."),
    account: str | None = ACCOUNT,
    stop_loss: str | None = typer.Option(None, "--stop-loss", help=PRICE_HELP),
    take_profit: str | None = typer.Option(None, "--take-profit", help=PRICE_HELP),
    trailing: str | None = typer.Option(None, "--trailing-stop-percent", help="Percent, or 'none'."),
    max_hold: str | None = typer.Option(None, "--max-hold-minutes", help="Minutes, or 'none'."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show old -> new; write nothing. Exit 3 if it would change."),
) -> None:
    """Change a position's stop, target, trailing stop or hold limit; check applies them next cycle.

    Like every command that writes, edit first asks the broker whose keys the row's account holds (and stamps
    its event with the broker's clock): with the broker unreachable or the account refused, nothing is changed.
    """
    from pmctl.cli import values
    from pmctl.core.edit import FieldRefused, plan_edit
    from pmctl.core.vocabulary import EventKind
    from pmctl.store import events, positions

    changes = {
        field: _value(FLAGS[field], text, parse)
        for field, text, parse in (
            ("stop_loss", stop_loss, values.amount), ("take_profit", take_profit, values.amount),
            ("trailing_stop_percent", trailing, _percent), ("max_hold_minutes", max_hold, values.minutes),
        )
        if text is not None
    }
    if not changes:
        raise UsageError("nothing to change: give --stop-loss, --take-profit, --trailing-stop-percent or "
                         "--max-hold-minutes")
    env = environment(ctx)
    names = [a.name for a in env.settings.selected(account)]
    with env.database() as conn:
        found = [(name, row) for name in names if (row := positions.row_by_id(conn, name, row_id)) is not None]
        if not found:
            owner = positions.row_account(conn, row_id)
            where = f"belongs to account {owner[0]!r}" if owner else "does not exist"
            raise UsageError(f"row {row_id} {where}; nothing was changed")
        name, row = found[0]
        try:
            change = plan_edit(row, changes)
        except FieldRefused as refused:
            raise UsageError(f"{FLAGS[refused.field]} {refused.detail}") from None
        if not change.changes:
            typer.echo(f"row {row_id} {row.symbol}: nothing to change")
            return
        now = _broker_time(conn, env.settings, name, dry_run)
        if dry_run:
            typer.echo(f"row {row_id} {row.symbol}: would change {change.text()} (dry run: nothing written)")
            exit_with(ExitCode.PENDING)
        with conn.transaction():
            if not positions.set_exit_parameters(conn, name, row_id, change.new):
                raise UsageError(f"row {row_id} changed meanwhile (closed?); nothing was changed")
            events.insert_events(conn, name, [events.Event(row_id, EventKind.EDITED, change.recorded())],
                                _actor(env.operator), now)
    typer.echo(f"row {row_id} {row.symbol}: {change.text()}")


def _value(flag: str, text: str, parse):
    if text.strip().lower() == "none":
        return "none"
    return parse(flag, text)


def _percent(flag: str, text: str):
    from pmctl.cli import values

    return values.amount(flag, text, values.PERCENT_LIMIT, "it must be between 0 and 100")


def _broker_time(conn, settings, account: str, dry_run: bool):
    """The account checked as every run checks it (first binding recorded unless a dry run), and the broker's time."""
    from pmctl.errors import AccountRefused, BrokerError
    from pmctl.shell.run import checked_broker

    try:
        return checked_broker(conn, settings, account, bind=not dry_run).clock().timestamp
    except (BrokerError, AccountRefused) as error:
        raise type(error)(f"account {account!r}: {error}; nothing was changed") from None


def _actor(operator: str | None) -> str:
    from pmctl.shell.run import actor

    return actor(operator)
