"""Timeouts and retries around alpaca-py's HTTP session.

alpaca-py sets no timeout (a hung broker would hang cron) and resends any
request, orders included, after a fixed 3 s on 429 and 504. pmctl turns the
SDK's retry off and owns the policy: reads are retried with jittered
exponential backoff inside a bounded total time; order submissions are sent
once, and an unclear outcome is resolved by the order's client order id.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from requests.adapters import HTTPAdapter

T = TypeVar("T")


class TimeoutAdapter(HTTPAdapter):
    """Gives every request the configured timeout unless it names its own."""

    def __init__(self, timeout: float):
        super().__init__()
        self._timeout = timeout

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def configure(client, timeout: float) -> None:
    """Bound every request of an alpaca-py REST client and switch off its own resending."""
    adapter = TimeoutAdapter(timeout)
    client._session.mount("http://", adapter)
    client._session.mount("https://", adapter)
    client._retry = 0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 2.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter backoff: a random wait up to base x 2^attempt, capped."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


class Retryable(Exception):
    """Raised by a read's wrapper for a failure worth trying again, carrying the final error to raise."""

    def __init__(self, final: Exception):
        super().__init__(str(final))
        self.final = final


def with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    rng = rng or random.Random()
    attempt = 0
    while True:
        try:
            return call()
        except Retryable as failure:
            attempt += 1
            if attempt >= policy.attempts:
                raise failure.final from None
            sleep(policy.delay(attempt - 1, rng))
