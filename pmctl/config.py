"""Settings, read once from a plain mapping of environment variables.

``load_settings`` is pure: the CLI hands it the process environment merged over
any ``.env`` file, so tests pass dicts and nothing here reads ``os.environ``.
Every value is validated up front, because a typo found halfway through a cycle
is a cycle that has already acted on half the book.
"""

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pmctl.errors import ConfigError, typed
from pmctl.core.policy_values import MINUTES_LIMIT, SESSION_MINUTES
from pmctl.secret import Secret
from pmctl.alerts.model import AlertSettings
from pmctl.alerts.services import parse_urls

if TYPE_CHECKING:
    from pmctl.core.policy import Policy

PAPER_TRADING_URL = "https://paper-api.alpaca.markets"
LIVE_TRADING_URL = "https://api.alpaca.markets"
MARKET_DATA_URL = "https://data.alpaca.markets"
LIVE_TRADING_HOST = "api.alpaca.markets"

#: Upper bounds of the numeric settings: a value past them is a typo, and a huge one would overflow a timer,
#: a date or a database column halfway through a cycle.
MAX_SECONDS = Decimal(300)
MIN_SECONDS = Decimal("0.1")
MINUTES_PER_WEEK = 7 * 24 * 60

#: Every setting pmctl reads; README's configuration table and .env.example name the same ones (a test compares
#: them), and a PMCTL_* variable that is none of these gets a warning naming the closest.
SETTINGS = (
    "PMCTL_DATABASE_URL", "PMCTL_HOME", "PMCTL_ACCOUNTS",
    "PMCTL_STOP_LOSS_PERCENT", "PMCTL_TAKE_PROFIT_PERCENT", "PMCTL_TRAILING_STOP_PERCENT", "PMCTL_MAX_HOLD_MINUTES",
    "PMCTL_DAY_TRADE_CLOSE_MINUTES", "PMCTL_EXPIRATION_LEAD_DAYS", "PMCTL_BROKER_TIMEOUT",
    "PMCTL_RECONCILE_GRACE_SECONDS", "PMCTL_ALERT_COOLDOWN_MINUTES", "PMCTL_OPERATOR",
    "PMCTL_SMTP_HOST", "PMCTL_SMTP_PORT", "PMCTL_SMTP_USER", "PMCTL_SMTP_PASSWORD",
    "PMCTL_ALERT_EMAIL_TO", "PMCTL_ALERT_EMAIL_FROM", "PMCTL_ALERT_WEBHOOK_URL", "PMCTL_ALERT_APPRISE_URLS",
    "PMCTL_ALERT_TIMEOUT", "PMCTL_POLICY_FILE", "PMCTL_EXECUTIONS_SOURCE", "PMCTL_LEDGER_LOOKBACK_HOURS",
)
#: Each configured account's settings, as ``PMCTL_<NAME>_<SUFFIX>``.
ACCOUNT_SETTINGS = ("API_KEY", "SECRET_KEY", "BASE_URL", "DATA_URL", "PAPER", "ACCOUNT_NUMBER", "ADOPT", "STOCK_FEED",
                    "OPTION_FEED")
#: Read by the test suite, never by pmctl: set in a developer's shell, it is no typo.
NOT_SETTINGS = ("PMCTL_TEST_DATABASE_URL",)

_ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
#: A relation as PostgreSQL folds an unquoted name: ``name`` or ``schema.name``.
_RELATION = re.compile(r"^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$")
#: Hours of the ledger a cycle reads back: a trade filled before a long weekend (Friday 15:59 to Tuesday's
#: open is about 90 hours) with pmctl down meanwhile still finds its plan, while an execution whose position
#: was closed before any row took it stops being read within days instead of every cycle forever.
DEFAULT_LEDGER_LOOKBACK_HOURS = 96
MAX_LEDGER_LOOKBACK_HOURS = 24 * 31
#: Alpaca's market-data feeds pmctl may ask for: stocks (``iex`` free, ``sip`` with a subscription) and options
#: (``indicative`` free, ``opra`` with a subscription).
STOCK_FEEDS = ("iex", "sip")
OPTION_FEEDS = ("indicative", "opra")
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
    stock_feed: str = STOCK_FEEDS[0]
    option_feed: str = OPTION_FEEDS[0]


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
    #: The desk's execution ledger: ``PMCTL_EXECUTIONS_SOURCE`` (None: ``dispatch_executions`` where it exists).
    executions_source: str | None = None
    ledger_lookback_hours: int = DEFAULT_LEDGER_LOOKBACK_HOURS

    def account(self, name: str) -> AccountConfig:
        for account in self.accounts:
            if account.name == name:
                return account
        known = ", ".join(a.name for a in self.accounts) or "none configured"
        raise ConfigError(f"unknown account {typed(name)} (PMCTL_ACCOUNTS: {known})")

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
        take_profit_percent=reader.percent("PMCTL_TAKE_PROFIT_PERCENT", upper=Decimal(10000)),
        trailing_stop_percent=reader.percent("PMCTL_TRAILING_STOP_PERCENT"),
        max_hold_minutes=reader.integer("PMCTL_MAX_HOLD_MINUTES", minimum=1, maximum=MINUTES_LIMIT),
        day_trade_close_minutes=reader.integer("PMCTL_DAY_TRADE_CLOSE_MINUTES", minimum=0, maximum=SESSION_MINUTES,
                                               default=5),
        expiration_lead_days=reader.integer("PMCTL_EXPIRATION_LEAD_DAYS", minimum=0, maximum=30, default=1),
    )
    policy_file = reader.text("PMCTL_POLICY_FILE")
    return Settings(
        database_url=database_url,
        home=Path(home_text).expanduser() if home_text else default_home,
        accounts=_accounts(reader),
        rules=rules,
        broker_timeout=reader.seconds("PMCTL_BROKER_TIMEOUT", default=Decimal("10")),
        reconcile_grace_seconds=reader.integer("PMCTL_RECONCILE_GRACE_SECONDS", minimum=0, maximum=86400,
                                               default=120),
        alert_cooldown_minutes=reader.integer("PMCTL_ALERT_COOLDOWN_MINUTES", minimum=0, maximum=MINUTES_PER_WEEK,
                                              default=60),
        alerts=_alerts(reader),
        policy_file=Path(policy_file).expanduser() if policy_file else None,
        policy=_variables_policy(reader, rules),
        executions_source=_relation(reader, "PMCTL_EXECUTIONS_SOURCE"),
        ledger_lookback_hours=reader.integer("PMCTL_LEDGER_LOOKBACK_HOURS", minimum=1,
                                             maximum=MAX_LEDGER_LOOKBACK_HOURS, default=DEFAULT_LEDGER_LOOKBACK_HOURS),
    )


def _relation(reader: "_Reader", key: str) -> str | None:
    """A table or view by the name PostgreSQL gives it unquoted: it is looked up, never spliced into SQL."""
    value = reader.text(key)
    if value is not None and not _RELATION.match(value):
        raise ConfigError(f"{key}={typed(value)} is not a table or view name (lower case, optionally schema.name)")
    return value


def _variables_policy(reader: "_Reader", rules: RuleDefaults) -> "Policy":
    """The policy of the variables alone, which the policy file inherits: each named as its source, and only
    those set, so an unset one leaves the built-in value, and the built-in as its source, in force.
    Imported here, not at the top: ``pmctl --help`` reads no settings."""
    from pmctl.core.exit_plan import POLICY_VARIABLES, policy_of

    return policy_of(rules, frozenset(name for name in POLICY_VARIABLES if reader.text(name) is not None))


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
        smtp_port=reader.integer("PMCTL_SMTP_PORT", minimum=1, maximum=65535, default=587),
        smtp_user=reader.text("PMCTL_SMTP_USER"),
        smtp_password=Secret(password) if password else None,
        email_to=recipients,
        email_from=sender,
        webhook_url=reader.url("PMCTL_ALERT_WEBHOOK_URL"),
        apprise_urls=parse_urls("PMCTL_ALERT_APPRISE_URLS", reader.text("PMCTL_ALERT_APPRISE_URLS")),
        timeout=float(reader.seconds("PMCTL_ALERT_TIMEOUT", default=Decimal("10"))),
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
        stock_feed=reader.choice(prefix + "STOCK_FEED", STOCK_FEEDS),
        option_feed=reader.choice(prefix + "OPTION_FEED", OPTION_FEEDS),
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
            raise ConfigError(f"{key}={typed(value)} is not a number") from None
        if not number.is_finite() or number <= 0:
            raise ConfigError(f"{key}={typed(value)} must be a positive number")
        return number

    def percent(self, key: str, upper: Decimal = Decimal(100)) -> Decimal | None:
        number = self.decimal(key)
        if number is not None and number >= upper:
            raise ConfigError(f"{key}={typed(self.text(key))} must be below {upper} (a percentage of the entry price)")
        return number

    def seconds(self, key: str, default: Decimal) -> Decimal:
        number = self.decimal(key, default)
        if not MIN_SECONDS <= number <= MAX_SECONDS:
            raise ConfigError(f"{key}={typed(self.text(key))} must be between {MIN_SECONDS} and {MAX_SECONDS} seconds")
        return number

    def integer(self, key: str, minimum: int, maximum: int, default: int | None = None) -> int | None:
        value = self.text(key)
        if value is None:
            return default
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            raise ConfigError(f"{key}={typed(value)} is not a whole number")
        digits = value.lstrip("+-").lstrip("0")
        if len(digits) > len(str(maximum)) or int(value) > maximum:
            raise ConfigError(f"{key}={typed(value)} must be at most {maximum}")
        if int(value) < minimum:
            raise ConfigError(f"{key}={typed(value)} must be at least {minimum}")
        return int(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.text(key)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigError(f"{key}={typed(value)} must be true or false")

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        """One of ``allowed`` (the first when unset), in any case."""
        value = self.text(key)
        if value is None:
            return allowed[0]
        if value.lower() not in allowed:
            raise ConfigError(f"{key}={typed(value)} must be {' or '.join(allowed)}")
        return value.lower()

    def url(self, key: str) -> str | None:
        value = self.text(key)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{key}={typed(value)} is not an http(s) URL")
        return value.rstrip("/")


def operator_problem(name: str) -> str | None:
    """Why a name cannot be recorded as who ran pmctl, if it cannot: it goes into every event and every listing."""
    if not 1 <= len(name) <= 64:
        return "must be 1 to 64 characters"
    if not name.isprintable():
        return "must be printable text (no newline, tab or control character)"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "must be UTF-8 text"
    return None


def unknown_variables(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """Each PMCTL_* variable pmctl does not read, with what to say about it: a typo would otherwise silently not apply.

    Per-account variables count as known for the names in PMCTL_ACCOUNTS; one for another name is reported as
    such, since an account left out of the list is as silent as a typo.
    """
    names = [part.strip() for part in (env.get("PMCTL_ACCOUNTS") or "").split(",") if part.strip()]
    known = list(SETTINGS) + [f"PMCTL_{name.upper()}_{suffix}" for name in names for suffix in ACCOUNT_SETTINGS]
    warnings = []
    for key in sorted(env):
        if not key.startswith("PMCTL_") or key in known or key in NOT_SETTINGS:
            continue
        account = re.fullmatch(r"PMCTL_([A-Z][A-Z0-9_]*?)_(" + "|".join(ACCOUNT_SETTINGS) + ")", key)
        if account:
            name, suffix = account.group(1).lower(), account.group(2)
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.8)
            hint = f" (did you mean PMCTL_{close[0].upper()}_{suffix}?)" if close else ""
            listed = ", ".join(names) or "none"
            warnings.append((key, f"is ignored: no account {name!r} in PMCTL_ACCOUNTS ({listed}){hint}"))
            continue
        guess = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
        hint = f" (did you mean {guess[0]}?)" if guess else ""
        warnings.append((key, f"is not a pmctl setting and is ignored{hint}"))
    return warnings
