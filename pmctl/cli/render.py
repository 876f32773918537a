"""Printing each account's plan (dry run) or outcomes (real run). No decisions here."""

import typer

from pmctl.core.describe import describe, outcome_line
from pmctl.core.plan import Plan, Refresh


def print_results(results: list, dry_run: bool) -> None:
    """One line per action (dry-run) or per outcome (real run) on stdout.

    An account that failed, was refused or skipped has its one line on stderr from the log
    (``pmctl.shell.journal``), so a cron mail shows it once; the others are printed in full.
    """
    for result in results:
        prefix = f"[{result.account}]"
        if result.skipped is not None:
            typer.echo(f"{prefix} skipped: {result.skipped}")
            continue
        if result.plan is None:
            continue
        if dry_run:
            _print_plan(prefix, result.plan)
        else:
            _print_outcomes(prefix, result.plan, result.outcomes)


def _print_plan(prefix: str, plan: Plan) -> None:
    shown = [action for action in plan.actions if not isinstance(action, Refresh)]
    for action in shown:
        typer.echo(f"{prefix} would {describe(action)}")
    refreshed = len(plan.of(Refresh))
    verdict = "changes pending" if plan.has_changes else "nothing to change"
    typer.echo(f"{prefix} dry run: {verdict}; {refreshed} price(s) would be refreshed")


def _print_outcomes(prefix: str, plan: Plan, outcomes: list) -> None:
    for outcome in outcomes:
        mark = "" if outcome.ok else "FAILED "
        typer.echo(f"{prefix} {mark}{outcome_line(outcome)}")
    refreshed = len(plan.of(Refresh))
    typer.echo(f"{prefix} done: {len(outcomes)} action(s), {refreshed} price(s) refreshed")
