"""Every result of a run as a log record, with the account, position and event as fields."""

import logging

from pmctl.core.plan import (Adopt, Alert, ChangeQuantity, Close, Defer, Edit, FollowEntry, MarkClosed, Reopen,
                             TakePlan, WalkClose)
from pmctl.errors import AccountRefused, LockHeld
from pmctl.core.vocabulary import EventKind, OutcomeStatus, Severity

log = logging.getLogger("pmctl")
_EVENTS = {Adopt: EventKind.ADOPTED, ChangeQuantity: EventKind.QUANTITY_CHANGED, FollowEntry: EventKind.ENTRY_CHANGED,
           MarkClosed: EventKind.CLOSED, Reopen: EventKind.REOPENED, Edit: EventKind.EDITED,
           TakePlan: EventKind.PLAN_TAKEN, Defer: "deferred", WalkClose: EventKind.ORDER_REPLACED}
_SEVERITY = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING, Severity.ERROR: logging.ERROR,
             Severity.CRITICAL: logging.CRITICAL}


def record(results: list, line) -> None:
    """``line``: an outcome as one line of text. An account's failure is logged here and only here, once."""
    for result in results:
        if result.error is not None:
            level = logging.WARNING if isinstance(result.error, LockHeld) else logging.ERROR
            log.log(level, error_text(result.error), extra={"account": result.account, "event": "cycle_failed"})
        for outcome in result.outcomes:
            action = outcome.action
            level, event = _level_and_event(action, outcome.ok)
            if outcome.status == OutcomeStatus.COOLED:
                level = logging.INFO
            log.log(level, line(outcome), extra={
                "account": result.account, "position": getattr(action, "row_id", None),
                "symbol": getattr(action, "symbol", None), "event": event})
        if result.plan is not None and not result.error:
            log.debug(f"cycle done: {len(result.outcomes)} action(s)", extra={"account": result.account,
                                                                              "event": "cycle"})


def error_text(error: Exception) -> str:
    """Skipped (another run holds the lock) and refused (crossed keys) say so; a failure speaks for itself."""
    if isinstance(error, LockHeld):
        return f"skipped: {error}"
    if isinstance(error, AccountRefused):
        return f"refused: {error}"
    return str(error)


def _level_and_event(action, ok: bool) -> tuple[int, str]:
    if isinstance(action, Close):
        return (logging.INFO, EventKind.EXIT_TRIGGERED) if ok else (logging.ERROR, EventKind.ORDER_FAILED)
    if isinstance(action, Alert):
        return _SEVERITY.get(action.severity, logging.WARNING), action.kind
    return (logging.INFO if ok else logging.ERROR), _EVENTS.get(type(action), type(action).__name__.lower())
