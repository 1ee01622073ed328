"""The second factor driven by the page (page/index.html), with `fetch` in Chromium from
another origin: enrolment (setup, then confirm with the authenticator's first code) and a
login that answers MFA_REQUIRED, then sends the typed code with its mfa_token. The
authenticator is pyotp, fed the secret the page received; the page asks it for each code
through window.askCode, where a real front end would prompt its user.
"""

from __future__ import annotations

from typing import Any

import pyotp

from tests.authenticator import code
from tests.browser.front_end import PASSWORD, FrontEnd


def authenticator_on_page(front_end: FrontEnd, offsets: list[int]) -> None:
    """The page's window.askCode answers the authenticator's codes for the secret the page
    received at setup, one step offset each call (neighbouring steps, so no code is given
    twice without waiting 30 s)."""
    pending = list(offsets)

    def ask_code() -> str:
        secret = front_end.page.evaluate("window.enrolling.secret")
        return code(pyotp.TOTP(secret), pending.pop(0))

    front_end.page.expose_function("askCode", ask_code)


def run(front_end: FrontEnd, script: str, *arguments: Any) -> dict[str, Any]:
    seen: dict[str, Any] = front_end.page.evaluate(script, list(arguments))
    return seen


def test_enrolment_and_a_login_with_the_second_factor(front_end: FrontEnd) -> None:
    """Given an account, when the page enrols an authenticator and then logs in, then it
    reads the confirmation with ten recovery codes, an MFA_REQUIRED answer with its
    mfa_token (data readable across origins), and the tokens of /api/token/mfa, whose
    access token reads the account."""
    account = front_end.register()
    token = front_end.log_in(account["username"])["access_token"]
    authenticator_on_page(front_end, [-1, 0])

    enrolled = run(front_end, "([t, p]) => window.lockbox.enrol(t, p)", token, PASSWORD)
    login = run(front_end, "([u, p]) => window.lockbox.logIn(u, p)", account["username"], PASSWORD)

    assert enrolled["status"] == 200, enrolled["text"]
    assert enrolled["body"]["message"] == "Two-factor authentication enabled."
    assert len(enrolled["body"]["data"]["recovery_codes"]) == 10
    assert login["status"] == 200, login["text"]
    assert login["body"]["message"] == "Access token generated successfully."
    calls = front_end.page.locator("#calls td.call").all_inner_texts()
    assert calls[-2:] == ["POST /api/token", "POST /api/token/mfa"]
    mfa_required = front_end.page.locator("#calls tr").nth(len(calls) - 2).inner_text()
    assert "MFA_REQUIRED" in mfa_required
    assert "mfa_token" in mfa_required
    profile = front_end.call("GET", "/api/account", token=login["body"]["data"]["access_token"])
    assert front_end.expect(profile, 200)["data"]["username"] == account["username"]


def test_a_recovery_code_typed_on_the_page_logs_in(front_end: FrontEnd) -> None:
    """Given an enrolled account, when the page's login is answered with a recovery code,
    then it reads the tokens; the same code on the next login is INVALID_MFA_CODE."""
    account = front_end.register()
    token = front_end.log_in(account["username"])["access_token"]
    authenticator_on_page(front_end, [-1])
    enrolled = run(front_end, "([t, p]) => window.lockbox.enrol(t, p)", token, PASSWORD)
    recovery = enrolled["body"]["data"]["recovery_codes"][0]
    script = "([u, p, c]) => window.lockbox.logIn(u, p, c)"

    first = run(front_end, script, account["username"], PASSWORD, recovery)
    again = run(front_end, script, account["username"], PASSWORD, recovery)

    assert first["status"] == 200, first["text"]
    assert (again["status"], again["body"]["code"]) == (401, "INVALID_MFA_CODE")
