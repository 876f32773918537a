"""``pmctl reconcile`` and ``pmctl cleanup-phantoms``: the database brought in line with the broker.

What counts as a difference, and as a phantom, is the core's (``pmctl.core.reconcile``); the extra rounds and
the check afterwards are the shell's (``pmctl.shell.cycle``). Here the findings are rendered.
"""

import json
import re
from collections import Counter

import typer

from pmctl.cli.environment import environment
from pmctl.cli.group import exit_with
from pmctl.cli.positions import ACCOUNT, DRY_RUN, WAIT, announce_live, run_request
from pmctl.errors import UsageError, typed

READING = "reading positions, orders and the fill history …"


def reconcile(
    ctx: typer.Context,
    account: str | None = ACCOUNT,
    dry_run: bool = DRY_RUN,
    as_json: bool = typer.Option(False, "--json", help="Findings as JSON."),
    cover_shorts: bool = typer.Option(False, "--cover-shorts", help="Buy back unexpected short stock positions."),
    wait: float = WAIT,
) -> None:
    """Classify every difference between rows and broker and settle it on the broker's evidence."""
    from functools import partial

    from pmctl.core.reconcile import plan_reconcile
    from pmctl.shell.cycle import Request

    env = environment(ctx)
    announce_live(env.settings, account)
    report = run_request(env, Request(partial(plan_reconcile, cover_shorts=cover_shorts), account, dry_run, wait,
                                      evidence=True, rounds=2 if cover_shorts else 1, verify=True), READING)
    _render(report, as_json, _verdict)
    exit_with(report.exit_code)


def cleanup_phantoms(
    ctx: typer.Context,
    account: str | None = ACCOUNT,
    ids: str | None = typer.Option(None, "--ids", help="Only these row ids, comma-separated (e.g. 16,24,13)."),
    dry_run: bool = DRY_RUN,
    as_json: bool = typer.Option(False, "--json", help="Findings as JSON."),
    wait: float = WAIT,
) -> None:
    """Close phantom rows only: rows whose position the broker no longer holds (seed 04's runbook)."""
    from functools import partial

    from pmctl.core.reconcile import IdsRefused, check_ids, plan_cleanup
    from pmctl.shell.cycle import Request
    from pmctl.shell.rows import owners

    env = environment(ctx)
    wanted = _parse_ids(ids) if ids is not None else None
    request = Request(partial(plan_cleanup, wanted=wanted), account, dry_run, wait, evidence=True, verify=True,
                      rehearse=wanted is not None)
    try:
        if wanted is not None:
            check_ids(wanted, owners(env.settings, env.database_url, wanted),
                      {a.name for a in env.settings.selected(account)})
        announce_live(env.settings, account)
        report = run_request(env, request, READING)
    except IdsRefused as refused:
        raise UsageError(f"--ids: {refused.detail}") from None
    _render(report, as_json, _phantom_verdict)
    exit_with(report.exit_code)


def _render(report, as_json: bool, verdict) -> None:
    """A failed account's one line comes from the log (``pmctl.shell.journal``), as for every command."""
    from pmctl.core.describe import describe, outcome_line

    if as_json:
        typer.echo(json.dumps({"accounts": [_account_json(r, report.dry_run) for r in report.accounts]},
                              indent=2, default=str))
        return
    for result in report.accounts:
        prefix = f"[{result.account}]"
        if result.error is not None:
            continue
        for outcome in result.outcomes:
            mark = "" if outcome.ok else "FAILED "
            typer.echo(f"{prefix} {mark}{outcome_line(outcome)}")
        for finding in _findings(result):
            if finding.action is not None and report.dry_run:
                typer.echo(f"{prefix} {finding.kind}: would {describe(finding.action)}")
            elif finding.action is None:
                row = f"row {finding.row_id} " if finding.row_id is not None else ""
                typer.echo(f"{prefix} {finding.kind}: {row}{finding.symbol}: {finding.detail} (report only)")
        typer.echo(f"{prefix} {verdict(result, report.dry_run)}")


def _findings(result) -> tuple:
    return result.plan.findings if result.plan is not None else ()


def _pending(result) -> bool:
    return result.plan is not None and result.plan.has_changes


def _verdict(result, dry_run: bool) -> str:
    if dry_run:
        return "dry run: changes pending" if _pending(result) else "in sync: database and broker agree"
    return "NOT in sync after applying: see above" if _pending(result) else "in sync"


def _phantom_verdict(result, dry_run: bool) -> str:
    """cleanup-phantoms looks at phantom rows only: what else differs is named, never called "in sync"."""
    if dry_run:
        head = "dry run: phantom rows to close" if _pending(result) else "no phantom rows"
    else:
        head = "NOT settled after applying: see above" if _pending(result) else "no phantom rows left"
    kinds = Counter(finding.kind for finding in (result.plan.left if result.plan is not None else ()))
    if not kinds:
        return f"{head}; no other difference between database and broker"
    others = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    return f"{head}; not settled here: {others} (pmctl reconcile --dry-run shows them)"


def _account_json(result, dry_run: bool) -> dict:
    from pmctl.core.describe import describe

    return {
        "account": result.account,
        "error": str(result.error) if result.error else None,
        "in_sync": result.error is None and not _pending(result),
        "applied": [{"action": describe(o.action), "result": o.result, "ok": o.ok} for o in result.outcomes],
        "findings": [
            {"kind": f.kind, "row_id": f.row_id, "symbol": f.symbol, "detail": f.detail,
             "action": describe(f.action) if f.action else None}
            for f in _findings(result)
        ],
        "dry_run": dry_run,
    }


def _parse_ids(text: str) -> set[int]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(re.fullmatch(r"[0-9]{1,10}", part) for part in parts):
        raise UsageError(f"--ids {typed(text)}: want row ids separated by commas, e.g. 16,24,13")
    return {int(part) for part in parts}
