"""What a command runs against: settings from the environment and a database URL.

Loaded on first use by each command, not in the app callback, so that
``pmctl COMMAND --help`` works even while a setting is wrong.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import typer

from pmctl.config import Settings, load_settings
from pmctl.errors import ConfigError


@dataclass
class Environment:
    env_file: Path | None
    operator: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _database_url: str | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from pmctl.shell.policy_file import load_policy

            settings = load_settings(_variables(self.env_file), default_home=_default_home())
            policy = load_policy(settings.policy_file, settings.policy.env_defaults, env_file=self.env_file)
            self._settings = replace(settings, policy=policy)
        return self._settings

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


    @contextmanager
    def database(self) -> Iterator:
        """A connection for commands that only read or edit rows: the schema must be current, nothing migrates."""
        from pmctl.shell.database import ensure_schema
        from pmctl.store.connection import connection

        with connection(self.database_url, autocommit=True) as conn:
            ensure_schema(conn, owned=self.settings.database_url is None, dry_run=True)
            yield conn


def environment(ctx: typer.Context) -> Environment:
    return ctx.find_root().obj


def _variables(env_file: Path | None) -> dict[str, str]:
    """The process environment over the ``.env`` file: what cron or the shell sets wins."""
    from dotenv import dotenv_values

    if env_file is not None:
        if not env_file.is_file():
            raise ConfigError(f"--env-file {env_file}: no such file")
        file_values = dotenv_values(env_file)
    elif Path(".env").is_file():
        file_values = dotenv_values(".env")
    else:
        file_values = {}
    merged = {key: value for key, value in file_values.items() if value is not None}
    merged.update(os.environ)
    return merged


def _default_home() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("pmctl", appauthor=False))
