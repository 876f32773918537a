"""Running one decision over the selected accounts: verify, lock, gather, decide, apply.

Every command that acts on positions goes through ``run``: the same gathering,
the same guard against crossed accounts, the same lock, whether cron runs it or
an operator does.
"""

import getpass
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from pmctl.config import AccountConfig, Settings
from pmctl.core import identity
from pmctl.core.model import Snapshot
from pmctl.core.plan import Plan
from pmctl.errors import AccountRefused, BrokerError, LockHeld, PmctlError
from pmctl.exit_codes import ExitCode
from pmctl.shell.apply import Applier, Outcome
from pmctl.shell.database import ensure_schema
from pmctl.shell.gather import read_snapshot
from pmctl.store import accounts as account_store
from pmctl.store import positions as store
from pmctl.store.connection import connection

Decide = Callable[[Snapshot], Plan]


@dataclass
class AccountResult:
    account: str
    plan: Plan | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    error: PmctlError | None = None
    snapshot: Snapshot | None = None


def actor(operator: str | None) -> str:
    if operator:
        return operator
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def brokers_for(settings: Settings) -> dict:
    from pmctl.broker.adapter import AlpacaBroker

    return {account.name: AlpacaBroker(account, settings.broker_timeout) for account in settings.accounts}


def verify_accounts(
    conn: psycopg.Connection, settings: Settings, selected: tuple[AccountConfig, ...], brokers: dict, bind: bool
) -> dict[str, str]:
    """Refusals by name. Every configured account is asked, so two names sharing keys are both seen."""
    reported: dict[str, str] = {}
    for account in settings.accounts:
        try:
            reported[account.name] = brokers[account.name].account().account_number
        except BrokerError:
            if account in selected:
                raise
    expected = {a.name: a.account_number for a in settings.accounts}
    refused = identity.refusals(reported, expected, account_store.bindings(conn))
    if bind:
        bound = account_store.bindings(conn)
        for account in selected:
            if account.name not in refused and account.name not in bound:
                account_store.bind(conn, account.name, reported[account.name])
        refused = identity.refusals(reported, expected, account_store.bindings(conn))
    return refused


def run(
    settings: Settings, database_url: str, account_name: str | None, decide: Decide, dry_run: bool, operator: str | None,
    evidence: bool = False,
) -> list[AccountResult]:
    selected = settings.selected(account_name)
    brokers = brokers_for(settings)
    with connection(database_url, autocommit=True) as conn:
        ensure_schema(conn, owned=settings.database_url is None, dry_run=dry_run)
        refused = verify_accounts(conn, settings, selected, brokers, bind=not dry_run)
    results = []
    for account in selected:
        if account.name in refused:
            results.append(AccountResult(account.name, error=AccountRefused(refused[account.name])))
            continue
        results.append(_run_account(settings, database_url, account, brokers[account.name], decide, dry_run,
                                    actor(operator), evidence))
    return results


def _run_account(settings, database_url, account, broker, decide, dry_run, who, evidence) -> AccountResult:
    result = AccountResult(account.name)
    try:
        with connection(database_url, autocommit=True) as conn:
            if not dry_run and not store.try_lock_account(conn, account.name):
                raise LockHeld(f"another pmctl run holds account {account.name}")
            result.snapshot = read_snapshot(broker, conn, account, settings, evidence)
            result.plan = decide(result.snapshot)
            if not dry_run:
                result.outcomes = Applier(result.snapshot, broker, conn, who).apply(result.plan)
    except (BrokerError, LockHeld) as error:
        result.error = error
    return result


def exit_code(results: list[AccountResult], dry_run: bool) -> ExitCode:
    """Worst first: a failure, then a held lock, then (dry-run) pending changes."""
    errors = [r.error for r in results if r.error is not None]
    if any(not isinstance(error, LockHeld) for error in errors):
        return ExitCode.FAILURE
    if errors:
        return ExitCode.LOCKED
    if any(not outcome.ok for r in results for outcome in r.outcomes):
        return ExitCode.FAILURE
    if dry_run and any(r.plan is not None and r.plan.has_changes for r in results):
        return ExitCode.PENDING
    return ExitCode.OK
