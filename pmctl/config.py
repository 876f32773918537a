"""Settings, read once from a plain mapping of environment variables.

``load_settings`` is pure: the CLI hands it the process environment merged over
any ``.env`` file, so tests pass dicts and nothing here reads ``os.environ``.
Every value is validated up front, because a typo found halfway through a cycle
is a cycle that has already acted on half the book.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pmctl.errors import ConfigError
from pmctl.secret import Secret
from pmctl.alerts.model import AlertSettings
from pmctl.alerts.services import parse_urls

if TYPE_CHECKING:
    from pmctl.core.policy import Policy

PAPER_TRADING_URL = "https://paper-api.alpaca.markets"
LIVE_TRADING_URL = "https://api.alpaca.markets"
MARKET_DATA_URL = "https://data.alpaca.markets"
LIVE_TRADING_HOST = "api.alpaca.markets"

_ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class AccountConfig:
    name: str
    api_key: Secret
    secret_key: Secret
    base_url: str
    data_url: str
    paper: bool
    account_number: str | None
    adopt: bool


@dataclass(frozen=True)
class RuleDefaults:
    """Exit-rule defaults applied to rows that carry no value of their own."""

    stop_loss_percent: Decimal | None
    take_profit_percent: Decimal | None
    trailing_stop_percent: Decimal | None
    max_hold_minutes: int | None
    day_trade_close_minutes: int
    expiration_lead_days: int


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    home: Path
    accounts: tuple[AccountConfig, ...]
    rules: RuleDefaults
    broker_timeout: Decimal
    reconcile_grace_seconds: int
    alert_cooldown_minutes: int
    alerts: AlertSettings
    #: ``PMCTL_POLICY_FILE``; the policy holds only the variables' values until the CLI has read the file.
    policy_file: Path | None
    policy: "Policy"

    def account(self, name: str) -> AccountConfig:
        for account in self.accounts:
            if account.name == name:
                return account
        known = ", ".join(a.name for a in self.accounts) or "none configured"
        raise ConfigError(f"unknown account {name!r} (PMCTL_ACCOUNTS: {known})")

    def selected(self, name: str | None) -> tuple[AccountConfig, ...]:
        """The accounts a command acts on: one by name, or all of them."""
        if name is not None:
            return (self.account(name),)
        if not self.accounts:
            raise ConfigError("no accounts configured: set PMCTL_ACCOUNTS (e.g. PMCTL_ACCOUNTS=large,tiny)")
        return self.accounts


def load_settings(env: Mapping[str, str], default_home: Path) -> Settings:
    reader = _Reader(env)
    home_text = reader.text("PMCTL_HOME")
    database_url = reader.text("PMCTL_DATABASE_URL")
    if database_url is not None and urlsplit(database_url).scheme not in ("postgresql", "postgres"):
        raise ConfigError(
            "PMCTL_DATABASE_URL must be a postgresql:// URL "
            f"(got one starting {urlsplit(database_url).scheme or 'with no scheme'!r})"
        )
    rules = RuleDefaults(
        stop_loss_percent=reader.percent("PMCTL_STOP_LOSS_PERCENT"),
        take_profit_percent=reader.percent("PMCTL_TAKE_PROFIT_PERCENT", upper=None),
        trailing_stop_percent=reader.percent("PMCTL_TRAILING_STOP_PERCENT"),
        max_hold_minutes=reader.integer("PMCTL_MAX_HOLD_MINUTES", minimum=1),
        day_trade_close_minutes=reader.integer("PMCTL_DAY_TRADE_CLOSE_MINUTES", minimum=0, default=5),
        expiration_lead_days=reader.integer("PMCTL_EXPIRATION_LEAD_DAYS", minimum=0, default=1),
    )
    policy_file = reader.text("PMCTL_POLICY_FILE")
    return Settings(
        database_url=database_url,
        home=Path(home_text).expanduser() if home_text else default_home,
        accounts=_accounts(reader),
        rules=rules,
        broker_timeout=reader.decimal("PMCTL_BROKER_TIMEOUT", default=Decimal("10")),
        reconcile_grace_seconds=reader.integer("PMCTL_RECONCILE_GRACE_SECONDS", minimum=0, default=120),
        alert_cooldown_minutes=reader.integer("PMCTL_ALERT_COOLDOWN_MINUTES", minimum=0, default=60),
        alerts=_alerts(reader),
        policy_file=Path(policy_file).expanduser() if policy_file else None,
        policy=_variables_policy(reader, rules),
    )


def _variables_policy(reader: "_Reader", rules: RuleDefaults) -> "Policy":
    """The policy of the variables alone, which the policy file inherits: each named as its source, and only
    those set, so an unset one leaves the built-in value, and the built-in as its source, in force.
    Imported here, not at the top: ``pmctl --help`` reads no settings."""
    from pmctl.core.policy import ExpiryStep, Policy, Sourced

    given = {
        "stop_loss_percent": ("PMCTL_STOP_LOSS_PERCENT", rules.stop_loss_percent),
        "take_profit_percent": ("PMCTL_TAKE_PROFIT_PERCENT", rules.take_profit_percent),
        "trailing_stop_percent": ("PMCTL_TRAILING_STOP_PERCENT", rules.trailing_stop_percent),
        "max_hold_minutes": ("PMCTL_MAX_HOLD_MINUTES", rules.max_hold_minutes),
        "day_trade_close_minutes": ("PMCTL_DAY_TRADE_CLOSE_MINUTES", rules.day_trade_close_minutes),
        "expiry": ("PMCTL_EXPIRATION_LEAD_DAYS", (ExpiryStep(rules.expiration_lead_days, None),)),
    }
    return Policy.parse({}, env_defaults={
        key: Sourced(value, name) for key, (name, value) in given.items() if reader.text(name) is not None
    })


def _alerts(reader: "_Reader") -> AlertSettings:
    host = reader.text("PMCTL_SMTP_HOST")
    recipients = tuple(part.strip() for part in (reader.text("PMCTL_ALERT_EMAIL_TO") or "").split(",") if part.strip())
    for address in recipients:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+", address):
            raise ConfigError(f"PMCTL_ALERT_EMAIL_TO: {address!r} is not an email address")
    if host and not recipients:
        raise ConfigError("PMCTL_SMTP_HOST is set but PMCTL_ALERT_EMAIL_TO is not: alerts would go nowhere")
    if recipients and not host:
        raise ConfigError("PMCTL_ALERT_EMAIL_TO is set but PMCTL_SMTP_HOST is not")
    sender = reader.text("PMCTL_ALERT_EMAIL_FROM") or "pmctl@localhost"
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", sender):
        raise ConfigError(f"PMCTL_ALERT_EMAIL_FROM={sender!r} is not an email address")
    password = reader.text("PMCTL_SMTP_PASSWORD")
    return AlertSettings(
        smtp_host=host,
        smtp_port=reader.integer("PMCTL_SMTP_PORT", minimum=1, default=587, maximum=65535),
        smtp_user=reader.text("PMCTL_SMTP_USER"),
        smtp_password=Secret(password) if password else None,
        email_to=recipients,
        email_from=sender,
        webhook_url=reader.url("PMCTL_ALERT_WEBHOOK_URL"),
        apprise_urls=parse_urls("PMCTL_ALERT_APPRISE_URLS", reader.text("PMCTL_ALERT_APPRISE_URLS")),
        timeout=float(reader.decimal("PMCTL_ALERT_TIMEOUT", default=Decimal("10"))),
    )


def _accounts(reader: "_Reader") -> tuple[AccountConfig, ...]:
    names_text = reader.text("PMCTL_ACCOUNTS") or ""
    names = [part.strip() for part in names_text.split(",") if part.strip()]
    for position, name in enumerate(names):
        if not _ACCOUNT_NAME.match(name):
            raise ConfigError(
                f"PMCTL_ACCOUNTS: account name {name!r} must be lower case letters, digits or _, "
                "starting with a letter"
            )
        if name in names[:position]:
            raise ConfigError(f"PMCTL_ACCOUNTS: account {name!r} is listed twice")
    return tuple(_account(reader, name) for name in names)


def _account(reader: "_Reader", name: str) -> AccountConfig:
    prefix = f"PMCTL_{name.upper()}_"
    api_key = reader.required_secret(prefix + "API_KEY", name)
    secret_key = reader.required_secret(prefix + "SECRET_KEY", name)
    paper = reader.boolean(prefix + "PAPER", default=True)
    base_url = reader.url(prefix + "BASE_URL") or (PAPER_TRADING_URL if paper else LIVE_TRADING_URL)
    if paper and urlsplit(base_url).hostname == LIVE_TRADING_HOST:
        raise ConfigError(
            f"{prefix}BASE_URL={base_url} is Alpaca's live trading API; "
            f"set {prefix}PAPER=false to trade live on purpose"
        )
    account_number = reader.text(prefix + "ACCOUNT_NUMBER")
    if account_number is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,64}", account_number):
        raise ConfigError(f"{prefix}ACCOUNT_NUMBER={account_number!r} is not an account number")
    return AccountConfig(
        name=name,
        api_key=api_key,
        secret_key=secret_key,
        base_url=base_url,
        data_url=reader.url(prefix + "DATA_URL") or MARKET_DATA_URL,
        paper=paper,
        account_number=account_number,
        adopt=reader.boolean(prefix + "ADOPT", default=True),
    )


class _Reader:
    """Reads one variable at a time and names it, with its value, when it is wrong."""

    def __init__(self, env: Mapping[str, str]):
        self._env = env

    def text(self, key: str) -> str | None:
        value = self._env.get(key)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def required_secret(self, key: str, account: str) -> Secret:
        value = self.text(key)
        if value is None:
            raise ConfigError(f"{key} is not set (account {account!r} is listed in PMCTL_ACCOUNTS)")
        return Secret(value)

    def decimal(self, key: str, default: Decimal | None = None) -> Decimal | None:
        value = self.text(key)
        if value is None:
            return default
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ConfigError(f"{key}={value!r} is not a number") from None
        if not number.is_finite() or number <= 0:
            raise ConfigError(f"{key}={value!r} must be a positive number")
        return number

    def percent(self, key: str, upper: Decimal | None = Decimal(100)) -> Decimal | None:
        number = self.decimal(key)
        if number is not None and upper is not None and number >= upper:
            raise ConfigError(f"{key}={self.text(key)!r} must be below {upper} (a percentage of the entry price)")
        return number

    def integer(self, key: str, minimum: int, default: int | None = None, maximum: int | None = None) -> int | None:
        value = self.text(key)
        if value is None:
            return default
        if not re.fullmatch(r"[+-]?\d+", value):
            raise ConfigError(f"{key}={value!r} is not a whole number")
        number = int(value)
        if number < minimum:
            raise ConfigError(f"{key}={value!r} must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise ConfigError(f"{key}={value!r} must be at most {maximum}")
        return number

    def boolean(self, key: str, default: bool) -> bool:
        value = self.text(key)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigError(f"{key}={value!r} must be true or false")

    def url(self, key: str) -> str | None:
        value = self.text(key)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{key}={value!r} is not an http(s) URL")
        return value.rstrip("/")
