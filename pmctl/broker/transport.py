"""Timeouts and retries around alpaca-py's HTTP session.

alpaca-py sets no timeout (a hung broker would hang cron) and resends any
request, orders included, after a fixed 3 s on 429 and 504. pmctl turns the
SDK's retry off and owns the policy: reads are retried with jittered
exponential backoff inside a bounded total time; order submissions are sent
once, and an unclear outcome is resolved by the order's client order id.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity
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
    """How hard a read is tried: the attempts bound what a hung broker costs (about attempts x the timeout)."""

    attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 2.0


class Retryable(Exception):
    """Raised by a read's wrapper for a failure worth trying again, carrying the final error to raise."""

    def __init__(self, final: Exception):
        super().__init__(str(final))
        self.final = final


def with_retries(call: Callable[[], T], policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep) -> T:
    """Only a ``Retryable`` failure is tried again. The waits are "full jitter" (uniform up to base x 2^n,
    capped) so that accounts cycled at once do not retry in step; the last failure's own error is raised."""
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(Retryable),
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=tenacity.wait_random_exponential(multiplier=policy.base_delay, max=policy.max_delay),
        sleep=sleep,
        reraise=True,
    )
    try:
        return retrying(call)
    except Retryable as failure:
        raise failure.final from None
