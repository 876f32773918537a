"""OCC symbols: format(parse(s)) == s, and malformed symbols are refused with a clear error."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmctl import occ

roots = st.from_regex(r"[A-Z][A-Z0-9]{0,5}", fullmatch=True)
expirations = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
strikes = st.integers(min_value=1, max_value=99_999_999).map(lambda n: Decimal(n) / 1000)
contracts = st.builds(occ.OptionContract, roots, expirations, st.sampled_from(["C", "P"]), strikes)


@given(contracts)
def test_parse_of_format_is_the_contract(contract):
    assert occ.parse(occ.format_symbol(contract)) == contract


@given(contracts)
def test_format_of_parse_is_the_symbol(contract):
    symbol = occ.format_symbol(contract)
    assert occ.format_symbol(occ.parse(symbol)) == symbol
    assert occ.is_option(symbol)
    assert occ.multiplier(symbol) == 100


def test_the_seed_02_contract():
    contract = occ.parse("GOOGL260220C00340000")
    assert contract == occ.OptionContract("GOOGL", date(2026, 2, 20), "C", Decimal("340"))
    assert contract.kind == "CALL"
    assert occ.parse("QCOM260220P00145500").strike == Decimal("145.5")
    assert occ.multiplier("GOOGL") == 1
    assert not occ.is_option("GOOGL")


@pytest.mark.parametrize(
    ("symbol", "message"),
    [
        ("GOOGL260220X00340000", "malformed OCC option symbol"),
        ("GOOGL260230C00340000", "260230 is not a date"),
        ("GOOGL260220C0034000", "malformed OCC option symbol"),
        ("TOOLONGX260220C00340000", "malformed OCC option symbol"),
        ("GOOGL260220C00000000", "the strike is zero"),
        ("goog l", "malformed symbol"),
        ("", "malformed symbol"),
        ("12345", "malformed OCC option symbol"),
    ],
)
def test_malformed_symbols_are_refused(symbol, message):
    with pytest.raises(occ.SymbolError, match=message):
        occ.validate(symbol)


@pytest.mark.parametrize("symbol", ["spy", "BRK.B", " googl260220c00340000 "])
def test_validate_accepts_tickers_and_contracts_in_any_case(symbol):
    assert occ.validate(symbol) == symbol.strip().upper()


@pytest.mark.parametrize(
    "contract",
    [
        occ.OptionContract("GOOGL", date(2026, 2, 20), "C", Decimal("340.0001")),
        occ.OptionContract("GOOGL", date(2026, 2, 20), "C", Decimal("100000")),
        occ.OptionContract("GOOGL", date(2026, 2, 20), "X", Decimal("340")),
        occ.OptionContract("goog", date(2026, 2, 20), "C", Decimal("340")),
        occ.OptionContract("GOOGL", date(2126, 2, 20), "C", Decimal("340")),
    ],
)
def test_contracts_that_have_no_symbol_are_refused(contract):
    with pytest.raises(occ.SymbolError):
        occ.format_symbol(contract)
