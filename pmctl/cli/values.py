"""Numbers typed on the command line, refused before anything is written when the database could not hold them.

A refusal quotes the value as typed (shortened when long), never its expansion:
``--qty 1e400`` is reported as ``'1e400'``, not as 400 digits. The limits are the
columns the values land in: prices and quantities NUMERIC(12, 4), percentages
NUMERIC(8, 4), minutes INTEGER.
"""

from decimal import Decimal, InvalidOperation

from pmctl.errors import UsageError, typed

PLACES = 4
AMOUNT_LIMIT = Decimal("99999999.9999")
PERCENT_LIMIT = Decimal("9999.9999")
MINUTES_LIMIT = 2**31 - 1


def number(flag: str, text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise UsageError(f"{flag} {typed(text)} is not a number") from None
    if not value.is_finite():
        raise UsageError(f"{flag} {typed(text)} is not a number")
    return value


def amount(flag: str, text: str, limit: Decimal = AMOUNT_LIMIT, hint: str | None = None) -> Decimal:
    """A price, quantity or percentage: at most ``limit`` in size and four decimal places (more would be rounded)."""
    value = number(flag, text)
    if abs(value) > limit:
        raise UsageError(f"{flag} {typed(text)} is out of range: {hint or f'at most {limit}'}")
    if value != value.quantize(Decimal(1).scaleb(-PLACES)):
        raise UsageError(f"{flag} {typed(text)} has more than {PLACES} decimal places")
    return value


def minutes(flag: str, text: str) -> int:
    value = number(flag, text)
    if abs(value) > MINUTES_LIMIT:
        raise UsageError(f"{flag} {typed(text)} is out of range: at most {MINUTES_LIMIT} minutes")
    if value != value.to_integral_value():
        raise UsageError(f"{flag} {typed(text)} must be a whole number of minutes")
    return int(value)
