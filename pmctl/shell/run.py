"""Running one decision over the selected accounts: verify, lock, gather, decide, apply.

Every command that acts on positions goes through ``run`` (by way of
``pmctl.shell.cycle``): the same gathering, the same guard against crossed
accounts, the same lock, whether cron runs it or an operator does.
"""

import getpass
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from pmctl.config import AccountConfig, Settings
from pmctl.core import identity
from pmctl.core.model import Snapshot
from pmctl.core.plan import Plan
from pmctl.errors import AccountRefused, BrokerError, DatabaseError, LockHeld, PmctlError
from pmctl.shell.apply import Applier, Outcome
from pmctl.shell.database import ensure_schema, statement_refused
from pmctl.shell.gather import find_ledger, read_snapshot
from pmctl.store import accounts as account_store
from pmctl.store import locks
from pmctl.store.connection import connection

Decide = Callable[[Snapshot], Plan]
LOCK_POLL_SECONDS = 0.2
LOCK_GRACE_SECONDS = 1.0
MAX_PARALLEL_ACCOUNTS = 8


@dataclass
class AccountResult:
    account: str
    plan: Plan | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    error: PmctlError | None = None
    snapshot: Snapshot | None = None
    skipped: str | None = None
    duration: float = 0.0


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


@dataclass(frozen=True)
class Identity:
    """Whose keys each configured account holds, and which names may therefore act.

    ``unanswered``: names whose broker could not say (keys refused, unreachable). Each
    such name fails on its own; the others are still checked against every binding.
    """

    reported: dict[str, str]
    expected: dict[str, str | None]
    bound: dict[str, str]
    refused: dict[str, str]
    unanswered: dict[str, BrokerError]

    def error_for(self, account: str) -> PmctlError | None:
        if account in self.unanswered:
            return self.unanswered[account]
        if account in self.refused:
            return AccountRefused(self.refused[account])
        return None


def verify_accounts(conn: psycopg.Connection, settings: Settings, brokers: dict, pool) -> Identity:
    """Every configured account is asked (at once), so two names sharing keys are both seen."""
    answers = dict(zip(brokers, pool.map(_account_number, brokers.values())))
    reported = {name: number for name, number in answers.items() if isinstance(number, str)}
    unanswered = {name: error for name, error in answers.items() if isinstance(error, BrokerError)}
    expected = {a.name: a.account_number for a in settings.accounts}
    bound = account_store.bindings(conn)
    return Identity(reported, expected, bound, identity.refusals(reported, expected, bound), unanswered)


def _account_number(broker) -> str | BrokerError:
    try:
        return broker.account().account_number
    except BrokerError as error:
        return error


def bind_first_time(conn: psycopg.Connection, account: str, who: Identity) -> None:
    """Record an account's first binding, just before its first change; a rival binding made meanwhile refuses it.

    An unbound name that could not answer might hold the very keys this one reports (seed 05, the first time):
    unless the configured account number vouches for the keys, the first binding waits for every unbound name.
    """
    if account in who.bound:
        return
    silent = sorted(name for name in who.unanswered if name not in who.bound and name != account)
    if silent and not who.expected.get(account):
        raise AccountRefused(
            f"account {account!r} is not bound to a broker account yet, and {', '.join(map(repr, silent))} could not "
            "say whose keys it holds: the first binding waits until every account answers "
            f"(or set PMCTL_{account.upper()}_ACCOUNT_NUMBER)")
    account_store.bind(conn, account, who.reported[account])
    refused = identity.refusals(who.reported, who.expected, account_store.bindings(conn))
    if account in refused:
        raise AccountRefused(refused[account])


def run(
    settings: Settings, database_url: str, account_name: str | None, decide: Decide, dry_run: bool, operator: str | None,
    evidence: bool = False, wait: float = 0, once_per: float = 0, by: str | None = None,
) -> list[AccountResult]:
    """Accounts are cycled concurrently, each on its own connection and lock.

    ``wait``: seconds to wait for another run's lock on an account before giving up on it (exit 75).
    ``once_per``: skip an account that any run cycled less than this many seconds ago (scale-out).
    ``by``: a monitoring cycle's kind (``check``): each account it cycles records when, and ``check@host``.
    """
    selected = settings.selected(account_name)
    brokers = brokers_for(settings)
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_ACCOUNTS, len(brokers))) as pool:
        try:
            with connection(database_url, autocommit=True) as conn:
                ensure_schema(conn, owned=settings.database_url is None, dry_run=dry_run)
                ledger = find_ledger(conn, settings)
                who = verify_accounts(conn, settings, brokers, pool)
        except psycopg.Error as error:
            raise statement_refused(error) from None

        def one(account: AccountConfig) -> AccountResult:
            if (error := who.error_for(account.name)) is not None:
                return AccountResult(account.name, error=error)
            return _run_account(settings, database_url, account, brokers[account.name], decide, dry_run,
                                actor(operator), evidence, wait, who, once_per, ledger, by)

        return list(pool.map(one, selected))


def cycle_held(conn: psycopg.Connection, settings: Settings, account: AccountConfig, broker, decide: Decide,
               actor_name: str, keys: Identity, by: str | None, symbols: frozenset[str] | None = None,
               ledger=None) -> AccountResult:
    """One cycle of an account whose lock the caller holds on ``conn`` for as long as it runs (``pmctl run``).

    ``symbols``: decide on those symbols' rows and positions only (what a stream update touched). ``ledger``: the
    desk's execution ledger (``find_ledger``, looked for once by the caller). ``by``: record
    the cycle as ``run@host`` (None: not this time; the caller spaces the records out). A lost
    connection is not this cycle's failure but the end of the caller's lock: ``psycopg.OperationalError``
    propagates, and the caller stops acting on the account.
    """
    result = AccountResult(account.name)
    started = time.monotonic()
    try:
        _cycle(conn, result, settings, account, broker, decide, False, actor_name, False, keys, 0, ledger, by,
               symbols)
    except (BrokerError, AccountRefused, DatabaseError) as error:
        result.error = error
    except psycopg.OperationalError:
        raise
    except psycopg.Error as error:
        result.error = statement_refused(error)
    result.duration = time.monotonic() - started
    return result


def host_label(kind: str) -> str:
    """``check@host``, ``run@host``: which kind of cycle, and where it ran."""
    return f"{kind}@{socket.gethostname()}"


def _run_account(
    settings, database_url, account, broker, decide, dry_run, actor_name, evidence, wait, keys: Identity, once_per,
    ledger=None, by=None,
) -> AccountResult:
    result = AccountResult(account.name)
    started = time.monotonic()
    try:
        with connection(database_url, autocommit=True) as conn:
            if not dry_run:
                _lock(conn, account.name, wait)
            _cycle(conn, result, settings, account, broker, decide, dry_run, actor_name, evidence, keys, once_per,
                   ledger, host_label(by) if by else None)
    except (BrokerError, LockHeld, AccountRefused, DatabaseError) as error:
        result.error = error
    except psycopg.Error as error:
        result.error = statement_refused(error)
    result.duration = time.monotonic() - started
    return result


def _cycle(conn, result, settings, account, broker, decide, dry_run, actor_name, evidence, keys, once_per,
           ledger=None, by=None, symbols=None) -> None:
    if not dry_run and once_per and (since := account_store.seconds_since_cycle(conn, account.name)) is not None \
            and since < once_per:
        result.skipped = f"cycled by another run {since:.0f} s ago (--once-per {once_per:g})"
        return
    result.snapshot = read_snapshot(broker, conn, account, settings, evidence, ledger, symbols)
    result.plan = decide(result.snapshot).cooled(result.snapshot.recent_alerts)
    if dry_run:
        return
    bind_first_time(conn, account.name, keys)
    stamp = account_store.cycle_stamp(account.name, by, round_=bool(once_per)) if by or once_per else None
    applier = Applier(result.snapshot, broker, conn, actor_name, stamp)
    result.outcomes = applier.apply(result.plan)
    if stamp and not applier.stamped:
        account_store.record_cycle(conn, stamp)


def _lock(conn: psycopg.Connection, account: str, wait: float) -> None:
    """Hold the account's advisory lock for the cycle: one run per account, whichever machine runs it.

    The lock goes with the session; a run that has just ended may still hold it for the moment the server
    takes to notice its connection closed, so even ``--wait 0`` polls for ``LOCK_GRACE_SECONDS``.
    """
    deadline = time.monotonic() + max(wait, LOCK_GRACE_SECONDS)
    while not locks.try_lock_account(conn, account):
        if time.monotonic() >= deadline:
            waited = f" (waited {wait:g} s)" if wait else ""
            raise LockHeld(f"another pmctl run holds account {account}{waited}")
        time.sleep(LOCK_POLL_SECONDS)
