"""The shell's one entry called from Python, as a daemon or a script would call it: the same cycle the CLI runs,
against the emulator and real PostgreSQL, reported as a value, with no Typer in between."""

from datetime import timedelta
from decimal import Decimal
from functools import partial

from prometheus_client.parser import text_string_to_metric_families

from helpers import fetch_events, fetch_rows, insert_row
from pmctl.config import load_settings
from pmctl.core.check import plan_check
from pmctl.core.plan import Close, MarkClosed
from pmctl.core.reconcile import plan_reconcile
from pmctl.core.vocabulary import AlertKind, FindingKind, Reason
from pmctl.errors import DatabaseError
from pmctl.exit_codes import ExitCode
from pmctl.shell.cycle import Request, run_cycle


def settings_for(desk_env, database_url, tmp_path):
    return load_settings({**desk_env, "PMCTL_DATABASE_URL": database_url}, default_home=tmp_path)


def samples(path) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(path.read_text()) for s in family.samples}


def test_a_python_caller_runs_check_and_gets_plans_outcomes_notices_and_the_exit_code(desk, desk_env, state,
                                                                                       database_url, tmp_path):
    state.set_position("a", "AMD", Decimal("10"), Decimal("100"))
    state.set_price("AMD", Decimal("70"))
    row = insert_row(database_url, ticker="AMD", quantity=10, entry_price=Decimal("100"), stop_loss=Decimal("80"))
    settings = settings_for(desk_env, database_url, tmp_path)

    dry = run_cycle(settings, database_url, "robot", Request(plan_check, dry_run=True))
    assert dry.exit_code == ExitCode.PENDING and dry.error is None
    [close] = dry.account("a").plan.of(Close)
    assert (close.row_id, close.symbol, close.reason) == (row, "AMD", Reason.STOP_LOSS)
    assert dry.account("a").outcomes == [] and state.account("a").orders == []

    metrics = tmp_path / "pmctl.prom"
    done = run_cycle(settings, database_url, "robot", Request(plan_check, metrics_file=metrics))
    assert done.exit_code == ExitCode.OK and done.error is None
    assert [r.account for r in done.accounts] == ["a", "b"]
    [sent] = [o for o in done.account("a").outcomes if isinstance(o.action, Close)]
    assert sent.ok and "filled 10" in sent.result
    assert [(n.kind, n.account, n.symbol) for n in done.notices] == [(AlertKind.EXIT_TRIGGERED, "a", "AMD")]
    assert [(o.symbol, o.side, o.qty) for o in state.account("a").orders] == [("AMD", "sell", Decimal("10"))]
    assert fetch_rows(database_url, f"id = {row}")[0]["status"] == "closed"
    assert {e["actor"] for e in fetch_events(database_url)} == {"robot"}
    assert samples(metrics)[("pmctl_exits_total", (("account", "a"), ("reason", "stop_loss")))] == 1


def test_reconcile_reports_its_findings_in_the_plan_and_checks_afterwards(desk, desk_env, state, database_url,
                                                                          tmp_path, noon):
    phantom = insert_row(database_url, ticker="QQQ", quantity=5, entry_price=Decimal("500"),
                         entry_time=noon - timedelta(hours=3))
    settings = settings_for(desk_env, database_url, tmp_path)
    request = Request(partial(plan_reconcile, cover_shorts=False), "a", evidence=True, verify=True)

    report = run_cycle(settings, database_url, None, request)
    assert report.exit_code == ExitCode.OK
    result = report.account("a")
    assert [type(o.action) for o in result.outcomes] == [MarkClosed] and result.outcomes[0].ok
    assert result.plan.findings == () and not result.plan.has_changes
    again = run_cycle(settings, database_url, None, Request(request.decide, "a", dry_run=True, evidence=True))
    assert again.account("a").plan.findings == ()
    assert fetch_rows(database_url, f"id = {phantom}")[0]["close_reason"] == Reason.PHANTOM

    insert_row(database_url, ticker="IWM", quantity=5, entry_price=Decimal("200"), entry_time=noon - timedelta(hours=3))
    found = run_cycle(settings, database_url, None, Request(request.decide, "a", dry_run=True, evidence=True))
    assert [(f.kind, f.symbol) for f in found.account("a").plan.findings] == [(FindingKind.PHANTOM, "IWM")]
    assert found.exit_code == ExitCode.PENDING


def test_a_database_that_cannot_be_reached_is_the_reports_error_with_metrics_for_every_account(desk_env, tmp_path):
    unreachable = "postgresql://pmctl@127.0.0.1:1/pmctl"
    settings = settings_for(desk_env, unreachable, tmp_path)
    metrics = tmp_path / "pmctl.prom"

    report = run_cycle(settings, unreachable, None, Request(plan_check, metrics_file=metrics))
    assert isinstance(report.error, DatabaseError) and "cannot connect" in str(report.error)
    assert report.exit_code == ExitCode.FAILURE and report.accounts == ()
    assert [(n.kind, n.account) for n in report.notices] == [(AlertKind.CYCLE_FAILED, "a"), (AlertKind.CYCLE_FAILED, "b")]
    written = samples(metrics)
    assert written[("pmctl_cycle_success", (("account", "a"),))] == 0
    assert written[("pmctl_cycle_success", (("account", "b"),))] == 0
