"""Accounts that cannot cross: which configured names may act, given who their keys belong to.

Seed 05: the tiny account's manager ran with the large account's keys and kept
creating rows for the large account's positions. Every command asks the broker
whose keys it holds and refuses a name whose answer disagrees with the
configuration, with the name's recorded binding, or with another name.
"""


def refusals(
    reported: dict[str, str], expected: dict[str, str | None], bound: dict[str, str]
) -> dict[str, str]:
    """name → why it is refused. ``reported``: the broker's account number for each name's keys."""
    refused: dict[str, str] = {}
    sharing: dict[str, list[str]] = {}
    for name, number in reported.items():
        sharing.setdefault(number, []).append(name)
    owner_of = {number: name for name, number in bound.items()}
    for name, number in reported.items():
        owner = owner_of.get(number)
        if expected.get(name) and expected[name] != number:
            refused[name] = (
                f"account {name!r}: its keys belong to broker account {number}, "
                f"but PMCTL_{name.upper()}_ACCOUNT_NUMBER says {expected[name]}"
            )
        elif name in bound and bound[name] != number:
            refused[name] = (
                f"account {name!r} is bound to broker account {bound[name]}, but its keys now belong to {number}"
            )
        elif owner is not None and owner != name:
            refused[name] = (
                f"account {name!r}: its keys belong to broker account {number}, which is bound to account {owner!r}"
            )
        elif owner is None and len(sharing[number]) > 1:
            others = ", ".join(repr(other) for other in sharing[number] if other != name)
            refused[name] = f"account {name!r}: its keys belong to broker account {number}, as do those of {others}"
    return refused
