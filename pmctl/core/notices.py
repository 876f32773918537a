"""What a run tells the desk: the notices (alerts) its results call for.

Pure: results in, notices out. Which are actually sent, and when, is the
shell's business (cooldown, delivery).
"""

from pmctl.alerts.model import Notice
from pmctl.core.plan import Alert, Close, MarkClosed
from pmctl.core.vocabulary import AlertKind, Reason, Severity
from pmctl.errors import AccountRefused, LockHeld


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
        return [Notice(AlertKind.ACCOUNT_REFUSED, result.account, Severity.CRITICAL, str(error))]
    return [Notice(AlertKind.CYCLE_FAILED, result.account, Severity.ERROR, str(error))]


def _from_outcome(account: str, outcome) -> list[Notice]:
    action = outcome.action
    if isinstance(action, Close):
        kind, severity = ((AlertKind.EXIT_TRIGGERED, Severity.WARNING) if outcome.ok
                          else (AlertKind.ORDER_FAILED, Severity.ERROR))
        text = f"{action.reason}: {action.side} {action.qty} {action.symbol} -> {outcome.result}"
        return [Notice(kind, account, severity, text, action.symbol, action.row_id)]
    if isinstance(action, Alert) and AlertKind(action.kind).delivered:
        return [Notice(action.kind, account, action.severity, action.why, action.symbol, action.row_id)]
    if isinstance(action, MarkClosed) and action.closed_by is not None:
        return [Notice(AlertKind.EXIT_TRIGGERED, account, Severity.WARNING, f"{action.reason} at the broker: {action.why}",
                       action.symbol, action.row_id)]
    if isinstance(action, MarkClosed) and action.reason in (Reason.CLOSED_AT_BROKER, Reason.PHANTOM):
        return [Notice(AlertKind.PHANTOM_FOUND, account, Severity.WARNING, action.why, action.symbol, action.row_id)]
    return []
