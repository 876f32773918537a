"""Logs on stderr for cron: human lines by default, one JSON object per line for log shippers."""

import json
import logging
import sys
from datetime import datetime, timezone

LOGGER = "pmctl"
FIELDS = ("account", "position", "symbol", "event")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        entry.update({field: getattr(record, field) for field in FIELDS if getattr(record, field, None) is not None})
        return json.dumps(entry, default=str)


class Human(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        where = f"[{record.account}] " if getattr(record, "account", None) else ""
        return f"pmctl: {record.levelname.lower()}: {where}{record.getMessage()}"


class Stderr(logging.StreamHandler):
    """Whatever ``sys.stderr`` is when a record is written: the shell journals a run while the spinner
    (``pmctl.cli.progress``) holds stderr, and a line written through the spinner's stand-in lands above it."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        """``StreamHandler`` assigns its stream; this handler always writes to the current stderr instead."""


def configure(log_format: str, verbosity: int) -> None:
    """-q: errors only; default: warnings; -v: every action; -vv: debug."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(max(-1, min(verbosity, 2)), logging.DEBUG)
    handler = Stderr()
    handler.setFormatter(JsonLines() if log_format == "json" else Human())
    for name in (LOGGER, "pmctl.alerts"):
        logger = logging.getLogger(name)
        logger.handlers = [handler] if name == LOGGER else []
        logger.setLevel(level)
        logger.propagate = name != LOGGER


def is_json() -> bool:
    handlers = logging.getLogger(LOGGER).handlers
    return bool(handlers) and isinstance(handlers[0].formatter, JsonLines)
