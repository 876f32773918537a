"""What a command runs against: settings from the environment and a database URL.

Loaded on first use by each command, not in the app callback, so that
``pmctl COMMAND --help`` works even while a setting is wrong.
"""

import logging
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import typer

from pmctl.errors import ConfigError, typed
from pmctl.config import Settings, load_settings, operator_problem, unknown_variables


@dataclass
class Environment:
    env_file: Path | None
    cli_operator: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _database_url: str | None = field(default=None, repr=False)
    _file_operator: str | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from pmctl.shell.policy_file import load_policy

            variables, sources = _variables(self.env_file)
            settings = load_settings(variables, default_home=_default_home())
            for key, warning in unknown_variables(variables):
                logging.getLogger("pmctl").warning(f"{key}{sources.get(key, '')} {warning}",
                                                   extra={"event": "unknown_setting"})
            self._file_operator = (variables.get("PMCTL_OPERATOR") or "").strip() or None
            if self._file_operator is not None and operator_problem(self._file_operator):
                raise ConfigError(f"PMCTL_OPERATOR={typed(self._file_operator)} "
                                  f"{operator_problem(self._file_operator)}")
            policy = load_policy(settings.policy_file, settings.policy.env_defaults, env_file=self.env_file)
            self._settings = replace(settings, policy=policy)
        return self._settings

    @property
    def operator(self) -> str | None:
        """``--operator``, else PMCTL_OPERATOR from the environment or the env file (Typer reads only the former)."""
        if self.cli_operator is not None:
            return self.cli_operator
        self.settings
        return self._file_operator

    @property
    def database_url(self) -> str:
        """The configured server, or the embedded one started on first use."""
        if self._database_url is None:
            if self.settings.database_url:
                self._database_url = self.settings.database_url
            else:
                from pmctl.store import embedded

                self._database_url = embedded.start(self.settings.home)
        return self._database_url


def environment(ctx: typer.Context) -> Environment:
    return ctx.find_root().obj


def _variables(env_file: Path | None) -> tuple[dict[str, str], dict[str, str]]:
    """The process environment over the ``.env`` file (what cron or the shell sets wins), and where each
    variable that came from the file was read, for warnings."""
    if env_file is not None:
        try:
            found = env_file.is_file()
        except OSError as error:
            raise ConfigError(f"--env-file {typed(str(env_file))}: {error.strerror}") from None
        if not found:
            raise ConfigError(f"--env-file {env_file}: no such file")
        name, file_values = str(env_file), read_env_file(env_file, str(env_file))
    elif Path(".env").is_file():
        name, file_values = ".env", read_env_file(Path(".env"), ".env")
    else:
        name, file_values = "", {}
    merged = {**file_values, **os.environ}
    sources = {key: f" (in {name})" for key in file_values if key not in os.environ}
    return merged, sources


def read_env_file(path: Path, name: str) -> dict[str, str]:
    """The file's settings, or a ConfigError naming its first bad line.

    python-dotenv skips a line it cannot parse with a warning, and the command would then run without that
    setting: a stop-loss default or an account's keys silently missing. The line's text is never quoted, since
    it may hold a key.
    """
    import io

    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{name}: cannot read it ({error.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ConfigError(f"{name} line {line}: not UTF-8 text (byte 0x{data[error.start]:02x}); "
                          "save the file as UTF-8") from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise ConfigError(f"{name} line {_first_line(binding.original)}: {_unparsed(binding.original.string)}")
    return {key: value for key, value in dotenv_values(stream=io.StringIO(text)).items() if value is not None}


def _first_line(original) -> int:
    """dotenv counts a bad statement from the blank lines before it."""
    text = original.string
    return original.line + text[:len(text) - len(text.lstrip())].count("\n")


def _unparsed(statement: str) -> str:
    key = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=", statement)
    if key:
        return f"cannot parse the value of {key.group(1)} (a quote left open, or text after the closing quote?)"
    return "cannot parse this line (want NAME=value, or a # comment)"


def _default_home() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("pmctl", appauthor=False))
