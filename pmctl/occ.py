"""OCC option symbols (``GOOGL260220C00340000``) and the contract multiplier.

The seed 02 incident closed ``GOOGL`` when the desk held ``GOOGL260220C00340000``.
Everything pmctl sends to the broker is the exact symbol held; this module is
how pmctl knows which symbols are contracts, what they are, and what a price
move is worth on them.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pmctl.errors import UsageError

CONTRACT_MULTIPLIER = Decimal(100)
_OCC = re.compile(r"^(?P<root>[A-Z][A-Z0-9]{0,5})(?P<date>\d{6})(?P<right>[CP])(?P<strike>\d{8})$")
_STOCK = re.compile(r"^[A-Z][A-Z0-9]{0,5}([./][A-Z]{1,2})?$")
_MAX_STRIKE = Decimal("99999.999")


class SymbolError(UsageError):
    """A symbol that is neither a stock ticker nor a well-formed OCC contract."""


@dataclass(frozen=True)
class OptionContract:
    root: str
    expiration: date
    right: str
    strike: Decimal

    @property
    def kind(self) -> str:
        """``CALL`` or ``PUT``, as the original schema's ``instrument_type`` spells it."""
        return "CALL" if self.right == "C" else "PUT"

    @property
    def symbol(self) -> str:
        return format_symbol(self)


def parse(symbol: str) -> OptionContract:
    match = _OCC.match(symbol)
    if match is None:
        raise SymbolError(
            f"malformed OCC option symbol {symbol!r}: want ROOT (1-6 letters) YYMMDD C|P and the strike "
            "x1000 in 8 digits, e.g. GOOGL260220C00340000"
        )
    text = match.group("date")
    try:
        expiration = date(2000 + int(text[:2]), int(text[2:4]), int(text[4:]))
    except ValueError:
        raise SymbolError(f"malformed OCC option symbol {symbol!r}: {text} is not a date (YYMMDD)") from None
    strike = Decimal(match.group("strike")) / 1000
    if strike == 0:
        raise SymbolError(f"malformed OCC option symbol {symbol!r}: the strike is zero")
    return OptionContract(match.group("root"), expiration, match.group("right"), strike)


def format_symbol(contract: OptionContract) -> str:
    if not re.fullmatch(r"[A-Z][A-Z0-9]{0,5}", contract.root):
        raise SymbolError(f"option root {contract.root!r} must be 1-6 upper-case letters or digits")
    if contract.right not in ("C", "P"):
        raise SymbolError(f"option right {contract.right!r} must be C or P")
    if not 2000 <= contract.expiration.year <= 2099:
        raise SymbolError(f"option expiration {contract.expiration} is outside 2000-2099")
    thousandths = contract.strike * 1000
    if contract.strike <= 0 or contract.strike > _MAX_STRIKE or thousandths != thousandths.to_integral_value():
        raise SymbolError(f"option strike {contract.strike} must be positive, below 100000, in steps of 0.001")
    return f"{contract.root}{contract.expiration:%y%m%d}{contract.right}{int(thousandths):08d}"


def is_option(symbol: str) -> bool:
    return _OCC.match(symbol) is not None


def multiplier(symbol: str) -> Decimal:
    """How many units of the underlying one unit of ``symbol`` moves: 100 for a contract, 1 for a share."""
    return CONTRACT_MULTIPLIER if is_option(symbol) else Decimal(1)


def validate(symbol: str) -> str:
    """The symbol, upper-cased, if it is a stock ticker or a well-formed contract; else a ``SymbolError``."""
    candidate = symbol.strip().upper()
    if _OCC.match(candidate):
        parse(candidate)
        return candidate
    if _STOCK.match(candidate):
        return candidate
    if any(character.isdigit() for character in candidate):
        parse(candidate)
    raise SymbolError(f"malformed symbol {symbol!r}: not a stock ticker or an OCC option symbol")


def problem(symbol: str) -> str | None:
    """Why ``symbol`` is not a ticker or contract spelled exactly as the broker spells it, or None."""
    try:
        spelled = validate(symbol)
    except SymbolError as error:
        return str(error)
    return None if spelled == symbol else f"symbol {symbol!r} must be spelled {spelled!r}"
