"""Broker answers become typed errors that keep Alpaca's words."""

import json

import pytest

from pmctl.broker import errors
from pmctl.broker.transport import RetryPolicy, Retryable, with_retries


def body(code: int, message: str) -> str:
    return json.dumps({"code": code, "message": message})


@pytest.mark.parametrize(
    ("status", "text", "kind"),
    [
        (401, body(40110000, "request is not authorized"), errors.Unauthorized),
        (403, body(40310000, "insufficient qty available for order (requested: 10, available: 4)"),
         errors.InsufficientQuantity),
        (403, body(40310000, "position intent mismatch, inferred: sell_to_open, specified: sell_to_close"),
         errors.IntentMismatch),
        (404, body(40410000, "position does not exist"), errors.PositionNotFound),
        (404, body(40410000, "order not found"), errors.OrderNotFound),
        (422, body(40010001, "client_order_id must be unique"), errors.DuplicateClientOrderId),
        (403, body(40310000, "options market orders are only allowed during market hours"), errors.MarketClosed),
        (422, body(42210000, "order is already in \"filled\" state"), errors.OrderNotCancelable),
        (429, body(42910000, "rate limit exceeded"), errors.BrokerUnavailable),
        (503, "<html>upstream</html>", errors.BrokerUnavailable),
        (422, body(42210000, "qty must be > 0"), errors.BrokerRejected),
    ],
)
def test_classify(status, text, kind):
    error = errors.classify(status, text, "close GOOGL260220C00340000")
    assert type(error) is kind


def test_rejections_keep_the_broker_message():
    error = errors.classify(
        403, body(40310000, "position intent mismatch, inferred: sell_to_open, specified: sell_to_close"), "close X"
    )
    assert error.status == 403 and error.code == 40310000
    assert error.inferred == "sell_to_open"
    assert error.position_is_gone
    assert "inferred: sell_to_open, specified: sell_to_close" in str(error)
    closing = errors.classify(403, body(40310000, "position intent mismatch, inferred: buy_to_close, specified: x"), "")
    assert not closing.position_is_gone


def test_reads_retry_then_give_up_with_the_last_error():
    calls, waits = [], []

    def flaky():
        calls.append(1)
        raise Retryable(errors.BrokerUnavailable(f"attempt {len(calls)}"))

    with pytest.raises(errors.BrokerUnavailable, match="attempt 3"):
        with_retries(flaky, RetryPolicy(attempts=3, base_delay=0.5, max_delay=1.0), sleep=waits.append)
    assert len(calls) == 3
    assert len(waits) == 2
    assert all(0 <= wait <= 1.0 for wait in waits)


def test_each_wait_is_random_up_to_a_doubling_bound_and_capped():
    waits = []

    def hung():
        raise Retryable(errors.BrokerUnavailable("timed out"))

    for _ in range(20):
        with pytest.raises(errors.BrokerUnavailable):
            with_retries(hung, RetryPolicy(attempts=5, base_delay=0.5, max_delay=1.5), sleep=waits.append)
    rounds = [waits[i:i + 4] for i in range(0, len(waits), 4)]
    assert len(rounds) == 20 and all(len(r) == 4 for r in rounds)
    for bound, column in zip([0.5, 1.0, 1.5, 1.5], zip(*rounds)):
        assert all(0 <= wait <= bound for wait in column)
        assert max(column) > bound / 2
    assert max(waits) <= 1.5


def test_a_read_that_recovers_returns_its_answer():
    answers = iter([Retryable(errors.BrokerUnavailable("503")), "positions"])

    def call():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert with_retries(call, RetryPolicy(), sleep=lambda _: None) == "positions"
