"""The metrics file as Prometheus reads it: real counters carried from run to run, the documented names only,
a corrupt previous file replaced, world-readable whatever cron's umask."""

import os
from datetime import timedelta
from decimal import Decimal

from prometheus_client.parser import text_string_to_metric_families

from helpers import insert_row

DOCUMENTED = {
    "pmctl_cycle_duration_seconds": "gauge",
    "pmctl_cycle_success": "gauge",
    "pmctl_last_success_timestamp_seconds": "gauge",
    "pmctl_positions_open": "gauge",
    "pmctl_exits_total": "counter",
    "pmctl_orders_failed_total": "counter",
}


def read(path) -> dict[tuple[str, tuple], float]:
    """Every sample as Prometheus's own parser reads the file, checking the names and types on the way."""
    samples = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            assert DOCUMENTED[sample.name] == family.type, sample.name
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def exits(samples, account: str, reason: str) -> float:
    return samples[("pmctl_exits_total", (("account", account), ("reason", reason)))]


def failed_orders(samples, account: str) -> float:
    return samples[("pmctl_orders_failed_total", (("account", account),))]


def stop_hit(state, database_url, symbol: str) -> None:
    state.set_position("a", symbol, Decimal("10"), Decimal("100"))
    state.set_price(symbol, Decimal("70"))
    insert_row(database_url, ticker=symbol, quantity=10, entry_price=Decimal("100"), stop_loss=Decimal("80"))


def test_counters_exist_from_the_first_cycle_and_carry_over_from_run_to_run(desk, state, database_url, tmp_path,
                                                                            noon):
    metrics = tmp_path / "pmctl.prom"
    assert desk("check", "--metrics-file", str(metrics)).exit_code == 0
    first = read(metrics)
    assert {name for name, _ in first} == set(DOCUMENTED)
    assert exits(first, "a", "stop_loss") == 0 and exits(first, "b", "take_profit") == 0
    assert failed_orders(first, "a") == 0 and failed_orders(first, "b") == 0

    stop_hit(state, database_url, "AMD")
    assert desk("check", "--metrics-file", str(metrics)).exit_code == 0
    assert exits(read(metrics), "a", "stop_loss") == 1

    stop_hit(state, database_url, "QCOM")
    state.inject_fault("/v2/positions/QCOM", "error", method="DELETE", status=403, message="insufficient qty available")
    assert desk("check", "-a", "a", "--metrics-file", str(metrics)).exit_code == 1
    third = read(metrics)
    assert exits(third, "a", "stop_loss") == 1 and failed_orders(third, "a") == 1
    assert exits(third, "b", "stop_loss") == 0 and failed_orders(third, "b") == 0

    state.set_clock(timestamp=noon + timedelta(minutes=2))
    assert desk("check", "--metrics-file", str(metrics)).exit_code == 0
    fourth = read(metrics)
    assert exits(fourth, "a", "stop_loss") == 2 and failed_orders(fourth, "a") == 1

    assert desk("check", "--metrics-file", str(metrics)).exit_code == 0
    quiet = read(metrics)
    assert exits(quiet, "a", "stop_loss") == 2 and failed_orders(quiet, "a") == 1
    assert quiet[("pmctl_positions_open", (("account", "a"),))] == 0


def test_the_file_holds_the_documented_names_and_no_created_series(desk, state, database_url, tmp_path):
    metrics = tmp_path / "pmctl.prom"
    stop_hit(state, database_url, "AMD")
    assert desk("check", "--metrics-file", str(metrics)).exit_code == 0
    text = metrics.read_text()
    assert "_created" not in text
    assert {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")} == set(DOCUMENTED)
    assert 'pmctl_exits_total{account="a",reason="stop_loss"} 1' in text


def test_a_corrupt_previous_file_is_replaced_and_the_cycle_goes_on(desk, state, database_url, tmp_path):
    metrics = tmp_path / "pmctl.prom"
    metrics.write_bytes(b'\xff\xfepmctl_exits_total{account="a" garbage\n')
    stop_hit(state, database_url, "AMD")
    result = desk("check", "--metrics-file", str(metrics))
    assert result.exit_code == 0
    assert f"pmctl: warning: metrics file {metrics} is not readable as Prometheus text, replacing it" in result.stderr
    assert exits(read(metrics), "a", "stop_loss") == 1

    metrics.write_text("pmctl_exits_total{account=\"a\",reason=\"stop_loss\"} not-a-number\n")
    assert desk("check", "--metrics-file", str(metrics)).exit_code == 0
    assert exits(read(metrics), "a", "stop_loss") == 0


def test_the_file_is_world_readable_under_a_strict_umask(desk, tmp_path):
    metrics = tmp_path / "pmctl.prom"
    previous = os.umask(0o077)
    try:
        assert desk("check", "--metrics-file", str(metrics)).exit_code == 0
    finally:
        os.umask(previous)
    assert metrics.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pmctl.prom")] == []
