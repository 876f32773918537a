"""``pmctl track`` and ``pmctl plan``: record a position's exit plan by hand, and read every rule of one."""

import typer

from pmctl.cli.edit import FLAGS, FORCE, PRICE_HELP, STRATEGY, UNDERLYING_STOP, UNDERLYING_TARGET, plan_changes
from pmctl.cli.environment import environment
from pmctl.cli.group import exit_with
from pmctl.cli.positions import ACCOUNT, DRY_RUN, announce_live, run_request
from pmctl.errors import UsageError

WAIT_HELP = "For a position not held yet: how long the plan waits for it (default 60 minutes)."


def track(
    ctx: typer.Context,
    symbol: str = typer.Argument(..., help="The symbol the broker holds (the OCC contract for an option)."),
    account: str | None = ACCOUNT,
    strategy: str | None = STRATEGY,
    stop: str | None = typer.Option(None, "--stop", help=PRICE_HELP),
    target: str | None = typer.Option(None, "--target", help=PRICE_HELP),
    trail: str | None = typer.Option(None, "--trail", help="Trailing stop, percent under the peak."),
    max_hold: str | None = typer.Option(None, "--max-hold", help="Minutes."),
    underlying_stop: str | None = UNDERLYING_STOP,
    underlying_target: str | None = UNDERLYING_TARGET,
    wait_minutes: int = typer.Option(60, "--wait-minutes", min=1, max=10080, help=WAIT_HELP),
    force: bool = FORCE,
    dry_run: bool = DRY_RUN,
) -> None:
    """Give a position the exit plan it was opened with: for a row, a position held without one, or a fill to come.

    A row gets the levels and strategy as ``edit`` gives them (a strategy releases a quarantined short into the
    rules); a position held without a row is adopted with them; a position not held yet gets a plan that waits
    for it (--wait-minutes) and is taken by the cycle that adopts it.
    """
    from datetime import timedelta
    from functools import partial

    from pmctl import occ
    from pmctl.cli import render
    from pmctl.core.edit import FieldRefused
    from pmctl.core.track import plan_track
    from pmctl.shell.cycle import Request

    held = occ.validate(symbol)
    changes = plan_changes(stop_loss=stop, take_profit=target, trailing_stop_percent=trail,
                           max_hold_minutes=max_hold, underlying_stop=underlying_stop,
                           underlying_target=underlying_target, strategy_type=strategy)
    if not changes:
        raise UsageError("nothing to track: give --strategy, --stop, --target, --trail, --max-hold, "
                         "--underlying-stop or --underlying-target")
    env = environment(ctx)
    if account is None and len(env.settings.selected(None)) > 1:
        raise UsageError("more than one account is configured: name one with --account")
    chosen = env.settings.selected(account)[0].name
    announce_live(env.settings, chosen)
    decide = partial(plan_track, symbol=held, changes=changes, wait=timedelta(minutes=wait_minutes), force=force)
    try:
        report = run_request(env, Request(decide, chosen, dry_run))
    except FieldRefused as refused:
        flag = {"stop_loss": "--stop", "take_profit": "--target", "trailing_stop_percent": "--trail",
                "max_hold_minutes": "--max-hold"}.get(refused.field, FLAGS[refused.field])
        raise UsageError(f"{flag} {refused.detail}") from None
    render.print_results(report.accounts, dry_run)
    exit_with(report.exit_code)


def plan(
    ctx: typer.Context,
    row_id: int = typer.Argument(..., metavar="ID", min=1, help="The row id (see pmctl status)."),
    account: str | None = ACCOUNT,
) -> None:
    """Every exit rule of one row: its level, where that came from, and whether it fires at the price now."""
    from pmctl.core.explain import explain
    from pmctl.core.plan import Plan
    from pmctl.shell.cycle import Request
    from pmctl.shell.rows import owners

    env = environment(ctx)
    found = owners(env.settings, env.database_url, {row_id})[row_id]
    if found is None or found[0] not in {a.name for a in env.settings.selected(account)}:
        where = f"belongs to account {found[0]!r}" if found else "does not exist"
        raise UsageError(f"row {row_id} {where}")
    name, _ = found
    report = run_request(env, Request(lambda snapshot: Plan(snapshot.account), name, dry_run=True, quiet=True))
    result = report.account(name)
    if result.error is not None:
        raise type(result.error)(f"account {name!r}: {result.error}")
    for line in explain(result.snapshot, row_id):
        typer.echo(line)
