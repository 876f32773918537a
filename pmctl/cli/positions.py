"""``sync``, ``check`` and ``close``: one shell entry (``pmctl.shell.cycle``), driven from the command line."""

import sys
from decimal import Decimal
from pathlib import Path

import typer

from pmctl.cli.environment import Environment, environment
from pmctl.cli.group import exit_with
from pmctl.errors import UsageError

#: The longest a symbol can be: an OCC contract, a root of up to six letters and fifteen characters.
SYMBOL_MAX = 21
ACCOUNT = typer.Option(None, "--account", "-a", help="Only this account (default: every configured account).")
DRY_RUN = typer.Option(False, "--dry-run", help="Print the plan; change nothing, send nothing. Exit 3 if it would act.")
WAIT = typer.Option(0.0, "--wait", min=0, max=3600, metavar="SECONDS",
                    help="Wait this long for another run's lock on an account (default: give up after a second, exit 75).")


def announce_live(settings, account: str | None) -> None:
    """Live trading is never quiet: the first line of every command says so."""
    live = [a.name for a in settings.selected(account) if not a.paper]
    if live:
        typer.echo(f"LIVE trading (not paper): account(s) {', '.join(live)}", err=True)


def run_request(env: Environment, request, message: str | None = None):
    """The shell's cycle, with a spinner while it waits; a run that could not start is its one error line."""
    from pmctl.cli.progress import working
    from pmctl.shell.cycle import run_cycle

    names = ", ".join(a.name for a in env.settings.selected(request.account))
    with working(message or f"asking the broker and the database for {names} …"):
        report = run_cycle(env.settings, env.database_url, env.operator, request)
    if report.error is not None:
        raise report.error
    return report


def sync(ctx: typer.Context, account: str | None = ACCOUNT, dry_run: bool = DRY_RUN, wait: float = WAIT) -> None:
    """Adopt broker positions that have no row; make rows follow the broker's quantities."""
    from pmctl.core.sync import sync_plan
    from pmctl.shell.cycle import Request

    env = environment(ctx)
    announce_live(env.settings, account)
    _act(env, Request(sync_plan, account, dry_run, wait))


def check(
    ctx: typer.Context,
    account: str | None = ACCOUNT,
    dry_run: bool = DRY_RUN,
    wait: float = WAIT,
    once_per: float = typer.Option(
        0.0, "--once-per", min=0, max=86400, metavar="SECONDS",
        help="Skip an account any pmctl run cycled less than SECONDS ago: several machines, one cron line.",
    ),
    metrics_file: Path | None = typer.Option(
        None, "--metrics-file", help="Write Prometheus text-format metrics here (node_exporter's textfile collector)."
    ),
) -> None:
    """One monitoring cycle: sync, refresh prices, apply the exit rules, settle closes. The cron job."""
    from pmctl.core.check import plan_check
    from pmctl.shell.cycle import Request

    env = environment(ctx)
    announce_live(env.settings, account)
    _act(env, Request(plan_check, account, dry_run, wait, once_per, metrics_file=metrics_file))


def close(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="Row id or symbol (the OCC contract for an option)."),
    account: str | None = ACCOUNT,
    qty: str | None = typer.Option(None, "--qty", help="Close only this many shares or contracts."),
    reason: str | None = typer.Option(None, "--reason", help="Recorded as the close reason (default forced_close)."),
    dry_run: bool = DRY_RUN,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    wait: float = WAIT,
) -> None:
    """Close one position now, through the same plan and safety checks as the exit rules.

    Without --yes the close is planned first without the account's lock and shown for confirmation; once
    confirmed it is planned again under the lock and refused (exit 2) if the position changed meanwhile.
    """
    from functools import partial

    from pmctl.core.manual import plan_close
    from pmctl.shell.cycle import Request

    if len(target.strip()) > SYMBOL_MAX:
        from pmctl.cli import values

        raise UsageError(f"{values.typed(target)} is neither a row id nor a symbol (at most {SYMBOL_MAX} characters)")
    quantity = _quantity(qty)
    if reason is not None and not (0 < len(reason.strip()) <= 50):
        raise UsageError("--reason must be 1 to 50 characters")
    env = environment(ctx)
    if account is None and len(env.settings.selected(None)) > 1:
        raise UsageError("more than one account is configured: name one with --account")
    chosen = env.settings.selected(account)[0].name
    decide = partial(plan_close, target=target, qty=quantity, reason=reason.strip() if reason else None)
    request = Request(decide, chosen, dry_run, wait, deferral_fails=True)
    announce_live(env.settings, chosen)
    if not dry_run and not yes:
        request = _confirmed(env, request)
    _act(env, request, _run_close)


def _act(env: Environment, request, run=run_request) -> None:
    """Run, print each account's plan (dry run) or outcomes, exit with the run's code."""
    from pmctl.cli import render

    report = run(env, request)
    render.print_results(report.accounts, request.dry_run)
    exit_with(report.exit_code)


def _run_close(env: Environment, request):
    """A refusal of the close names the flag it came from, or where the row the target names is instead."""
    from pmctl.core.manual import NoOpenRow, QuantityRefused

    try:
        return run_request(env, request)
    except QuantityRefused as refused:
        raise UsageError(f"--qty {refused.detail}") from None
    except NoOpenRow as missing:
        if missing.row_id is None:
            raise
        raise UsageError(_elsewhere(env, missing.row_id, request.account)) from None


def _confirmed(env: Environment, request):
    """The request, bound to the close a dry pass plans once the operator agrees to it.

    No lock is held while the question waits. A plan with no close to send (a deferral) needs no answer: the
    real run reports it. A dry pass that fails has said so (its journal); the command ends with its code.
    """
    from dataclasses import replace
    from functools import partial

    from pmctl.core.describe import describe
    from pmctl.core.plan import Close
    from pmctl.exit_codes import ExitCode

    preview = _run_close(env, replace(request, dry_run=True))
    if preview.exit_code not in (ExitCode.OK, ExitCode.PENDING):
        exit_with(preview.exit_code)
    closes = [close for result in preview.accounts if result.plan for close in result.plan.of(Close)]
    if not closes:
        return request
    if not sys.stdin.isatty():
        raise UsageError("refusing to close without confirmation: pass --yes (stdin is not a terminal)")
    if not typer.confirm(f"{describe(closes[0])}\nSend this order?"):
        raise UsageError("not confirmed: nothing was sent")
    return replace(request, decide=partial(request.decide, confirmed=closes[0]))


def _quantity(text: str | None) -> Decimal | None:
    from pmctl.cli import values

    if text is None:
        return None
    value = values.amount("--qty", text)
    if value <= 0:
        raise UsageError(f"--qty {values.typed(text)} must be a positive number")
    return value


def _elsewhere(env: Environment, row_id: int, account: str) -> str:
    from pmctl.shell.rows import owners

    found = owners(env.settings, env.database_url, {row_id})[row_id]
    if found is None:
        return f"no row {row_id}"
    owner, state = found
    if owner != account:
        return f"row {row_id} belongs to another account, not {account!r}"
    return f"row {row_id} is {state}, not open"
