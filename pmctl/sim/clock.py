"""Market clock and calendar, controllable so tests can freeze time and open/close the market."""

import time
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta, timezone

from pmctl.core.market import MARKET_ZONE, aware_utc, market_date

DEFAULT_OPEN = dtime(9, 30)
DEFAULT_CLOSE = dtime(16, 0)


def parse_time(text: str) -> datetime:
    return aware_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def iso(dt: datetime) -> str:
    return aware_utc(dt).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Session:
    day: date
    open: dtime
    close: dtime

    def opens_at(self) -> datetime:
        return aware_utc(datetime.combine(self.day, self.open, MARKET_ZONE))

    def closes_at(self) -> datetime:
        return aware_utc(datetime.combine(self.day, self.close, MARKET_ZONE))


class Calendar:
    """Weekday 09:30-16:00 New York sessions unless explicit sessions are given.

    Explicit sessions are the whole calendar (a missing weekday is a holiday), which
    is how an operator rehearses a half day or a holiday.
    """

    def __init__(self, sessions: list[Session] | None = None):
        self._explicit = {s.day: s for s in sessions} if sessions else None

    def session(self, day: date) -> Session | None:
        if self._explicit is not None:
            return self._explicit.get(day)
        if day.weekday() >= 5:
            return None
        return Session(day, DEFAULT_OPEN, DEFAULT_CLOSE)

    def sessions(self, start: date, end: date) -> list[Session]:
        out, day = [], start
        while day <= end:
            s = self.session(day)
            if s:
                out.append(s)
            day += timedelta(days=1)
        return out

    def is_open_at(self, at: datetime) -> bool:
        s = self.session(market_date(at))
        return bool(s and s.opens_at() <= at < s.closes_at())

    def next_open(self, at: datetime) -> datetime:
        return self._next(at, Session.opens_at)

    def next_close(self, at: datetime) -> datetime:
        return self._next(at, Session.closes_at)

    def _next(self, at: datetime, edge) -> datetime:
        day = market_date(at)
        for s in self.sessions(day, day + timedelta(days=400)):
            if edge(s) > at:
                return edge(s)
        raise ValueError(f"calendar has no session after {iso(at)}")


class SimClock:
    """Runs on in real time from the last set timestamp unless frozen.

    is_open is an operator switch, not derived from the calendar, so a test can open
    the market at any timestamp; next_open/next_close follow the calendar unless pinned.
    """

    def __init__(self, calendar: Calendar, timestamp: datetime | None = None,
                 is_open: bool | None = None, frozen: bool = False):
        self.calendar = calendar
        self._base = aware_utc(timestamp) if timestamp else datetime.now(timezone.utc)
        self._anchor = time.monotonic()
        self.frozen = frozen
        self.is_open = calendar.is_open_at(self._base) if is_open is None else is_open
        self.pinned_next_open: datetime | None = None
        self.pinned_next_close: datetime | None = None

    def now(self) -> datetime:
        if self.frozen:
            return self._base
        return self._base + timedelta(seconds=time.monotonic() - self._anchor)

    def set_timestamp(self, timestamp: datetime) -> None:
        self._base = aware_utc(timestamp)
        self._anchor = time.monotonic()

    def freeze(self, frozen: bool = True) -> None:
        self.set_timestamp(self.now())
        self.frozen = frozen

    def next_open(self) -> datetime:
        return self.pinned_next_open or self.calendar.next_open(self.now())

    def next_close(self) -> datetime:
        return self.pinned_next_close or self.calendar.next_close(self.now())
