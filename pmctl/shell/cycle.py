"""The one way into the shell: run a decision over the selected accounts and report what came of it.

Every command that acts (``check``, ``sync``, ``close``, ``edit``, ``reconcile``, ``cleanup-phantoms``) and
``status``'s read of the broker call ``run_cycle``; so can any Python caller (a test, a long-running daemon),
without Typer. It runs the accounts (``pmctl.shell.run``), then does what every run owes the desk: the journal
(one log record per outcome, one per failed account), the alerts, the metrics file, and the exit code. The
caller renders the ``Report`` and exits with its code; nothing comes back to the caller in between.
"""

import time
from dataclasses import dataclass, replace
from pathlib import Path

from pmctl.alerts.model import Notice
from pmctl.config import Settings
from pmctl.core.describe import outcome_line
from pmctl.core.notices import from_results
from pmctl.core.plan import Defer
from pmctl.core.vocabulary import AlertKind, Severity
from pmctl.errors import DatabaseError, LockHeld, PmctlError
from pmctl.exit_codes import ExitCode
from pmctl.shell import journal
from pmctl.shell.run import AccountResult, Decide, actor, run


@dataclass(frozen=True)
class Request:
    """What to run and how.

    ``decide``: the core's decision for one account's snapshot (``plan_check``, or one with its arguments bound).
    ``account``: only this account (None: every configured one). ``wait``, ``once_per``: as ``pmctl check``'s
    options. ``evidence``: read the fills and option events that settle rows the broker no longer holds.
    ``metrics_file``: rewrite it after the run. ``deferral_fails``: a close the plan had to defer fails the run
    (``close``: the operator asked for it now). ``rounds``: apply at most this many times while a fresh plan
    still finds changes (``reconcile --cover-shorts``: a covered short leaves a row to settle). ``verify``: plan
    once more after applying; what is still pending fails the run, and the report shows that plan.
    ``rehearse``: before a real run, run the decision as a dry run over every account, so a refusal it raises for
    one account stops the run before any account is written (``cleanup-phantoms --ids``).
    ``quiet``: no journal, alerts or metrics; the caller speaks for itself (``edit``, ``status``).
    """

    decide: Decide
    account: str | None = None
    dry_run: bool = False
    wait: float = 0
    once_per: float = 0
    evidence: bool = False
    metrics_file: Path | None = None
    deferral_fails: bool = False
    rounds: int = 1
    verify: bool = False
    rehearse: bool = False
    quiet: bool = False


@dataclass(frozen=True)
class Report:
    """What a run did. ``accounts``: per account its plan (with ``Plan.findings`` for reconcile), outcomes, error
    or skip. ``error``: the run could not start (the database unreachable); then no account ran."""

    accounts: tuple[AccountResult, ...]
    exit_code: ExitCode
    notices: tuple[Notice, ...] = ()
    error: PmctlError | None = None
    dry_run: bool = False

    def account(self, name: str) -> AccountResult | None:
        return next((result for result in self.accounts if result.account == name), None)


def run_cycle(settings: Settings, database_url: str, operator: str | None, request: Request) -> Report:
    """A refusal the decision raises (a row that is not a phantom, a close that changed since it was confirmed)
    propagates to the caller, for the account it was raised in before anything is applied there; ``rehearse``
    raises it before any account is written."""
    try:
        if request.rehearse and not request.dry_run:
            _run(settings, database_url, operator, replace(request, dry_run=True))
        results = _run(settings, database_url, operator, request)
        code = exit_code(results, request.dry_run)
        if not request.dry_run and (request.rounds > 1 or request.verify):
            results, code = _settled(settings, database_url, operator, request, results, code)
    except DatabaseError as error:
        return _failed(settings, database_url, operator, request, error)
    if request.deferral_fails and code == ExitCode.OK and any(
            isinstance(outcome.action, Defer) for result in results for outcome in result.outcomes):
        code = ExitCode.FAILURE
    notices = from_results(results)
    if not request.quiet:
        _finish(settings, database_url, operator, request, results, notices)
    return Report(tuple(results), code, tuple(notices), dry_run=request.dry_run)


def exit_code(results: list[AccountResult], dry_run: bool) -> ExitCode:
    """Worst first: a failure, then a held lock, then (dry-run) pending changes."""
    errors = [r.error for r in results if r.error is not None]
    if any(not isinstance(error, LockHeld) for error in errors):
        return ExitCode.FAILURE
    if errors:
        return ExitCode.LOCKED
    if any(outcome.failed for r in results for outcome in r.outcomes):
        return ExitCode.FAILURE
    if dry_run and any(r.plan is not None and r.plan.has_changes for r in results):
        return ExitCode.PENDING
    return ExitCode.OK


def _run(settings, database_url, operator, request: Request) -> list[AccountResult]:
    return run(settings, database_url, request.account, request.decide, request.dry_run, operator,
               evidence=request.evidence, wait=request.wait, once_per=request.once_per)


def _settled(settings, database_url, operator, request: Request, results: list[AccountResult], code: ExitCode):
    """Further rounds while a fresh plan still finds changes, then the check afterwards: each account as the last
    plan sees it, with the outcomes of every round and the first error any round met."""
    rounds = [results]
    dry = replace(request, dry_run=True)
    for _ in range(request.rounds - 1):
        if not any(_pending(r) for r in _run(settings, database_url, operator, dry)):
            break
        rounds.append(_run(settings, database_url, operator, request))
    after = _run(settings, database_url, operator, dry)
    for result in after:
        earlier = [r for done in rounds for r in done if r.account == result.account]
        result.outcomes = [outcome for r in earlier for outcome in r.outcomes]
        result.error = next((r.error for r in earlier if r.error is not None), result.error)
    if any(_pending(r) for r in after):
        code = max(code, ExitCode.FAILURE)
    return after, max(code, exit_code(after, False))


def _pending(result: AccountResult) -> bool:
    return result.plan is not None and result.plan.has_changes


def _finish(settings, database_url, operator, request: Request, results: list[AccountResult],
            notices: list[Notice]) -> None:
    journal.record(results, outcome_line)
    if not request.dry_run:
        _alert(settings, database_url, operator, notices)
        _write_metrics(request.metrics_file, results)


def _failed(settings, database_url, operator, request: Request, error: DatabaseError) -> Report:
    """A run that ended before any account ran: every selected account failed. The metrics say so first
    (``pmctl_cycle_success`` 0 for each), since alerting needs the database too."""
    selected = [account.name for account in settings.selected(request.account)]
    notices = [Notice(AlertKind.CYCLE_FAILED, name, Severity.ERROR, str(error)) for name in selected]
    if not request.dry_run and not request.quiet:
        _write_metrics(request.metrics_file, [AccountResult(name, error=error) for name in selected])
        _alert(settings, database_url, operator, notices)
    return Report((), ExitCode(int(error.exit_code)), tuple(notices), error, request.dry_run)


def _alert(settings, database_url, operator, notices: list[Notice]) -> None:
    """Imported here, as the metrics are: a dry run does not load email, nor a run without a metrics file
    Prometheus (together a tenth of a second of every cron run)."""
    from pmctl.shell import alerting

    alerting.send(settings, database_url, notices, actor(operator))


def _write_metrics(path: Path | None, results: list[AccountResult]) -> None:
    if path is None:
        return
    from pmctl.shell import metrics

    metrics.write(path, results, time.time())
