"""CORS in the local gateway, in process (fake functions, no network): what the HTTP
suite cannot provoke on demand (a function crash or timeout, a malformed Lambda answer),
that preflights never invoke anything, and that the settings come from the template's
API `Cors` property when it has one and from the contract's defaults when it has none.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from lockbox_local.api import LocalApp, read_app
from lockbox_local.events import HttpRequest, HttpResponse
from lockbox_local.gateway import Gateway
from lockbox_local.template import load_template
from lockbox_local.workers import Completed, Outcome, Raised, Unavailable

EXPOSED = {"etag", "retry-after"}
ALLOW_ALL = {
    "principalId": "user-1",
    "policyDocument": {
        "Version": "2012-10-17",
        "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "arn:aws:execute-api:*"}
        ],
    },
    "context": {"user_id": "user-1"},
}


class RecordingInvoker:
    """Answers per function id (an unknown one fails the test); records every call."""

    def __init__(self, **answers: Callable[[dict[str, Any]], Outcome]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def invoke(self, function_id: str, event: dict[str, Any], request_id: str) -> Outcome:
        self.calls.append(function_id)
        return self.answers[function_id](event)


def request(
    method: str, raw_path: str, headers: list[tuple[str, str]] | None = None
) -> HttpRequest:
    return HttpRequest(method, raw_path, "", headers or [], b"{}", "127.0.0.1", 3000)


def header(response: HttpResponse, name: str) -> str | None:
    values = [value for key, value in response.headers if key.lower() == name.lower()]
    assert len(values) <= 1, f"{name} sent {len(values)} times: {response.headers}"
    return values[0] if values else None


def listed(value: str | None) -> set[str]:
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


def assert_cors(response: HttpResponse, origin: str = "*") -> None:
    assert header(response, "Access-Control-Allow-Origin") == origin, response.headers
    assert listed(header(response, "Access-Control-Expose-Headers")) >= EXPOSED


@pytest.fixture(scope="module")
def app() -> LocalApp:
    return read_app(load_template())


def _template_origin() -> str:
    """The origin the template configures: its Cors property's, else AllowedOrigin's
    default, else `*` (before and after the template gains CORS settings)."""
    return header(
        Gateway(read_app(load_template()), RecordingInvoker()).handle(
            request("GET", "/nowhere"), "r"
        ),
        "Access-Control-Allow-Origin",
    ) or pytest.fail("no Access-Control-Allow-Origin at all")


@pytest.mark.parametrize(
    "function_answer",
    [
        lambda event: Raised("RuntimeError", "boom"),
        lambda event: Completed({"statusCode": 200, "body": {"not": "a string"}}),
        lambda event: Unavailable("timed out after 10 s"),
        lambda event: Unavailable("every worker stayed busy", busy=True),
    ],
    ids=["crash", "malformed-answer", "timeout", "integration-timeout"],
)
def test_gateway_5xx_answers_carry_cors(
    app: LocalApp, function_answer: Callable[[dict[str, Any]], Outcome]
) -> None:
    """Given a function that crashes, times out or answers garbage, then the gateway's
    5xx envelope carries Allow-Origin and Expose-Headers."""
    gateway = Gateway(app, RecordingInvoker(RegisterFunction=function_answer))

    response = gateway.handle(request("POST", "/api/register"), "req-1")

    assert response.status == 500
    assert json.loads(response.body)["code"] == "INTERNAL_ERROR"
    assert_cors(response, _template_origin())


@pytest.mark.parametrize(
    ("http_request", "status"),
    [
        (request("GET", "/api/data/k"), 401),
        (request("GET", "/api/data/k", [("Authorization", "Basic x")]), 401),
        (request("GET", "/no/such/route"), 404),
        (request("PATCH", "/api/token"), 404),
    ],
    ids=["no-token", "malformed-token", "unknown-route", "unknown-method"],
)
def test_gateway_4xx_answers_carry_cors(
    app: LocalApp, http_request: HttpRequest, status: int
) -> None:
    invoker = RecordingInvoker()

    response = Gateway(app, invoker).handle(http_request, "req-1")

    assert response.status == status
    assert_cors(response, _template_origin())
    assert invoker.calls == []


def test_protocol_errors_carry_cors(app: LocalApp) -> None:
    """Given a request the server cannot parse, then its 400 envelope carries them too."""
    response = Gateway(app, RecordingInvoker()).protocol_error()

    assert response.status == 400
    assert json.loads(response.body)["code"] == "INVALID_REQUEST"
    assert_cors(response, _template_origin())


def test_function_answers_get_cors_added_and_keep_their_own(app: LocalApp) -> None:
    """Given one function answer without CORS headers and one with its own, then the
    first gets the API's and the second keeps its own, each sent once."""
    bare = RecordingInvoker(
        RegisterFunction=lambda event: Completed({"statusCode": 200, "body": "{}"})
    )
    own = RecordingInvoker(
        RegisterFunction=lambda event: Completed(
            {
                "statusCode": 200,
                "headers": {
                    "Access-Control-Allow-Origin": "https://own.example",
                    "Access-Control-Expose-Headers": "ETag, Retry-After",
                },
                "body": "{}",
            }
        )
    )

    added = Gateway(app, bare).handle(request("POST", "/api/register"), "req-1")
    kept = Gateway(app, own).handle(request("POST", "/api/register"), "req-2")

    assert_cors(added, _template_origin())
    assert_cors(kept, "https://own.example")


def test_preflight_on_every_template_route_is_204_and_runs_nothing(app: LocalApp) -> None:
    """Given each route of the template, when OPTIONS comes with no token, then 204, no
    body, the route's methods, the required headers, max age >= 600, and neither the
    authorizer nor the function ran."""
    resources: dict[str, set[str]] = {}
    for route in app.routes:
        resources.setdefault(route.resource, set()).add(route.method)
    assert resources, "the template has no routes"

    for resource, methods in resources.items():
        invoker = RecordingInvoker()
        raw_path = resource.replace("{key}", "some%20key")

        response = Gateway(app, invoker).handle(request("OPTIONS", raw_path), "req-1")

        assert response.status == 204, (resource, response.body)
        assert response.body == b""
        assert_cors(response, _template_origin())
        allowed = {m.upper() for m in listed(header(response, "Access-Control-Allow-Methods"))}
        assert methods <= allowed, (resource, allowed)
        assert listed(header(response, "Access-Control-Allow-Headers")) >= {
            "authorization",
            "content-type",
            "if-match",
        }
        assert int(header(response, "Access-Control-Max-Age") or 0) >= 600
        assert invoker.calls == [], f"{resource}: the preflight invoked {invoker.calls}"


def test_preflight_without_cors_property_lists_each_routes_own_methods(app: LocalApp) -> None:
    """Given a template without a Cors property, then each resource lists its methods."""
    template = _without_cors(load_template())
    gateway = Gateway(read_app(template), RecordingInvoker())

    item = gateway.handle(request("OPTIONS", "/api/data/k"), "req-1")
    token = gateway.handle(request("OPTIONS", "/api/token"), "req-2")

    assert listed(header(item, "Access-Control-Allow-Methods")) == {
        "get",
        "put",
        "delete",
        "options",
    }
    assert listed(header(token, "Access-Control-Allow-Methods")) == {"post", "options"}


def test_origin_is_the_allowed_origin_parameter_default_star() -> None:
    """Given no Cors property, then the origin is AllowedOrigin's value: its default (`*`,
    the contract's), another default, or an override. (Every route and gateway response of
    the template names the parameter, so a template without it is not a case.)"""
    plain = _without_cors(load_template())
    with_parameter = copy.deepcopy(plain)
    with_parameter["Parameters"]["AllowedOrigin"] = {
        "Type": "String",
        "Default": "https://front.example",
    }

    for template, overrides, origin in (
        (plain, {}, "*"),
        (with_parameter, {}, "https://front.example"),
        (with_parameter, {"AllowedOrigin": "https://other.example"}, "https://other.example"),
    ):
        gateway = Gateway(read_app(template, overrides), RecordingInvoker())
        assert_cors(gateway.handle(request("GET", "/nowhere"), "req-1"), origin)
        assert_cors(gateway.handle(request("OPTIONS", "/api/data"), "req-2"), origin)


def test_cors_property_of_the_template_is_what_the_gateway_answers() -> None:
    """Given the API's SAM Cors property (the form the template uses), then origin,
    methods, headers and max age are the property's own."""
    template = _without_cors(load_template())
    template["Parameters"]["AllowedOrigin"] = {"Type": "String", "Default": "https://a.example"}
    template["Resources"]["LockboxApi"]["Properties"]["Cors"] = {
        "AllowOrigin": {"Fn::Sub": "'${AllowedOrigin}'"},
        "AllowHeaders": "'Authorization,Content-Type,If-Match,X-Extra'",
        "AllowMethods": "'DELETE,GET,OPTIONS,POST,PUT'",
        "MaxAge": "'900'",
    }
    gateway = Gateway(read_app(template), RecordingInvoker())

    preflight = gateway.handle(request("OPTIONS", "/api/token"), "req-1")
    crash = Gateway(
        read_app(template), RecordingInvoker(TokenFunction=lambda e: Raised("E", "boom"))
    ).handle(request("POST", "/api/token"), "req-2")

    assert preflight.status == 204
    assert_cors(preflight, "https://a.example")
    assert header(preflight, "Access-Control-Allow-Methods") == "DELETE,GET,OPTIONS,POST,PUT"
    assert "x-extra" in listed(header(preflight, "Access-Control-Allow-Headers"))
    assert header(preflight, "Access-Control-Max-Age") == "900"
    assert_cors(crash, "https://a.example")


def test_authorized_call_still_gets_cors(app: LocalApp) -> None:
    """Given an authorized data call answered by the function, then CORS is there too."""
    invoker = RecordingInvoker(
        AuthorizerFunction=lambda event: Completed(ALLOW_ALL),
        GetItemFunction=lambda event: Completed({"statusCode": 200, "body": "{}"}),
    )

    response = Gateway(app, invoker).handle(
        request("GET", "/api/data/k", [("Authorization", "Bearer a.b.c")]), "req-1"
    )

    assert response.status == 200
    assert_cors(response, _template_origin())
    assert invoker.calls == ["AuthorizerFunction", "GetItemFunction"]


def _without_cors(template: dict[str, Any]) -> dict[str, Any]:
    """A copy of the template with no Cors property on any API."""
    copied = copy.deepcopy(template)
    for resource in copied.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Api":
            resource.get("Properties", {}).pop("Cors", None)
    return copied
