"""The browser suite's view of the test page (page/index.html): each call runs `fetch` in
Chromium, from the page's origin, and comes back as what the page's JavaScript could read.

Given steps use the same page: a front end registers and logs in before it stores keys.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import ConsoleMessage, Page

PASSWORD = "correct-horse-battery-staple-42"


@dataclass(frozen=True, slots=True)
class Answer:
    """One call as the page saw it. `error` is set when the browser withheld the response
    from the page (no CORS headers on it, or the request never got an answer)."""

    call: str
    status: int | None
    headers: dict[str, str]
    text: str
    body: Any
    error: str | None


@dataclass
class FrontEnd:
    """The test page in a fresh browser context, with what it wrote to its console."""

    page: Page
    api_url: str
    console: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._remember)

    def _remember(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        options: dict[str, Any] = {"headers": headers or {}}
        if body is not None:
            options["body"] = body
        if token is not None:
            options["token"] = token
        seen: dict[str, Any] = self.page.evaluate(
            "([method, path, options]) => window.lockbox.call(method, path, options)",
            [method, path, options],
        )
        return Answer(
            call=f"{method} {path}",
            status=seen["status"],
            headers=seen["headers"],
            text=seen["text"],
            body=seen["body"],
            error=seen["error"],
        )

    def expect(self, answer: Answer, status: int) -> Any:
        """The answer's JSON body, once the page could read it and its status is `status`."""
        assert answer.error is None, (
            f"{answer.call}: the page could not read the answer ({answer.error}); "
            "a response without Access-Control-Allow-Origin is withheld from the page.\n"
            "Browser console:\n  " + "\n  ".join(self.console[-10:])
        )
        assert answer.status == status, f"{answer.call}: {answer.status} {answer.text[:500]}"
        assert answer.body is not None, f"{answer.call}: the body is not JSON: {answer.text[:500]}"
        return answer.body

    # --- Given steps, each through the page ------------------------------------------------

    def register(self) -> dict[str, Any]:
        """A new account by POST /api/register; the registration body is returned."""
        body = registration_body()
        self.expect(self.call("POST", "/api/register", body=body), 200)
        return body

    def log_in(self, username: str) -> dict[str, Any]:
        """POST /api/token's data for an account registered with PASSWORD."""
        answer = self.call("POST", "/api/token", body={"username": username, "password": PASSWORD})
        data: dict[str, Any] = self.expect(answer, 200)["data"]
        return data

    def registered_token(self) -> str:
        token: str = self.log_in(self.register()["username"])["access_token"]
        return token

    def store(self, token: str, key: str, value: Any) -> None:
        self.expect(
            self.call("POST", "/api/data", body={"key": key, "value": value}, token=token), 200
        )

    def users_register(self) -> dict[str, Any]:
        """A new account by POST /users/register: {"token", "user"} plus the password used."""
        body = users_registration_body()
        answer: dict[str, Any] = self.expect(self.call("POST", "/users/register", body=body), 201)
        return {**answer, "password": body["password"]}


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def registration_body() -> dict[str, Any]:
    username = unique("browser")
    return {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        "full_name": "Browser User",
        "age": 30,
        "gender": "non-binary",
    }


def users_registration_body() -> dict[str, Any]:
    return {
        "fullname": {"firstname": "Browser", "lastname": "Person"},
        "email": f"{unique('browser')}@example.com",
        "password": PASSWORD,
    }
