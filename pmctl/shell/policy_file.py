"""Reads the exit policy file, ``pmctl.toml``, once at start-up.

The file lives beside the ``.env`` in use, because a desk keeps its settings
together and cron runs pmctl from wherever it likes: ``--env-file``'s directory,
else the working directory. ``PMCTL_POLICY_FILE`` names another file, and a file
named on purpose must exist; the default one may be absent, which leaves the
``PMCTL_*`` values and pmctl's built-ins in force.
"""

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pmctl.core.policy import Policy, Sourced
from pmctl.errors import ConfigError

DEFAULT_NAME = "pmctl.toml"

_WHERE = re.compile(r"^(?P<message>.*) \(at (line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$")


def default_policy_path(env_file: Path | None) -> Path:
    """``pmctl.toml`` beside the ``--env-file``, else in the working directory (beside the ``.env`` read there)."""
    return (env_file.parent if env_file is not None else Path()) / DEFAULT_NAME


def load_policy(path: Path | None, env_defaults: Mapping[str, Sourced], env_file: Path | None = None) -> Policy:
    """The policy in ``path`` (``PMCTL_POLICY_FILE``), or in the default file if there is one, over ``env_defaults``.

    Every way the file can be wrong is a ``ConfigError`` (exit 2) naming the file:
    missing when named, unreadable, not UTF-8, not TOML (with line and column), or
    a key the policy refuses.
    """
    if path is None:
        path = default_policy_path(env_file)
        if not path.exists():
            return Policy.parse({}, origin=str(path), env_defaults=env_defaults)
    elif not path.exists():
        raise ConfigError(f"PMCTL_POLICY_FILE={path}: no such file")
    return Policy.parse(_document(path), origin=str(path), env_defaults=env_defaults)


def _document(path: Path) -> dict:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a policy file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(f"{path}, line {line}: not UTF-8 text (byte 0x{data[error.start]:02x})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = _WHERE.match(str(error))
        if found is None:
            raise ConfigError(f"{path}: not valid TOML: {error}") from None
        line, column = (found["line"], found["column"]) if found["line"] else _end(text)
        raise ConfigError(f"{path}, line {line}, column {column}: not valid TOML: {found['message']}") from None


def _end(text: str) -> tuple[int, int]:
    """Where tomllib's "at end of document" is, as a line and column an editor can go to."""
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1
