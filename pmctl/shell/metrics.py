"""Prometheus text-format metrics for node_exporter's textfile collector, written after each cycle.

Counters (exits, failed orders) and the last success time carry over from the
previous file, so they survive between cron runs; the file is replaced
atomically, so the collector never reads half of it.
"""

import os
import re
import tempfile
from collections import Counter
from pathlib import Path

from pmctl.core.plan import Adopt, Close, MarkClosed
from pmctl.shell.run import failed

_SAMPLE = re.compile(r'^(?P<name>[a-z_]+)\{(?P<labels>[^}]*)\} (?P<value>\S+)$')
_HELP = {
    "pmctl_cycle_duration_seconds": ("gauge", "Seconds the last cycle of the account took."),
    "pmctl_cycle_success": ("gauge", "1 if the last cycle of the account succeeded, else 0."),
    "pmctl_last_success_timestamp_seconds": ("gauge", "Unix time of the account's last successful cycle."),
    "pmctl_positions_open": ("gauge", "Open rows of the account after the last cycle."),
    "pmctl_exits_total": ("counter", "Closes sent by pmctl, by reason."),
    "pmctl_orders_failed_total": ("counter", "Close orders the broker refused or did not answer."),
}


def write(path: Path, results: list, now_epoch: float) -> None:
    """World-readable (0644), like any textfile-collector file: node_exporter runs as its own user."""
    previous = _read(path)
    text = render(previous, results, now_epoch)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
        handle.write(text)
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, path)


def render(previous: dict[tuple[str, str], float], results: list, now_epoch: float) -> str:
    samples = dict(previous)
    for result in results:
        if result.skipped is not None:
            continue
        account = f'account="{result.account}"'
        ok = result.error is None and not any(failed(o) for o in result.outcomes)
        samples[("pmctl_cycle_duration_seconds", account)] = round(result.duration, 3)
        samples[("pmctl_cycle_success", account)] = 1 if ok else 0
        if ok:
            samples[("pmctl_last_success_timestamp_seconds", account)] = round(now_epoch, 3)
        if result.snapshot is not None:
            samples[("pmctl_positions_open", account)] = _open_after(result)
        exits = Counter(o.action.reason for o in result.outcomes if isinstance(o.action, Close) and o.ok)
        for reason, count in exits.items():
            key = ("pmctl_exits_total", f'{account},reason="{reason}"')
            samples[key] = samples.get(key, 0) + count
        refused = sum(1 for o in result.outcomes if isinstance(o.action, Close) and not o.ok)
        key = ("pmctl_orders_failed_total", account)
        samples[key] = samples.get(key, 0) + refused
    return _text(samples)


def _open_after(result) -> int:
    adopted = sum(1 for o in result.outcomes if isinstance(o.action, Adopt) and o.result.startswith("adopted"))
    closed = sum(1 for o in result.outcomes if isinstance(o.action, MarkClosed) and o.ok)
    filled = sum(1 for o in result.outcomes if isinstance(o.action, Close) and o.result.endswith("closed"))
    return len(result.snapshot.rows) + adopted - closed - filled


def _text(samples: dict[tuple[str, str], float]) -> str:
    lines = []
    for name, (kind, text) in _HELP.items():
        mine = sorted((labels, value) for (metric, labels), value in samples.items() if metric == name)
        if not mine:
            continue
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        lines += [f"{name}{{{labels}}} {_number(value)}" for labels, value in mine]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _read(path: Path) -> dict[tuple[str, str], float]:
    try:
        text = path.read_text()
    except (FileNotFoundError, OSError):
        return {}
    samples = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and match["name"] in _HELP:
            try:
                samples[(match["name"], match["labels"])] = float(match["value"])
            except ValueError:
                continue
    return samples
