"""``pmctl edit``: change a position's exit parameters, with the old and new values recorded."""

import re

import typer

from pmctl.cli.environment import environment
from pmctl.cli.group import exit_with
from pmctl.cli.positions import ACCOUNT, run_request
from pmctl.errors import UsageError

PRICE_HELP = "New price, or 'none' to remove it."
FLAGS = {"stop_loss": "--stop-loss", "take_profit": "--take-profit", "trailing_stop_percent": "--trailing-stop-percent",
         "max_hold_minutes": "--max-hold-minutes", "underlying_stop": "--underlying-stop",
         "underlying_target": "--underlying-target", "strategy_type": "--strategy"}
UNDERLYING_STOP = typer.Option(None, "--underlying-stop", help="An option's stop on its underlying.")
UNDERLYING_TARGET = typer.Option(None, "--underlying-target", help="An option's target on its underlying.")
STRATEGY = typer.Option(None, "--strategy", help="The row's strategy (day_trade, swing_trade, conservative, or a "
                                                   "profile of pmctl.toml); gives an unexpected short to the rules.")
FORCE = typer.Option(False, "--force", help="Set a stop even where the price is already through it (the next "
                                            "cycle closes the position).")


def edit(
    ctx: typer.Context,
    row_id: int = typer.Argument(..., metavar="ID", min=1, help="The row id (see pmctl status)."),
    account: str | None = ACCOUNT,
    stop_loss: str | None = typer.Option(None, "--stop-loss", help=PRICE_HELP),
    take_profit: str | None = typer.Option(None, "--take-profit", help=PRICE_HELP),
    trailing: str | None = typer.Option(None, "--trailing-stop-percent", help="Percent, or 'none'."),
    max_hold: str | None = typer.Option(None, "--max-hold-minutes", help="Minutes, or 'none'."),
    underlying_stop: str | None = UNDERLYING_STOP,
    underlying_target: str | None = UNDERLYING_TARGET,
    strategy: str | None = STRATEGY,
    force: bool = FORCE,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show old -> new; write nothing. Exit 3 if it would change."),
) -> None:
    """Change a position's stop, target, trailing stop or hold limit; check applies them next cycle.

    Like every command that writes, edit runs through the shell's cycle: it asks the broker whose keys the row's
    account holds, holds the account's lock, and writes the row with its event (stamped with the broker's clock)
    in one transaction: with the broker unreachable or the account refused, nothing is changed.
    """
    from functools import partial

    from pmctl.core.edit import FieldRefused, editable, plan_edit
    from pmctl.core.plan import Edit
    from pmctl.core.vocabulary import OutcomeStatus
    from pmctl.shell.cycle import Request
    from pmctl.shell.rows import owners

    changes = plan_changes(stop_loss=stop_loss, take_profit=take_profit, trailing_stop_percent=trailing,
                           max_hold_minutes=max_hold, underlying_stop=underlying_stop,
                           underlying_target=underlying_target, strategy_type=strategy)
    if not changes:
        raise UsageError("nothing to change: give --stop-loss, --take-profit, --trailing-stop-percent, "
                         "--max-hold-minutes, --underlying-stop, --underlying-target or --strategy")
    env = environment(ctx)
    found = owners(env.settings, env.database_url, {row_id})[row_id]
    if found is None or found[0] not in {a.name for a in env.settings.selected(account)}:
        where = f"belongs to account {found[0]!r}" if found else "does not exist"
        raise UsageError(f"row {row_id} {where}; nothing was changed")
    name, state = found
    editable(row_id, state)
    request = Request(partial(plan_edit, row_id=row_id, changes=changes, force=force), name, dry_run, quiet=True)
    try:
        report = run_request(env, request)
    except FieldRefused as refused:
        raise UsageError(f"{FLAGS[refused.field]} {refused.detail}") from None
    result = report.account(name)
    if result.error is not None:
        raise type(result.error)(f"account {name!r}: {result.error}; nothing was changed")
    edits = result.plan.of(Edit)
    if not edits:
        typer.echo(f"row {row_id} {_symbol(result.snapshot, row_id)}: nothing to change")
    elif dry_run:
        typer.echo(f"row {row_id} {edits[0].symbol}: would change {edits[0].text()} (dry run: nothing written)")
    elif failed := [outcome for outcome in result.outcomes if not outcome.ok]:
        why = "changed meanwhile (closed?)" if failed[0].status == OutcomeStatus.CONFLICT else failed[0].result
        raise UsageError(f"row {row_id} {why}; nothing was changed")
    else:
        typer.echo(f"row {row_id} {edits[0].symbol}: {edits[0].text()}")
    exit_with(report.exit_code)


def plan_changes(**typed: str | None) -> dict:
    """The plan fields given on the command line, each parsed and range-checked (``none`` clears one)."""
    from pmctl.cli import values

    parsers = {"stop_loss": values.amount, "take_profit": values.amount, "trailing_stop_percent": _percent,
               "max_hold_minutes": values.minutes, "underlying_stop": values.amount,
               "underlying_target": values.amount, "strategy_type": _strategy}
    return {field: _value(FLAGS[field], text, parsers[field]) for field, text in typed.items() if text is not None}


def _value(flag: str, text: str, parse):
    if text.strip().lower() == "none":
        return "none"
    return parse(flag, text)


def _percent(flag: str, text: str):
    from pmctl.cli import values

    return values.amount(flag, text, values.PERCENT_LIMIT, "it must be between 0 and 100")


def _strategy(flag: str, text: str) -> str:
    from pmctl.cli import values

    name = text.strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise UsageError(f"{flag} {values.typed(text)}: a strategy is 1 to 64 letters, digits, _ or -")
    return name


def _symbol(snapshot, row_id: int) -> str:
    return next(row.symbol for row in snapshot.rows if row.id == row_id)
