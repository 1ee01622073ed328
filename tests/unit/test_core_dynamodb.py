"""DynamoDB transactions: tried again on conflicts only, other cancellations raised at once."""

from __future__ import annotations

import random
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lockbox.core import dynamodb


def cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


class Client:
    """Answers each call with the next outcome: an error to raise, or a response."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.tokens: list[str] = []
        self.asked: list[Any] = []

    def _next(self) -> Any:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def transact_write_items(self, TransactItems: Any, ClientRequestToken: str) -> Any:  # noqa: N803
        self.tokens.append(ClientRequestToken)
        return self._next()

    def batch_get_item(self, RequestItems: Any) -> Any:  # noqa: N803
        self.asked.append(RequestItems)
        return self._next()


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(dynamodb, "CONFLICT_BACKOFF_SECONDS", 0)

    def install(*outcomes: Any) -> Client:
        fake = Client(*outcomes)
        monkeypatch.setattr(dynamodb, "client", lambda: fake)
        return fake

    return install


def test_a_conflict_is_tried_again_until_the_write_commits(client: Any) -> None:
    """Given two conflicts then success, the write succeeds on the third attempt, each with
    a fresh idempotency token."""
    fake = client(cancelled("None", "TransactionConflict"), cancelled("TransactionConflict"), {})

    dynamodb.transact_write([])

    assert len(fake.tokens) == 3
    assert len(set(fake.tokens)) == 3


def test_a_given_token_is_kept_across_attempts(client: Any) -> None:
    """Given a token, every attempt carries that same token."""
    fake = client(cancelled("TransactionConflict"), {})

    dynamodb.transact_write([], token="one-token")

    assert fake.tokens == ["one-token", "one-token"]


def test_a_failed_condition_is_raised_at_once_with_its_reasons(client: Any) -> None:
    """Given a cancellation with a failed condition (even beside a conflict), it is raised
    without another attempt, its reasons readable."""
    fake = client(cancelled("ConditionalCheckFailed", "TransactionConflict"), {})

    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write([])

    assert len(fake.tokens) == 1
    assert dynamodb.cancellation_codes(caught.value) == [
        "ConditionalCheckFailed",
        "TransactionConflict",
    ]


def test_conflicts_that_never_end_are_raised_after_the_last_attempt(client: Any) -> None:
    """Given only conflicts, the last attempt's error is raised."""
    fake = client(*[cancelled("TransactionConflict")] * (dynamodb.CONFLICT_RETRIES + 1))

    with pytest.raises(ClientError):
        dynamodb.transact_write([])

    assert len(fake.tokens) == dynamodb.CONFLICT_RETRIES + 1


SESSION = {"pk": {"S": "SESSION#s"}}
PROFILE = {"pk": {"S": "USER#u"}}


def test_items_come_back_in_the_order_asked_none_where_missing(client: Any) -> None:
    """Given a BatchGetItem that answers the profile only, the session (asked first) is None
    and the profile second; the read is strongly consistent."""
    fake = client({"Responses": {"T": [{**PROFILE, "age": {"N": "3"}}]}})

    assert dynamodb.get_items("T", [SESSION, PROFILE], "pk, age") == [
        None,
        {**PROFILE, "age": {"N": "3"}},
    ]
    assert fake.asked == [
        {
            "T": {
                "Keys": [SESSION, PROFILE],
                "ConsistentRead": True,
                "ProjectionExpression": "pk, age",
            }
        }
    ]


def test_only_unprocessed_keys_are_asked_again(client: Any) -> None:
    """Given the session left unprocessed once, the second request asks for it alone."""
    fake = client(
        {"Responses": {"T": [PROFILE]}, "UnprocessedKeys": {"T": {"Keys": [SESSION]}}},
        {"Responses": {"T": [SESSION]}},
    )

    assert dynamodb.get_items("T", [SESSION, PROFILE]) == [SESSION, PROFILE]
    assert [asked["T"]["Keys"] for asked in fake.asked] == [[SESSION, PROFILE], [SESSION]]


def test_keys_left_unprocessed_every_time_are_an_error(client: Any) -> None:
    """Given DynamoDB leaving a key unprocessed on every try, the read fails after the
    bounded retries rather than answering without it."""
    unprocessed = {"Responses": {"T": []}, "UnprocessedKeys": {"T": {"Keys": [SESSION]}}}
    fake = client(*[unprocessed] * (dynamodb.UNPROCESSED_RETRIES + 1))

    with pytest.raises(dynamodb.UnprocessedKeysError):
        dynamodb.get_items("T", [SESSION])
    assert len(fake.asked) == dynamodb.UNPROCESSED_RETRIES + 1


def test_other_errors_have_no_cancellation_reasons() -> None:
    """Given an error that is not a cancellation, there are no reasons to read."""
    throttled = ClientError({"Error": {"Code": "ThrottlingException"}}, "TransactWriteItems")

    assert dynamodb.cancellation_reasons(throttled) is None


def test_jitter_does_not_follow_the_random_modules_state() -> None:
    """Given two environments resumed from one snapshot (the same `random` state), when each
    draws its retry jitter, then the draws differ and stay within 0.5 to 1.5."""
    random.seed(7)
    first = [dynamodb.jitter() for _ in range(5)]
    random.seed(7)
    second = [dynamodb.jitter() for _ in range(5)]

    assert first != second
    assert all(0.5 <= factor <= 1.5 for factor in first + second)
