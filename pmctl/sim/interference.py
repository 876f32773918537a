"""What a test does to the broker's answers rather than to its world: faults, hooks, latency, the request log.

The HTTP layer asks ``take_hook`` and ``take_fault`` before it serves each broker
request and logs each answer; the control API and Python tests set them up.
"""

import fnmatch
import threading
from collections.abc import Callable

from pmctl.sim.models import Fault, Hook, RequestRecord, unprocessable

FAULT_KINDS = ("error", "latency", "hang", "lost_answer", "slow_answer")


class Interference:
    """Mixed into ``SimState``: shares its lock, and its clock stamps the request log."""

    def __init__(self, lock: threading.RLock):
        self.lock = lock
        self.faults: list[Fault] = []
        self.hooks: list[Hook] = []
        self.latency = 0.0
        self.requests: list[RequestRecord] = []
        self.stopping = threading.Event()

    def inject_fault(self, path_pattern: str, kind: str, count: int = 1,
                     method: str | None = None, status: int | None = None,
                     seconds: float | None = None, message: str | None = None) -> Fault:
        """Applies to the next `count` requests whose path matches the glob `path_pattern`."""
        if kind not in FAULT_KINDS:
            raise unprocessable(f"fault kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        if count < 1:
            raise unprocessable("fault count must be >= 1")
        fault = Fault(path_pattern, kind, count, method.upper() if method else None,
                      status, seconds, message)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if (fault.method in (None, method.upper())
                        and fnmatch.fnmatchcase(path, fault.path)):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def clear_faults(self) -> None:
        """Faults and hooks alike: the world stops being broken."""
        with self.lock:
            self.faults.clear()
            self.hooks.clear()

    def before_request(self, path_pattern: str, action: Callable[[], object], count: int = 1,
                       method: str | None = None) -> Hook:
        """Run ``action`` just before each of the next `count` broker requests matching the glob is served.

        What a person does at the dashboard between pmctl's read and pmctl's order
        (``lambda: state.close_by_hand("a", "AMD")``) then happens at exactly that
        moment, every run. Python only: an action is a callable.
        """
        if count < 1:
            raise unprocessable("hook count must be >= 1")
        hook = Hook(path_pattern, action, count, method.upper() if method else None)
        with self.lock:
            self.hooks.append(hook)
        return hook

    def take_hook(self, method: str, path: str) -> Hook | None:
        with self.lock:
            for hook in self.hooks:
                if hook.method in (None, method.upper()) and fnmatch.fnmatchcase(path, hook.path):
                    hook.remaining -= 1
                    if hook.remaining == 0:
                        self.hooks.remove(hook)
                    return hook
        return None

    def set_latency(self, seconds: float) -> None:
        if seconds < 0:
            raise unprocessable("latency must be >= 0")
        self.latency = seconds

    def log_request(self, method: str, path: str, account: str | None, status: int,
                    feed: str | None = None) -> None:
        """``feed`` is the market-data feed the request asked for, as given (None: not given)."""
        with self.lock:
            self.requests.append(
                RequestRecord(self.clock.now(), method, path, account, status, feed))

    def reset_requests(self) -> None:
        with self.lock:
            self.requests.clear()
