"""The exit policy: how the desk means to leave a position, by strategy and instrument, and why each value holds.

Parsed from the plain mapping ``tomllib`` returns for ``pmctl.toml`` and refused
whole, one line naming the key, at start-up: a typo found halfway through a
cycle is a cycle that has already acted on half the book.

For a ``(strategy, instrument)`` each key's value comes from the first of

1. ``[profiles.<strategy>.<instrument>]``
2. ``[profiles.<strategy>]`` (both instruments)
3. ``[defaults.<instrument>]``
4. ``[defaults]`` (both instruments)
5. the ``PMCTL_*`` variable that set it before the file existed (``env_defaults``)
6. pmctl's built-in value

that sets it, and the resolved profile says which, so a rule that fires can
name its source. A strategy with no profile of its own gets layers 3 to 6: the
defaults. ``[defaults.<instrument>]`` exists because one stop for stocks and
options is wrong for both, and without it a strategy the file does not name
would get one. Two keys skip layers where they cannot mean anything: an
option-only key (``expiry``, ``expiry_deadline``) is always the built-in "none"
for stocks, and ``day_trade_close_minutes`` reaches into the defaults, the
variable and the built-in 5 only for ``day_trade``, so another strategy closes
before the bell only where its own profile says so.

Every combination a file can produce is resolved once, when it is parsed, so
``resolve`` is a dictionary look-up for each of thousands of rows per cycle.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from types import MappingProxyType
from typing import NoReturn

from pmctl.core import policy_values as values
from pmctl.core.policy_values import INSTRUMENTS, OPTION, STOCK, ExpiryStep, Refused, ScaleStep
from pmctl.errors import ConfigError

DAY_TRADE = "day_trade"
BUILT_IN = "built-in"
DEFAULTS = "defaults"
PENNY_ALWAYS = ("IWM", "QQQ", "SPY")

_STRATEGY_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class _Key:
    """What a key accepts, and its built-in value for a stock and for an option.

    The built-ins keep today's behaviour where pmctl had one (a row's own
    levels win, a day trade closes 5 minutes before the bell, an option from
    the first session before expiry, as ``PMCTL_EXPIRATION_LEAD_DAYS`` = 1), and
    take the issues' values where they give one (options trigger on the bid or
    ask and close with limits until 15:00 New York on expiration day; stocks on
    the last trade, at market). The quote and walk limits are pmctl's own:
    loose enough that an ordinary book passes, tight enough that a stale print,
    an empty book or a runaway walk does not.
    """

    parse: Callable[[object], object]
    stock: object
    option: object
    options_only: bool = False


_KEYS: dict[str, _Key] = {
    "stop_loss_percent": _Key(values.percent(Decimal(0), _HUNDRED, high_open=True), None, None),
    "take_profit_percent": _Key(values.percent(Decimal(0), values.PERCENT_LIMIT), None, None),
    "trailing_stop_percent": _Key(values.percent(Decimal(0), _HUNDRED, high_open=True), None, None),
    "trailing_starts_at_profit_percent": _Key(values.percent(Decimal(0), values.PERCENT_LIMIT, low_open=False),
                                              Decimal(0), Decimal(0)),
    "min_hold_minutes": _Key(values.whole(0, values.MINUTES_LIMIT, "minutes"), 0, 0),
    "catastrophic_loss_percent": _Key(values.percent(Decimal(0), _HUNDRED, high_open=True), None, None),
    "max_hold_minutes": _Key(values.whole(1, values.MINUTES_LIMIT, "minutes"), None, None),
    "scale_out": _Key(values.scale_out, (), ()),
    "expiry": _Key(values.expiry, (), (ExpiryStep(1, None),), options_only=True),
    "use_trade_levels": _Key(values.flag, True, True),
    "day_trade_close_minutes": _Key(values.whole(0, values.SESSION_MINUTES, "minutes"), 5, 5),
    "trigger": _Key(values.choice(*values.TRIGGERS), "last", "bid_ask"),
    "close_order": _Key(values.choice(*values.CLOSE_ORDERS), "market", "limit"),
    "limit_offset_ticks": _Key(values.whole(0, 100, "ticks"), 0, 0),
    "max_slippage_percent": _Key(values.percent(Decimal(0), _HUNDRED, high_open=True), Decimal(10), Decimal(10)),
    "walk_steps": _Key(values.whole(1, 100, "steps"), 3, 3),
    "walk_interval_seconds": _Key(values.whole(1, 3600, "seconds"), 10, 10),
    "max_quote_age_seconds": _Key(values.whole(1, 86400, "seconds"), 120, 120),
    "max_spread_percent": _Key(values.percent(Decimal(0), Decimal(200), high_open=True), Decimal(5), Decimal(50)),
    "expiry_deadline": _Key(values.new_york_time, None, time(15, 0), options_only=True),
    "protect_at_broker": _Key(values.flag, False, False),
    "protect_with_target": _Key(values.flag, False, False),
    "trail_step_percent": _Key(values.percent(Decimal(0), _HUNDRED, high_open=True), Decimal(1), Decimal(1)),
}

#: Every key a profile may set, in the order ``Resolved.entries`` lists them.
KEYS: tuple[str, ...] = tuple(_KEYS)

_MARKET_KEYS = ("penny_symbols", "non_penny_symbols")
_TOP = (DEFAULTS, "profiles", "market")


@dataclass(frozen=True)
class Sourced:
    """A value and where it came from: a table of the file, a ``PMCTL_*`` variable, or ``built-in``."""

    value: object
    source: str


@dataclass(frozen=True)
class Profile:
    """``[profiles.<strategy>]`` or ``[defaults]``: keys for both instruments, and each instrument's own table
    where the file has one."""

    shared: Mapping[str, object]
    stock: Mapping[str, object] | None = None
    option: Mapping[str, object] | None = None

    def table(self, instrument: str) -> Mapping[str, object] | None:
        return self.stock if instrument == STOCK else self.option


@dataclass(frozen=True)
class Market:
    """``[market]``: facts about the listed contracts rather than about how a desk exits.

    Option classes quote in pennies at any price in ``penny_symbols`` (SPY, QQQ
    and IWM always), in nickels and dimes in ``non_penny_symbols``, and by the
    penny program's $3 rule otherwise.
    """

    penny_symbols: frozenset[str] = frozenset(PENNY_ALWAYS)
    non_penny_symbols: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Resolved:
    """Every key's value in force for one strategy and instrument, and ``sources`` saying where each came from.

    ``profile`` is the most specific table of the file that applies
    (``profiles.swing_trade.option``, ``profiles.swing_trade``, and for a
    strategy the file has no profile for ``defaults.option`` or ``defaults``).
    A value of None means "no such exit".
    """

    instrument: str
    profile: str
    stop_loss_percent: Decimal | None
    take_profit_percent: Decimal | None
    trailing_stop_percent: Decimal | None
    trailing_starts_at_profit_percent: Decimal
    min_hold_minutes: int
    catastrophic_loss_percent: Decimal | None
    max_hold_minutes: int | None
    scale_out: tuple[ScaleStep, ...]
    expiry: tuple[ExpiryStep, ...]
    use_trade_levels: bool
    day_trade_close_minutes: int | None
    trigger: str
    close_order: str
    limit_offset_ticks: int
    max_slippage_percent: Decimal
    walk_steps: int
    walk_interval_seconds: int
    max_quote_age_seconds: int
    max_spread_percent: Decimal
    expiry_deadline: time | None
    protect_at_broker: bool
    protect_with_target: bool
    trail_step_percent: Decimal
    sources: Mapping[str, str] = field(repr=False)

    def source(self, key: str) -> str:
        """A table (``profiles.swing_trade.option``, ``defaults.option``, …), a ``PMCTL_*`` name, or ``built-in``."""
        return self.sources[key]

    def source_text(self, key: str) -> str:
        """The source as a close reason's detail says it: ``profile swing_trade/option``."""
        source = self.sources[key]
        if source.startswith("profiles."):
            return "profile " + source.removeprefix("profiles.").replace(".", "/")
        if source == DEFAULTS:
            return "the policy's defaults"
        if source.startswith(DEFAULTS + "."):
            return f"the policy's defaults for {source.removeprefix(DEFAULTS + '.')}s"
        return "the built-in default" if source == BUILT_IN else source

    def entries(self) -> tuple[tuple[str, object, str], ...]:
        """``(key, value, source)`` for every key, for ``pmctl plan`` and the like."""
        return tuple((key, getattr(self, key), self.sources[key]) for key in KEYS)


@dataclass(frozen=True)
class Policy:
    """The parsed file (``origin`` names it in messages) over the ``PMCTL_*`` values it inherits."""

    origin: str
    defaults: Profile
    profiles: Mapping[str, Profile]
    market: Market
    env_defaults: Mapping[str, Sourced]
    _resolved: Mapping[tuple[str | None, str], Resolved] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.env_defaults) - set(KEYS)
        if unknown:
            raise ValueError(f"env_defaults names no policy key: {sorted(unknown)}")
        strategies = (None, DAY_TRADE, *self.profiles)
        object.__setattr__(self, "_resolved", {
            (strategy, instrument): self._build(strategy, instrument)
            for strategy in strategies for instrument in INSTRUMENTS
        })

    @classmethod
    def parse(cls, document: Mapping[str, object], origin: str = "pmctl.toml",
              env_defaults: Mapping[str, Sourced] | None = None) -> "Policy":
        """The policy a TOML document sets; ``ConfigError`` (exit 2) naming ``origin``, the key and its value if not."""
        return _Parser(origin).policy(document, MappingProxyType(dict(env_defaults or {})))

    def resolve(self, strategy: str, instrument: str) -> "Resolved":
        """The values in force for ``strategy`` (any name) and ``instrument`` (``stock`` or ``option``)."""
        found = self._resolved.get((strategy, instrument))
        if found is not None:
            return found
        if instrument not in INSTRUMENTS:
            raise ValueError(f"instrument must be one of {INSTRUMENTS}, not {instrument!r}")
        return self._resolved[(None, instrument)]

    def _build(self, strategy: str | None, instrument: str) -> Resolved:
        profile = self.profiles.get(strategy) if strategy is not None else None
        own = _layers(profile, f"profiles.{strategy}", instrument) if profile is not None else []
        inherited = _layers(self.defaults, DEFAULTS, instrument)
        chosen: dict[str, object] = {}
        sources: dict[str, str] = {}
        for key in KEYS:
            reaches_defaults = key != "day_trade_close_minutes" or strategy == DAY_TRADE
            chosen[key], sources[key] = self._value(key, instrument, own, inherited if reaches_defaults else None)
        return Resolved(instrument=instrument, profile=(own or inherited)[0][0], sources=MappingProxyType(sources),
                        **chosen)

    def _value(self, key: str, instrument: str, own: list[tuple[str, Mapping[str, object]]],
               inherited: list[tuple[str, Mapping[str, object]]] | None) -> tuple[object, str]:
        """The first layer that sets ``key``; ``inherited`` None: the key stops at the strategy's own profile."""
        spec = _KEYS[key]
        built_in = spec.stock if instrument == STOCK else spec.option
        if spec.options_only and instrument == STOCK:
            return built_in, BUILT_IN
        for source, table in own + (inherited or []):
            if key in table:
                return table[key], source
        if inherited is None:
            return None, BUILT_IN
        if key in self.env_defaults:
            return self.env_defaults[key].value, self.env_defaults[key].source
        return built_in, BUILT_IN


class _Parser:
    """Walks the document once, refusing the first bad key with its full path."""

    def __init__(self, origin: str):
        self.origin = origin

    def policy(self, document: Mapping[str, object], env_defaults: Mapping[str, Sourced]) -> Policy:
        for key, value in document.items():
            if key not in _TOP:
                self.unknown("", key, value, _TOP)
        defaults = self.layered(DEFAULTS, document.get(DEFAULTS, {}))
        profiles = {
            name: self.layered(self.strategy_path(name, raw), raw)
            for name, raw in self.table(document.get("profiles", {}), "profiles").items()
        }
        return Policy(origin=self.origin, defaults=defaults, profiles=MappingProxyType(profiles),
                      market=self.market(self.table(document.get("market", {}), "market")),
                      env_defaults=env_defaults)

    def strategy_path(self, name: str, raw: object) -> str:
        """Names a source unambiguously in a dotted path, and in a close reason's detail."""
        path = "profiles." + _path(name)
        if not name or len(name) > 64 or not set(name) <= _STRATEGY_CHARACTERS:
            self.fail(path, raw, "a strategy's name is 1 to 64 letters, digits, _ or -")
        return path

    def layered(self, path: str, raw: object) -> Profile:
        """``[defaults]`` or ``[profiles.<strategy>]`` with its instrument tables."""
        table = self.table(raw, path)
        tables = {
            instrument: self.profile(self.table(table[instrument], f"{path}.{instrument}"), f"{path}.{instrument}",
                                     instrument)
            for instrument in INSTRUMENTS if instrument in table
        }
        shared = {key: value for key, value in table.items() if key not in INSTRUMENTS}
        return Profile(shared=self.profile(shared, path, None, nested=True),
                               stock=tables.get(STOCK), option=tables.get(OPTION))

    def profile(self, table: Mapping[str, object], path: str, instrument: str | None,
                nested: bool = False) -> Mapping[str, object]:
        parsed = {}
        for key, value in table.items():
            if key not in _KEYS:
                self.unknown(path, key, value, KEYS + (INSTRUMENTS if nested else ()))
            if instrument == STOCK and _KEYS[key].options_only:
                self.fail(f"{path}.{key}", value, f"applies to options only; set it in [{path[:-len(STOCK)]}option]")
            parsed[key] = self.value(f"{path}.{key}", value, _KEYS[key].parse)
        return MappingProxyType(parsed)

    def market(self, table: Mapping[str, object]) -> Market:
        parsed = {}
        for key, value in table.items():
            if key not in _MARKET_KEYS:
                self.unknown("market", key, value, _MARKET_KEYS)
            parsed[key] = self.value(f"market.{key}", value, values.symbols)
        penny = frozenset(PENNY_ALWAYS) | frozenset(parsed.get("penny_symbols", ()))
        for symbol in parsed.get("non_penny_symbols", ()):
            if symbol in penny:
                self.fail("market.non_penny_symbols", table["non_penny_symbols"],
                          f"{symbol} is a penny class (penny_symbols, or always for {', '.join(PENNY_ALWAYS)})")
        return Market(penny_symbols=penny, non_penny_symbols=frozenset(parsed.get("non_penny_symbols", ())))

    def table(self, raw: object, path: str) -> Mapping[str, object]:
        if not isinstance(raw, Mapping):
            self.fail(path, raw, f"must be a table ([{path}])")
        return raw

    def value(self, path: str, raw: object, parse: Callable[[object], object]) -> object:
        try:
            return parse(raw)
        except Refused as refused:
            if refused.where:
                self.fail(path + refused.where, refused.value, refused.reason)
            self.fail(path, raw, refused.reason)

    def unknown(self, table: str, key: str, value: object, known: tuple[str, ...]) -> NoReturn:
        path = f"{table}.{_path(key)}" if table else _path(key)
        self.fail(path, value, f"unknown key; the closest known key is {values.closest(key, known)}")

    def fail(self, path: str, value: object, reason: str) -> NoReturn:
        raise ConfigError(f"{self.origin}: {path} = {values.shown(value)}: {reason}")


def _layers(profile: Profile, path: str, instrument: str) -> list[tuple[str, Mapping[str, object]]]:
    """The tables of ``profile`` that apply to ``instrument``, the most specific first."""
    own = profile.table(instrument)
    return ([(f"{path}.{instrument}", own)] if own is not None else []) + [(path, profile.shared)]


def _path(key: str) -> str:
    """A key as TOML writes it in a dotted path: bare where it can be, quoted otherwise."""
    if key and set(key) <= _STRATEGY_CHARACTERS:
        return key
    return values.shown(key)
