"""What a run tells the desk: the notices (alerts) its results call for.

Pure: results in, notices out. Which are actually sent, and when, is the
shell's business (cooldown, delivery).
"""

from pmctl.alerts.model import Notice
from pmctl.core.plan import Alert, Close, MarkClosed
from pmctl.errors import AccountRefused, LockHeld

ALERT_KINDS_SENT = {"order_failed", "unexpected_short", "phantom_found", "expiring_soon", "side_mismatch",
                    "brackets_missing", "needs_reconcile"}
PHANTOM_REASONS = {"closed_at_broker", "phantom"}


def from_results(results: list) -> list[Notice]:
    notices: list[Notice] = []
    for result in results:
        notices.extend(_from_error(result))
        for outcome in result.outcomes:
            notices.extend(_from_outcome(result.account, outcome))
    return notices


def _from_error(result) -> list[Notice]:
    error = result.error
    if error is None or isinstance(error, LockHeld):
        return []
    if isinstance(error, AccountRefused):
        return [Notice("account_refused", result.account, "critical", str(error))]
    return [Notice("cycle_failed", result.account, "error", str(error))]


def _from_outcome(account: str, outcome) -> list[Notice]:
    action = outcome.action
    if isinstance(action, Close):
        kind, severity = ("exit_triggered", "warning") if outcome.ok else ("order_failed", "error")
        text = f"{action.reason}: {action.side} {action.qty} {action.symbol} -> {outcome.result}"
        return [Notice(kind, account, severity, text, action.symbol, action.row_id)]
    if isinstance(action, Alert) and action.kind in ALERT_KINDS_SENT:
        return [Notice(action.kind, account, action.severity, action.why, action.symbol, action.row_id)]
    if isinstance(action, MarkClosed) and action.reason in PHANTOM_REASONS:
        return [Notice("phantom_found", account, "warning", action.why, action.symbol, action.row_id)]
    return []
