"""Warm overhead: microseconds per call that the project's code and its libraries add.

DynamoDB is answered in-process by a fake client (no botocore on the path, so the figure
is what runs on top of the DynamoDB request), password hashing is a no-op, logs go to
/dev/null. Each handler is called from its own event file; the median of several batches
is reported.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import os
import statistics
import time
from contextlib import redirect_stdout
from typing import Any

from bench.common import FUNCTIONS, TOKEN_PLACEHOLDER, BenchFunction, bench_context
from lockbox_local.events import load_event

WARMUP_CALLS = 300
BATCHES = 7
CALLS_PER_BATCH = 500
LOG_CALLS = 50
_STORED_VALUE = '{"text":"buy milk","tags":["home","errands"],"done":false}'
_ETAG = "5f0c3b1e8d4a4c6b9e2f7a1d5c3b8e60"
# A page as full as the listing event asks (limit 2) with more to follow: a cursor is signed.
_LISTED = [{"key": {"S": f"note {i}"}, "etag": {"S": _ETAG}} for i in range(2)]
_NEXT = {"user_id": {"S": "3f9c2b1e"}, "key": {"S": "note 1"}}
_SESSION_USER = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"
_STARTED = time.time_ns() // 1000  # the fake session's start (Unix microseconds)
# A verify link the fake profile holds (lockbox.mail.links: the user id, 256 random bits).
_LINK = f"{_SESSION_USER}.{'L' * 43}"
_EVENTS = [
    {
        "pk": {"S": f"EVENT#{_SESSION_USER}#{_STARTED - i}#0000000{i}"},
        "ordered_at": {"N": str(_STARTED - i)},
        "event": {"S": "login"},
        "session_id": {"S": "d" * 22},
        "user_agent": {"S": "bench"},
        "source_ip": {"S": "203.0.113.25"},
    }
    for i in range(2)
]


_LOGIN_USER = "3f9c2b1e"  # the user id on the fake's login record (a name's marker)
_FACTOR_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 (the fake account's authenticator)
_FACTOR_ON = {"mfa_disable", "recovery_codes", "token_mfa"}


def factor_attributes(function_name: str, user_id: str) -> dict[str, Any]:
    """The second factor on the fake's profile and marker, as the call needs it: a setup
    to confirm, the factor on (sealed for `user_id`), or none."""
    from lockbox.mfa import mfa_state, recovery_codes, totp

    if function_name not in _FACTOR_ON | {"mfa_confirm"}:
        return {}
    sealed = totp.seal_secret(_FACTOR_SECRET, user_id)
    if function_name == "mfa_confirm":
        return {
            mfa_state.PENDING: {"B": sealed.sealed},
            mfa_state.PENDING_KEY: {"S": sealed.key_version},
        }
    return {
        mfa_state.SECRET: {"B": sealed.sealed},
        mfa_state.SECRET_KEY: {"S": sealed.key_version},
        mfa_state.RECOVERY_CODES: {"SS": recovery_codes.code_hashes(recovery_codes.new_codes())},
    }


class FakeDynamoDB:
    """Answers the calls the functions make, as DynamoDB would on success."""

    def __init__(self, password_hash: str) -> None:
        self.factors: dict[str, dict[str, Any]] = {}  # by user id: the bench call's factor
        self._login = {
            "user_id": {"S": _LOGIN_USER},
            "password_hash": {"S": password_hash},
            "email": {"S": "bench@example.com"},
            "created_at": {"S": "2026-11-27T06:00:00.000+00:00"},
            "full_name": {"S": "Bench Caller"},
            "verify_link_hash": {"S": hashlib.sha256(_LINK.encode()).hexdigest()},
            "verify_link_expires_at": {"N": "4102444800"},
            "reset_link_hash": {"S": hashlib.sha256(_LINK.encode()).hexdigest()},
            "reset_link_expires_at": {"N": "4102444800"},
        }
        # Begun now: a session is alive for SessionMaxLifetime after its start.
        self._session = {
            "user_id": {"S": "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"},
            "created_at": {"N": str(_STARTED)},
            "expires_at": {"N": "4102444800"},
        }

    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
        """The session and the profile, whichever were asked, in reverse order (DynamoDB
        promises none): the reader must match them by key."""
        profile = {
            "pk": {"S": f"USER#{_SESSION_USER}"},
            **self._login,
            **self.factors.get(_SESSION_USER, {}),
        }
        ((table, request),) = kwargs["RequestItems"].items()
        answers: list[dict[str, Any]] = []
        for key in request["Keys"]:
            if "pk" not in key:  # a batch read of the items table: each key holds the object
                answers.insert(0, {**key, "value": {"S": _STORED_VALUE}, "etag": {"S": _ETAG}})
                continue
            pk = key["pk"]["S"]
            item = profile if pk.startswith("USER#") else self._session
            answers.insert(0, {**item, "pk": {"S": pk}})
        return {"Responses": {table: answers}}

    def batch_write_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def transact_write_items(self, **_: Any) -> dict[str, Any]:
        return {}

    def put_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def update_item(self, **_: Any) -> dict[str, Any]:
        # The login's attempt count returns the record, the factor's copy included.
        return {"Attributes": {**self._login, **self.factors.get(_LOGIN_USER, {})}}

    def delete_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        if "pk" in kwargs["Key"]:
            return {"Item": self._login}
        # The increment event's counter holds a number; every other key the stored object.
        value = "41" if kwargs["Key"]["key"]["S"] == "visits" else _STORED_VALUE
        return {"Item": {"value": {"S": value}, "etag": {"S": _ETAG}}}

    def query(self, **kwargs: Any) -> dict[str, Any]:
        owner = kwargs.get("ExpressionAttributeValues", {}).get(":owner", {}).get("S", "")
        if kwargs.get("IndexName") == "ByOwner" and owner.startswith("EVENT#"):
            return {"Items": _EVENTS}  # a page of the activity log
        if kwargs.get("IndexName") == "ByOwner":  # two devices' sessions
            return {
                "Items": [
                    {"pk": {"S": f"SESSION#{'d' * 21}{i}"}, "user_agent": {"S": "bench"}}
                    | self._session
                    for i in range(2)
                ]
            }
        if "#v" in kwargs.get("ExpressionAttributeNames", {}):  # an export page: items whole
            return {
                "Items": [item | {"value": {"S": _STORED_VALUE}} for item in _LISTED],
                "LastEvaluatedKey": _NEXT,
            }
        if kwargs.get("ExpressionAttributeNames") == {"#key": "key"}:
            return {"Items": []}  # the purge's page: nothing left to delete
        return {"Items": _LISTED, "LastEvaluatedKey": _NEXT}


def _silence_logs() -> None:
    from lockbox.core.observability import logger

    # Logging stays on (its cost is part of the figure); only the stream goes nowhere.
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (open for the whole run)


def _install_fakes() -> FakeDynamoDB:
    """DynamoDB answered in-process, hashing a no-op: what is left is the project's code."""

    from lockbox.accounts import account_calls, email_calls, registration_calls
    from lockbox.core import dynamodb
    from lockbox.sessions import login_calls

    fake = FakeDynamoDB(password_hash="no-op")  # noqa: S106 (no real hash: hashing is stubbed)
    matches = lambda password, password_hash: password_hash is not None  # noqa: E731
    replacements: list[tuple[object, str, object]] = [
        # Every data module reaches DynamoDB through this one getter.
        (dynamodb, "client", lambda: fake),
        (registration_calls, "hash_password", lambda password: "no-op"),
        (account_calls, "hash_password", lambda password: "no-op"),
        (email_calls, "hash_password", lambda password: "no-op"),
        (login_calls, "verify_password", matches),
        (login_calls, "upgraded_hash", lambda password, password_hash: None),
        (account_calls, "verify_password", matches),
    ]
    for module, name, replacement in replacements:
        setattr(module, name, replacement)
    return fake


def _bench_event(function: BenchFunction, access_token: str, fake: FakeDynamoDB) -> dict[str, Any]:
    event = load_event(function.event)
    fake.factors = {
        user_id: factor_attributes(function.name, user_id)
        for user_id in (_SESSION_USER, _LOGIN_USER)
    }
    if function.name in _FACTOR_ON | {"mfa_confirm"}:
        import pyotp

        from lockbox.signing.tokens import issue_mfa_token

        # The current code: accepted all run long, as the fake never records its step.
        body = json.loads(event["body"]) | {"code": pyotp.TOTP(_FACTOR_SECRET).now()}
        if function.name == "token_mfa":
            body["mfa_token"] = issue_mfa_token(_LOGIN_USER, "bench")
        event["body"] = json.dumps(body)
    if event.get("authorizationToken") == f"Bearer {TOKEN_PLACEHOLDER}":
        event["authorizationToken"] = f"Bearer {access_token}"
    if function.name == "token_refresh":  # a well-formed token: the fake rotates anything
        fake_token = f"{_SESSION_USER}.{_STARTED}.{'s' * 22}.{'r' * 43}"
        event["body"] = json.dumps({"refresh_token": fake_token})
    if function.name == "verify_email":  # the link the fake profile holds
        event["body"] = json.dumps({"token": _LINK})
    if function.name == "reset_password":
        event["body"] = json.dumps({"token": _LINK, "new_password": "another_password"})
    return event


def log_bytes_per_call(access_token: str) -> dict[str, float]:
    """Bytes each warm call writes to its log (the logger's JSON lines and the EMF metric
    lines), by function name: what CloudWatch Logs ingests from the code, before Lambda's
    own platform lines."""
    fake = _install_fakes()
    from lockbox.core.observability import logger

    handler_stream = logger.registered_handler
    assert isinstance(handler_stream, logging.StreamHandler)
    context = bench_context()
    results: dict[str, float] = {}
    for function in FUNCTIONS:
        handler = importlib.import_module(function.module).lambda_handler
        event = _bench_event(function, access_token, fake)
        sink = io.StringIO()
        with redirect_stdout(io.StringIO()):  # the first call's one-time warnings
            handler(event, context)
        previous = handler_stream.setStream(sink)
        try:
            with redirect_stdout(sink):
                for _ in range(LOG_CALLS):
                    handler(event, context)
        finally:
            handler_stream.setStream(previous)
        results[function.name] = round(len(sink.getvalue().encode()) / LOG_CALLS, 1)
    return results


def measure(access_token: str) -> dict[str, float]:
    """Median microseconds per warm call, by function name."""
    fake = _install_fakes()
    _silence_logs()
    results: dict[str, float] = {}
    context = bench_context()
    for function in FUNCTIONS:
        handler = importlib.import_module(function.module).lambda_handler
        event = _bench_event(function, access_token, fake)
        sink = io.StringIO()
        with redirect_stdout(sink):  # metrics are flushed to stdout as EMF lines
            for _ in range(WARMUP_CALLS):
                answer = handler(event, context)
            # A refusal would time the error path: every measured call must succeed.
            if isinstance(answer, dict) and answer.get("statusCode", 200) >= 300:
                raise RuntimeError(f"{function.name} answered {answer['statusCode']} when warm")
            batches = []
            for _ in range(BATCHES):
                started = time.perf_counter_ns()
                for _ in range(CALLS_PER_BATCH):
                    handler(event, context)
                batches.append((time.perf_counter_ns() - started) / CALLS_PER_BATCH / 1000)
                sink.seek(0)
                sink.truncate()
        results[function.name] = round(statistics.median(batches), 1)
    return results
