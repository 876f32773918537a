"""Decimals as an operator writes them, for every message pmctl prints or records."""

from decimal import Decimal


def num(value: Decimal) -> str:
    """No trailing zeros, no exponent: 25.0000 -> 25, 151.0500 -> 151.05."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text
