"""pmctl: the position manager that never loses track of a position."""

__version__ = "0.1.0"
