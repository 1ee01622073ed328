"""The second-factor calls of the handler suite: enrolment of the sample account, codes of
its authenticator, and the login's two steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyotp

from tests.authenticator import code
from tests.handlers.accounts import USER
from tests.handlers.calls import Answer, call, handler, with_body
from tests.handlers.sessions import as_caller, token


@dataclass(frozen=True)
class Enrolled:
    """An account with the factor on: its authenticator, its recovery codes and the access
    token of the session that enrolled it."""

    authenticator: pyotp.TOTP
    recovery_codes: list[str]
    access_token: str


def setup(context: Any, access_token: str, password: str = USER["password"]) -> Answer:
    event = as_caller("mfa_setup_success", access_token, context, {"password": password})
    return call(handler("mfa_setup"), event, context)


def confirm(context: Any, access_token: str, code_text: object) -> Answer:
    event = as_caller("mfa_confirm_success", access_token, context, {"code": code_text})
    return call(handler("mfa_confirm"), event, context)


def disable(
    context: Any, access_token: str, code_text: object, password: str = USER["password"]
) -> Answer:
    body = {"password": password, "code": code_text}
    return call(
        handler("mfa_disable"),
        as_caller("mfa_disable_success", access_token, context, body),
        context,
    )


def replace_codes(
    context: Any, access_token: str, code_text: object, password: str = USER["password"]
) -> Answer:
    body = {"password": password, "code": code_text}
    event = as_caller("recovery_codes_success", access_token, context, body)
    return call(handler("recovery_codes"), event, context)


def enrol(context: Any, access_token: str) -> Enrolled:
    """Turn the factor on for the caller, confirmed with the previous step's code (so that
    the current and next steps' codes are still unused)."""
    status, body = setup(context, access_token)
    assert status == 200, body
    authenticator = pyotp.TOTP(body["data"]["secret"])
    status, body = confirm(context, access_token, code(authenticator, -1))
    assert status == 200, body
    return Enrolled(authenticator, body["data"]["recovery_codes"], access_token)


def mfa_token(context: Any, password: str = USER["password"]) -> str:
    """The mfa_token of a login of the sample account (its factor on)."""
    status, body = token(context, USER["username"], password)
    assert (status, body["code"]) == (401, "MFA_REQUIRED"), body
    return str(body["data"]["mfa_token"])


def token_mfa(context: Any, mfa_token_text: object, code_text: object) -> Answer:
    body = {"mfa_token": mfa_token_text, "code": code_text}
    return call(handler("token_mfa"), with_body("token_mfa_success", body), context)
