"""Decimals as an operator writes them, for every message pmctl prints or records."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

STORED_PLACES = Decimal("0.0001")


def num(value: Decimal) -> str:
    """No trailing zeros, no exponent: 25.0000 -> 25, 151.0500 -> 151.05."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


def finite_decimal(value) -> Decimal:
    """The value as a finite Decimal, or ValueError: broker JSON and scenario files carry numbers as text,
    and a NaN or a bool taken for a number would poison every comparison after it."""
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def stored(value: Decimal) -> Decimal:
    """A value as the ledger's NUMERIC(…, 4) columns keep it: four places, half away from zero as PostgreSQL
    rounds, so what pmctl computes and what the database holds agree to the last digit."""
    return value.quantize(STORED_PLACES, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """A price as the desk writes it: at least cents, more places only where they matter (1.80, 0.9999)."""
    normal = value.normalize()
    if normal.as_tuple().exponent < -2:
        return f"{normal:f}"
    return f"{value.quantize(Decimal('0.01')):f}"
