"""``pmctl reconcile`` and ``pmctl cleanup-phantoms``: the database brought in line with the broker."""

import json
import re
from collections import Counter

import typer

from pmctl.cli.environment import environment
from pmctl.cli.group import exit_with
from pmctl.cli.positions import ACCOUNT, DRY_RUN, WAIT, announce_live
from pmctl.cli.values import typed
from pmctl.errors import UsageError
from pmctl.exit_codes import ExitCode



def reconcile(
    ctx: typer.Context,
    account: str | None = ACCOUNT,
    dry_run: bool = DRY_RUN,
    as_json: bool = typer.Option(False, "--json", help="Findings as JSON."),
    cover_shorts: bool = typer.Option(False, "--cover-shorts", help="Buy back unexpected short stock positions."),
    wait: float = WAIT,
) -> None:
    """Classify every difference between rows and broker and settle it on the broker's evidence."""
    from pmctl.core.reconcile import plan_reconcile

    def decide(snapshot, findings):
        found, plan = plan_reconcile(snapshot, cover_shorts)
        findings[snapshot.account] = found
        return plan

    _reconcile_run(ctx, account, dry_run, as_json, decide, wait, rounds=2 if cover_shorts else 1)


def cleanup_phantoms(
    ctx: typer.Context,
    account: str | None = ACCOUNT,
    ids: str | None = typer.Option(None, "--ids", help="Only these row ids, comma-separated (e.g. 16,24,13)."),
    dry_run: bool = DRY_RUN,
    as_json: bool = typer.Option(False, "--json", help="Findings as JSON."),
    wait: float = WAIT,
) -> None:
    """Close phantom rows only: rows whose position the broker no longer holds (seed 04's runbook)."""
    from pmctl.core.plan import Plan
    from pmctl.core.reconcile import plan_reconcile
    from pmctl.core.vocabulary import FindingKind

    env = environment(ctx)
    settings = env.settings
    wanted = _parse_ids(ids) if ids is not None else None
    if wanted is not None:
        _check_ids_belong(env, wanted, {a.name for a in settings.selected(account)})

    left: dict[str, list] = {}

    def decide(snapshot, findings):
        found, _ = plan_reconcile(snapshot, cover_shorts=False)
        held = {position.symbol for position in snapshot.positions}
        gone = [f for f in found if f.kind.gone or (f.kind == FindingKind.DUPLICATE and f.symbol not in held)]
        if wanted is not None:
            mine = {row.id: row for row in snapshot.rows}
            for row_id in sorted(wanted & set(mine)):
                if row_id not in {f.row_id for f in gone}:
                    raise UsageError(_not_phantom(mine[row_id], snapshot, found))
            gone = [f for f in gone if f.row_id in wanted]
        findings[snapshot.account] = gone
        left[snapshot.account] = [f for f in found if f not in gone]
        return Plan(snapshot.account, tuple(f.action for f in gone if f.action is not None))

    if wanted is not None and not dry_run:
        _reconcile_run(ctx, account, True, as_json, decide, wait, rounds=1, quiet=True)
    _reconcile_run(ctx, account, dry_run, as_json, decide, wait, rounds=1, left=left)


def _reconcile_run(ctx, account, dry_run, as_json, decide, wait, rounds, quiet=False, left=None) -> None:
    """``left``: for cleanup-phantoms, the differences it does not settle, so its verdict never reads as "in sync"."""
    from pmctl.cli.finish import finish
    from pmctl.cli.progress import working
    from pmctl.shell.run import exit_code, run

    env = environment(ctx)
    settings = env.settings
    if not quiet:
        announce_live(settings, account)
    findings: dict[str, list] = {}

    def decide_into(snapshot):
        return decide(snapshot, findings)

    with working("reading positions, orders and the fill history …"):
        results = run(settings, env.database_url, account, decide_into, dry_run, env.operator, evidence=True,
                      wait=wait)
    if quiet:
        return
    code = exit_code(results, dry_run)
    applied = {r.account: r.outcomes for r in results}
    if not dry_run:
        for _ in range(rounds - 1):
            again = run(settings, env.database_url, account, decide_into, True, env.operator, evidence=True)
            if not any(r.plan is not None and r.plan.has_changes for r in again):
                break
            for result in run(settings, env.database_url, account, decide_into, False, env.operator, evidence=True,
                              wait=wait):
                applied[result.account] = applied.get(result.account, []) + result.outcomes
        after = run(settings, env.database_url, account, decide_into, True, env.operator, evidence=True)
        if any(r.plan is not None and r.plan.has_changes for r in after):
            code = max(code, ExitCode.FAILURE)
        results = _with_outcomes(after, applied)
        code = max(code, exit_code(results, False))
    _render(results, findings, dry_run, as_json, left)
    finish(env, results, dry_run)
    exit_with(code)


def _with_outcomes(after, applied):
    for result in after:
        result.outcomes = applied.get(result.account, [])
    return after


def _render(results, findings, dry_run, as_json, left) -> None:
    """A failed account's one line comes from the log (``pmctl.shell.journal``), as for every command."""
    from pmctl.cli.render import describe, outcome_line

    if as_json:
        typer.echo(json.dumps({"accounts": [_account_json(r, findings, dry_run, describe) for r in results]},
                              indent=2, default=str))
        return
    for result in results:
        prefix = f"[{result.account}]"
        if result.error is not None:
            continue
        for outcome in result.outcomes:
            mark = "" if outcome.ok else "FAILED "
            typer.echo(f"{prefix} {mark}{outcome_line(outcome)}")
        for finding in findings.get(result.account, []):
            if dry_run or finding.action is None:
                if finding.action is not None:
                    typer.echo(f"{prefix} {finding.kind}: would {describe(finding.action)}")
                else:
                    row = f"row {finding.row_id} " if finding.row_id is not None else ""
                    typer.echo(f"{prefix} {finding.kind}: {row}{finding.symbol}: {finding.detail} (report only)")
        verdict = _verdict(result, dry_run) if left is None else _phantom_verdict(result, dry_run, left)
        typer.echo(f"{prefix} {verdict}")


def _verdict(result, dry_run) -> str:
    pending = result.plan is not None and result.plan.has_changes
    if dry_run:
        return "dry run: changes pending" if pending else "in sync: database and broker agree"
    return "NOT in sync after applying: see above" if pending else "in sync"


def _phantom_verdict(result, dry_run, left) -> str:
    """cleanup-phantoms looks at phantom rows only: what else differs is named, never called "in sync"."""
    pending = result.plan is not None and result.plan.has_changes
    if dry_run:
        head = "dry run: phantom rows to close" if pending else "no phantom rows"
    else:
        head = "NOT settled after applying: see above" if pending else "no phantom rows left"
    kinds = Counter(finding.kind for finding in left.get(result.account, []))
    if not kinds:
        return f"{head}; no other difference between database and broker"
    others = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    return f"{head}; not settled here: {others} (pmctl reconcile --dry-run shows them)"


def _account_json(result, findings, dry_run, describe) -> dict:
    return {
        "account": result.account,
        "error": str(result.error) if result.error else None,
        "in_sync": result.error is None and not (result.plan is not None and result.plan.has_changes),
        "applied": [{"action": describe(o.action), "result": o.result, "ok": o.ok} for o in result.outcomes],
        "findings": [
            {"kind": f.kind, "row_id": f.row_id, "symbol": f.symbol, "detail": f.detail,
             "action": describe(f.action) if f.action else None}
            for f in findings.get(result.account, [])
        ],
        "dry_run": dry_run,
    }


def _parse_ids(text: str) -> set[int]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(re.fullmatch(r"[0-9]{1,10}", part) for part in parts):
        raise UsageError(f"--ids {typed(text)}: want row ids separated by commas, e.g. 16,24,13")
    return {int(part) for part in parts}


def _check_ids_belong(env, wanted: set[int], accounts: set[str]) -> None:
    """Refuse, before the broker is asked, ids that are unknown, closed, or of an account not selected."""
    from pmctl.store import positions as store
    from pmctl.store.connection import connection

    with connection(env.database_url, autocommit=True) as conn:
        for row_id in sorted(wanted):
            found = store.row_account(conn, row_id)
            if found is None:
                raise UsageError(f"--ids: no row {row_id}; nothing was changed")
            owner, state = found
            if owner not in accounts:
                raise UsageError(f"--ids: row {row_id} belongs to account {owner!r}, not {', '.join(sorted(accounts))};"
                                 " nothing was changed")
            if state not in ("open", "closing"):
                raise UsageError(f"--ids: row {row_id} is already {state}; nothing was changed")


def _not_phantom(row, snapshot, findings) -> str:
    position = snapshot.position(row.symbol)
    if position is not None:
        return (f"--ids: row {row.id} is not a phantom: the broker still holds {position.qty} {row.symbol}; "
                "nothing was changed")
    kinds = {f.kind for f in findings if f.row_id == row.id} or {"no evidence"}
    return f"--ids: row {row.id} ({row.symbol}) is not a phantom now ({', '.join(sorted(kinds))}); nothing was changed"
