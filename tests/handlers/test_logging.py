"""Log lines: JSON with the request id, and never a password, a password hash or a token.

Powertools' Logger prints JSON lines to stdout. Its stream handler is bound to the
sys.stdout of import time, so the `log_lines` fixture points it at the stdout capsys
installs for the test, and hands back the parsed lines.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lockbox.core import dynamodb
from lockbox.core.observability import logger
from lockbox_local.events import load_event
from tests.handlers.accounts import USER, register
from tests.handlers.calls import call, handler, with_body
from tests.handlers.mail import link_token, mail_request_record, sent_mails
from tests.handlers.sessions import token

LogLines = Callable[[], list[dict[str, Any]]]


class CurrentStdout:
    """Writes to whatever sys.stdout is at the time (capsys's during the test)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[LogLines]:
    stream = logger.registered_handler
    assert isinstance(stream, logging.StreamHandler)
    previous = stream.setStream(CurrentStdout())

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]

    yield read
    stream.setStream(previous)


def assert_absent(lines: list[dict[str, Any]], *secrets: str) -> None:
    text = json.dumps(lines, ensure_ascii=False)
    for secret in secrets:
        assert secret not in text


def stored_hash(client: Any) -> str:
    item = client.get_item(TableName="UsersTable", Key={"pk": {"S": "USERNAME#johndoe"}})["Item"]
    return str(item["password_hash"]["S"])


@pytest.fixture
def debug_logs() -> Iterator[None]:
    """POWERTOOLS_LOG_LEVEL=DEBUG, as an operator sets it: the successes' lines too."""
    level = logger.log_level
    logger.setLevel(logging.DEBUG)
    yield
    logger.setLevel(level)


def test_a_success_logs_no_line_at_info(
    aws_tables: Any, lambda_context: Any, log_lines: LogLines
) -> None:
    """Given the default level (INFO), a registration that succeeds prints no log line:
    the access log, the metrics and the activity log have it (lockbox.core.observability)."""
    call(handler("register"), load_event("register_success"), lambda_context)

    assert [line for line in log_lines() if "level" in line] == []


@pytest.mark.usefixtures("debug_logs")
def test_registration_logs_carry_the_request_id_and_no_secret(
    aws_tables: Any, lambda_context: Any, log_lines: LogLines
) -> None:
    """Given a registration at DEBUG, its log lines carry the request id and no password
    or hash."""
    event = load_event("register_success")

    call(handler("register"), event, lambda_context)

    lines = log_lines()  # log lines, and the metrics line (EMF) Powertools also prints
    logged = [line for line in lines if "level" in line]
    assert logged, "the registration should log a line"
    assert {line["correlation_id"] for line in logged} == {event["requestContext"]["requestId"]}
    assert_absent(lines, USER["password"], stored_hash(aws_tables), "$2b$")


def test_refused_registration_logs_no_password(
    aws_tables: Any, lambda_context: Any, log_lines: LogLines
) -> None:
    """Given a refused password, the log names the code, not the password."""
    call(handler("register"), load_event("register_common_password"), lambda_context)

    lines = log_lines()
    assert [line.get("error_code") for line in lines if "level" in line] == ["INVALID_PASSWORD"]
    assert_absent(lines, "password123")


@pytest.mark.usefixtures("debug_logs")  # the successes' lines too
def test_login_logs_no_password_hash_or_token(
    aws_tables: Any, lambda_context: Any, log_lines: LogLines
) -> None:
    """Given logins that succeed and fail, no password, hash or token is logged, at any
    level."""
    register(lambda_context)
    log_lines()  # the registration's own lines are checked elsewhere

    _, body = call(handler("token"), load_event("token_success"), lambda_context)
    access_token = body["data"]["access_token"]
    token(lambda_context, "johndoe", "not_the_password")

    lines = log_lines()
    assert_absent(
        lines, USER["password"], "not_the_password", stored_hash(aws_tables), access_token
    )
    for segment in access_token.split("."):
        assert_absent(lines, segment)


def test_failure_logs_its_cause_with_the_request_id_and_no_password(
    aws_tables: Any,
    lambda_context: Any,
    log_lines: LogLines,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given DynamoDB failing, the cause is logged at ERROR with the request id, no password."""

    def failing(**_: Any) -> None:
        raise RuntimeError("dynamodb exploded")

    monkeypatch.setattr(dynamodb.client(), "transact_write_items", failing)
    event = load_event("register_success")

    call(handler("register"), event, lambda_context)

    errors = [line for line in log_lines() if line.get("level") == "ERROR"]
    assert len(errors) == 1
    assert "dynamodb exploded" in errors[0]["exception"]
    assert errors[0]["correlation_id"] == event["requestContext"]["requestId"]
    assert_absent(errors, USER["password"])


@pytest.mark.usefixtures("debug_logs")  # the successes' lines too
def test_stored_values_are_not_logged(
    aws_tables: Any, lambda_context: Any, log_lines: LogLines
) -> None:
    """Given a stored value, it appears in no log line."""
    event = with_body("store_item_success", {"key": "diary", "value": "my deepest secret"})

    call(handler("store_item"), event, lambda_context)

    assert_absent(log_lines(), "my deepest secret")


def test_authorizer_logs_no_token(
    aws_tables: Any, lambda_context: Any, log_lines: LogLines
) -> None:
    """Given accepted and refused tokens, the authorizer logs the reason but no token."""
    register(lambda_context)
    _, body = call(handler("token"), load_event("token_success"), lambda_context)
    access_token = body["data"]["access_token"]
    tampered = access_token[:-4] + ("AAAA" if not access_token.endswith("AAAA") else "BBBB")
    log_lines()

    accepted, refused = load_event("authorizer_valid"), load_event("authorizer_valid")
    accepted["authorizationToken"] = f"Bearer {access_token}"
    refused["authorizationToken"] = f"Bearer {tampered}"

    handler("authorizer")(accepted, lambda_context)
    denied = handler("authorizer")(refused, lambda_context)

    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    lines = log_lines()
    assert any(line.get("reason") == "InvalidSignatureError" for line in lines)
    for segment in access_token.split(".") + tampered.split("."):
        assert_absent(lines, segment)


def internal_errors(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The EMF lines that count InternalErrors."""
    return [
        line
        for line in lines
        if any(
            metric["Name"] == "InternalErrors"
            for directive in line.get("_aws", {}).get("CloudWatchMetrics", [])
            for metric in directive["Metrics"]
        )
    ]


def test_a_500_is_counted_as_an_internal_error_of_its_function(
    aws_tables: Any,
    lambda_context: Any,
    log_lines: LogLines,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a store whose DynamoDB call fails, the 500 it answers is one InternalErrors
    in LockboxApi with dimensions service and function (its alarm's metric)."""

    def failing(**_: Any) -> None:
        raise RuntimeError("simulated")

    monkeypatch.setattr(dynamodb.client(), "put_item", failing)
    event = load_event("store_item_success")

    status, _ = call(handler("store_item"), event, lambda_context)

    counted = internal_errors(log_lines())
    assert status == 500
    assert len(counted) == 1
    directive = counted[0]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "LockboxApi"
    assert sorted(directive["Dimensions"][0]) == ["function", "service"]
    assert (counted[0]["service"], counted[0]["function"]) == ("lockbox-api", "test-function")
    assert counted[0]["InternalErrors"] in (1, [1], 1.0, [1.0])


def test_a_refusal_is_no_internal_error(
    aws_tables: Any, lambda_context: Any, log_lines: LogLines
) -> None:
    """Given a refused registration (400), no InternalErrors is counted."""
    status, _ = call(handler("register"), load_event("register_common_password"), lambda_context)

    assert status == 400
    assert internal_errors(log_lines()) == []


def test_an_authorizer_that_cannot_decide_counts_an_internal_error(
    lambda_context: Any, jwt_signing_key: str, log_lines: LogLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the signing key unavailable, the authorizer fails (API Gateway's 500) and
    counts one InternalErrors; a refused token counts none."""
    from lockbox.core.settings import get_settings
    from tests.handlers.test_authorizer import authorizer_event

    refused = load_event("authorizer_garbage")
    handler("authorizer")(refused, lambda_context)
    assert internal_errors(log_lines()) == []

    monkeypatch.setenv("JWT_SECRET_ID", "lockbox/test/no-such-secret")
    get_settings.cache_clear()
    failing = authorizer_event("authorizer_valid", jwt_signing_key)

    with pytest.raises(Exception):  # noqa: B017, PT011 (a 500 from API Gateway)
        handler("authorizer")(failing, lambda_context)

    assert len(internal_errors(log_lines())) == 1


def test_mail_logs_carry_no_token_and_no_address(
    aws_tables: Any, lambda_context: Any, log_lines: LogLines
) -> None:
    """Given a verification mail sent, its log lines name the kind and SES's message id,
    never the link's token or the address it went to."""
    user_id = register(lambda_context)[1]["data"]["user_id"]
    log_lines()

    handler("send_mail")(mail_request_record("verify", user_id), lambda_context)

    lines = log_lines()
    token = link_token(sent_mails()[-1].body, "verify-email")
    sent = [line for line in lines if line.get("message") == "Mail sent"]
    assert [line["kind"] for line in sent] == ["verify"]
    assert_absent(lines, token.split(".")[1], USER["email"])
