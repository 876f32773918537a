"""What an alert is and where alerts go."""

from dataclasses import dataclass
from datetime import datetime

from pmctl.core.vocabulary import Severity
from pmctl.secret import Secret

SEVERITIES = tuple(Severity)
"""Least to most urgent; messages lead with the worst one present."""


@dataclass(frozen=True)
class Notice:
    """One thing a human should look at.

    Checked on construction because a misspelt severity would otherwise sort
    as harmless, and a naive time would be read as UTC when it may not be.
    """

    kind: str
    account: str
    severity: str
    text: str
    symbol: str = ""
    row_id: int | None = None
    at: datetime | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)} (got {self.severity!r})")
        if self.at is not None and self.at.utcoffset() is None:
            raise ValueError("Notice.at must be timezone-aware")

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go. Every field has a default so that ``AlertSettings()`` sends nothing.

    Email goes out only with a host and at least one recipient; the webhook only
    with a URL. A webhook URL usually carries its own token (Slack's does), so
    it is never written into an error line either; apprise URLs always do, so
    they are held as ``Secret``.
    """

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: Secret | None = None
    email_to: tuple[str, ...] = ()
    email_from: str = "pmctl@localhost"
    webhook_url: str | None = None
    apprise_urls: tuple[Secret, ...] = ()
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if isinstance(self.email_to, str):
            raise TypeError("email_to must be a tuple of addresses, not one string")
        if not all(isinstance(url, Secret) for url in self.apprise_urls):
            raise TypeError("apprise_urls must be a tuple of Secret: the URLs carry tokens")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be positive (got {self.timeout!r}): zero makes every socket non-blocking")

    @property
    def sends_email(self) -> bool:
        return bool(self.smtp_host) and bool(self.email_to)

    @property
    def sends_webhook(self) -> bool:
        return bool(self.webhook_url)

    @property
    def channels(self) -> int:
        """Where one alert goes: email, the webhook and each apprise URL count one each."""
        return int(self.sends_email) + int(self.sends_webhook) + len(self.apprise_urls)

    @property
    def enabled(self) -> bool:
        return self.channels > 0
