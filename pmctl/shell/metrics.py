"""Prometheus text-format metrics for node_exporter's textfile collector, written after each cycle.

Each cron run is a new process, so the previous file is the memory: counters
(exits, failed orders) and the gauges of accounts this run did not cycle carry
over from it. A counter only ever grows, and it is in every file from the first
cycle of its account on, at zero until something happens, so ``rate()`` and
``increase()`` see the first exit too. A previous file that cannot be parsed is
replaced, with a warning, rather than ending the run.
"""

import logging
import math
import os
import tempfile
from collections import Counter as Tally
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from pmctl.core.plan import Adopt, Close, MarkClosed
from pmctl.core.vocabulary import OutcomeStatus, Reason

log = logging.getLogger("pmctl")

GAUGES = {
    "pmctl_cycle_duration_seconds": "Seconds the last cycle of the account took.",
    "pmctl_cycle_success": "1 if the last cycle of the account succeeded, else 0.",
    "pmctl_last_success_timestamp_seconds": "Unix time of the account's last successful cycle.",
    "pmctl_positions_open": "Open rows of the account after the last cycle.",
}
COUNTERS = {
    "pmctl_exits_total": ("Closes sent by pmctl, by reason.", ("account", "reason")),
    "pmctl_orders_failed_total": ("Close orders the broker refused or did not answer.", ("account",)),
}
EXIT_REASONS = tuple(reason for reason in Reason if reason.sent_by_pmctl)
"""The reasons each cycled account has a series for, at zero before its first such exit."""

# A ``_created`` sample would carry this run's start, not the counter's, and the collector would export it
# as a gauge of its own; the file holds exactly the documented names.
disable_created_metrics()


def write(path: Path, results: list, now_epoch: float) -> None:
    """Replace the file atomically, world-readable (0644): node_exporter runs as its own user."""
    registry = CollectorRegistry()
    gauges = {name: Gauge(name, text, ("account",), registry=registry) for name, text in GAUGES.items()}
    counters = {name: Counter(name, text, labels, registry=registry) for name, (text, labels) in COUNTERS.items()}
    for (name, labels), value in _previous(path).items():
        names = tuple(label for label, _ in labels)
        if name in gauges and names == ("account",):
            gauges[name].labels(**dict(labels)).set(value)
        elif name in counters and names == tuple(sorted(COUNTERS[name][1])) and value >= 0:
            counters[name].labels(**dict(labels)).inc(value)
    for result in results:
        if result.skipped is None:
            _record(result, gauges, counters, now_epoch)
    _replace(path, generate_latest(registry))


def _record(result, gauges: dict[str, Gauge], counters: dict[str, Counter], now_epoch: float) -> None:
    account = result.account
    ok = result.error is None and not any(o.failed for o in result.outcomes)
    gauges["pmctl_cycle_duration_seconds"].labels(account).set(round(result.duration, 3))
    gauges["pmctl_cycle_success"].labels(account).set(1 if ok else 0)
    if ok:
        gauges["pmctl_last_success_timestamp_seconds"].labels(account).set(round(now_epoch, 3))
    if result.snapshot is not None:
        gauges["pmctl_positions_open"].labels(account).set(_open_after(result))
    closes = [o for o in result.outcomes if isinstance(o.action, Close)]
    exits = Tally(o.action.reason for o in closes if o.ok)
    for reason in dict.fromkeys((*EXIT_REASONS, *exits)):
        counters["pmctl_exits_total"].labels(account, reason).inc(exits[reason])
    counters["pmctl_orders_failed_total"].labels(account).inc(sum(1 for o in closes if not o.ok))


def _open_after(result) -> int:
    done = [o.action for o in result.outcomes if o.status == OutcomeStatus.DONE]
    adopted = sum(1 for action in done if isinstance(action, Adopt))
    closed = sum(1 for action in done if isinstance(action, (MarkClosed, Close)))
    return len(result.snapshot.rows) + adopted - closed


def _previous(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Samples by their exact name (``pmctl_exits_total``), so that nothing else, ``_created`` included, is
    carried over; empty when there is no file or it is not the text format."""
    try:
        text = path.read_text()
        samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning(f"metrics file {path} is not readable as Prometheus text, replacing it: {error}")
        return {}
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in samples if math.isfinite(s.value)}


def _replace(path: Path, text: bytes) -> None:
    """Not ``write_to_textfile``: it creates the file with the process umask (cron's may be 077) and a
    chmod after its rename would leave a moment when the collector cannot read the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
        handle.write(text)
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, path)
