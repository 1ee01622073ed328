"""Mail as a person meets it: the page signs up, the mailbox page (the local SES
stand-in's, as `make run` prints it) shows the verification mail, whose link the page
uses; then the page asks for a reset and sets a new password with the mailed link."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from tests.browser.front_end import PASSWORD, FrontEnd

NEW_PASSWORD = "another-horse-battery-staple-7"


def mailed_link(mailbox: Page, mailbox_url: str, address: str, subject: str) -> str:
    """Open the mailbox, find the newest mail to the address with this subject, show its
    HTML view and read its button's link."""
    mailbox.goto(mailbox_url)
    mail = mailbox.locator(".email-inner", has_text=f"To: {address}").filter(has_text=subject)
    mail.first.wait_for()  # the viewer polls the stand-in: a mail arrives a second or so later
    mail.first.get_by_role("button", name="Toggle HTML view").click()
    frame_id = mail.first.locator("iframe").get_attribute("id")
    href = mailbox.frame_locator(f"#{frame_id}").locator("a").first.get_attribute("href")
    assert href is not None
    return href


def token_of(link: str, path: str) -> str:
    found = re.search(rf"/{path}\?token=([A-Za-z0-9._-]+)", link)
    assert found, link
    return found[1]


def test_sign_up_verify_then_reset_through_the_mailbox(
    front_end: FrontEnd, mailbox_url: str
) -> None:
    """Given a sign-up on the page, when the person opens the verification mail in the
    mailbox and the page posts its link, then the address is verified; when the page asks
    for a reset and posts the mailed link with a new password, then it reads a new
    session's tokens and the new password logs in."""
    body = front_end.register()
    mailbox = front_end.page.context.new_page()

    verify_link = mailed_link(mailbox, mailbox_url, body["email"], "Verify your email address")
    verified = front_end.call(
        "POST", "/api/email/verify", body={"token": token_of(verify_link, "verify-email")}
    )
    assert front_end.expect(verified, 200)["message"] == "Email verified successfully."

    forgot = front_end.call("POST", "/api/password/forgot", body={"email": body["email"]})
    front_end.expect(forgot, 200)
    reset_link = mailed_link(mailbox, mailbox_url, body["email"], "Reset your password")
    reset = front_end.call(
        "POST",
        "/api/password/reset",
        body={"token": token_of(reset_link, "reset-password"), "new_password": NEW_PASSWORD},
    )

    data = front_end.expect(reset, 200)["data"]
    assert data["token_type"] == "Bearer"
    account = front_end.expect(
        front_end.call("GET", "/api/account", token=data["access_token"]), 200
    )
    assert account["data"]["email_verified"] is True
    old = front_end.call(
        "POST", "/api/token", body={"username": body["username"], "password": PASSWORD}
    )
    front_end.expect(old, 401)
    new = front_end.call(
        "POST", "/api/token", body={"username": body["username"], "password": NEW_PASSWORD}
    )
    front_end.expect(new, 200)
