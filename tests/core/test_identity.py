"""Accounts that cannot cross (seed 05)."""

from pmctl.core.identity import refusals


def test_matching_accounts_pass():
    assert refusals({"large": "PA1", "tiny": "PA2"}, {"large": "PA1", "tiny": None}, {"large": "PA1"}) == {}


def test_tiny_with_the_large_keys_is_refused_and_large_keeps_working():
    refused = refusals({"large": "PA1", "tiny": "PA1"}, {}, {"large": "PA1", "tiny": "PA2"})
    assert set(refused) == {"tiny"}
    assert "bound to broker account PA2, but its keys now belong to PA1" in refused["tiny"]


def test_two_names_on_one_unbound_account_are_both_refused():
    refused = refusals({"large": "PA1", "tiny": "PA1"}, {}, {})
    assert set(refused) == {"large", "tiny"}
    assert "as do those of 'tiny'" in refused["large"]


def test_a_number_bound_to_another_name_is_refused():
    refused = refusals({"tiny": "PA1"}, {}, {"large": "PA1"})
    assert "which is bound to account 'large'" in refused["tiny"]


def test_the_configured_account_number_must_match():
    refused = refusals({"tiny": "PA1"}, {"tiny": "PA2"}, {})
    assert "PMCTL_TINY_ACCOUNT_NUMBER says PA2" in refused["tiny"]
