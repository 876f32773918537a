"""Credentials that cannot be printed by accident."""


class Secret:
    """A credential that cannot be printed by accident.

    ``str``, ``repr`` and f-strings show a mask; only ``reveal()`` gives the
    value, so every place a key leaves pmctl is one grep away.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
