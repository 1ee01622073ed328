"""The local runner's pure pieces: routes from template.yaml, path parameters decoded
exactly once, the proxy event's shape, gateway responses, and the gateway's order of
checks (with a fake invoker: no processes, no network)."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from lockbox_local.api import LocalApp, read_app
from lockbox_local.events import HttpRequest, HttpResponse, proxy_event
from lockbox_local.gateway import MAX_BODY_BYTES, Gateway, read_request
from lockbox_local.gateway_responses import render
from lockbox_local.routes import Router
from lockbox_local.template import load_template
from lockbox_local.workers import Completed, Outcome, Raised, Unavailable

NOT_FOUND = {
    "status": "error",
    "code": "NOT_FOUND",
    "message": "The requested resource was not found.",
}
INVALID_TOKEN = {
    "status": "error",
    "code": "INVALID_TOKEN",
    "message": "Invalid access token provided.",
}
INTERNAL_ERROR = {
    "status": "error",
    "code": "INTERNAL_ERROR",
    "message": "An internal server error occurred. Please try again later.",
}
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


@pytest.fixture(scope="module")
def app() -> LocalApp:
    return read_app(load_template())


def parameter_default(name: str) -> Any:
    return load_template()["Parameters"][name]["Default"]


def request(
    method: str,
    raw_path: str,
    *,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    query: str = "",
) -> HttpRequest:
    return HttpRequest(method, raw_path, query, headers or [], body, "10.1.2.3", 3000)


class FakeInvoker:
    """Answers per function id; records every call."""

    def __init__(self, **answers: Callable[[dict[str, Any]], Outcome]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, function_id: str, event: dict[str, Any], request_id: str) -> Outcome:
        self.calls.append((function_id, event))
        return self.answers[function_id](event)

    def called(self, function_id: str) -> list[dict[str, Any]]:
        return [event for called_id, event in self.calls if called_id == function_id]


def echo_event(event: dict[str, Any]) -> Outcome:
    return Completed(
        {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(event),
        }
    )


# --- routes ------------------------------------------------------------------------------


def test_routes_come_from_the_template(app: LocalApp) -> None:
    routes = {(route.method, route.resource): route for route in app.routes}

    assert routes[("POST", "/api/register")].authorizer is None
    assert routes[("POST", "/api/token")].authorizer is None
    for method in ("GET", "PUT", "DELETE"):
        assert routes[(method, "/api/data/{key}")].authorizer == "TokenAuthorizer"
    assert routes[("POST", "/api/data")].function_id == "StoreItemFunction"


def test_token_authorizer_config_comes_from_the_template(app: LocalApp) -> None:
    authorizer = app.apis["LockboxApi"].authorizers["TokenAuthorizer"]

    assert authorizer.header == "Authorization"
    assert authorizer.ttl_seconds == int(parameter_default("AuthorizerCacheTtl"))
    assert authorizer.function_id == "AuthorizerFunction"
    assert authorizer.validation is not None
    assert authorizer.validation.fullmatch("Bearer abc.def.ghi")
    assert not authorizer.validation.fullmatch("Basic abc")


def test_function_environment_is_resolved(app: LocalApp) -> None:
    environment = app.functions["TokenFunction"].environment

    assert all(isinstance(value, str) for value in environment.values())
    assert environment["USERS_TABLE"] == "UsersTable"  # the name create_tables gives it
    assert environment["BCRYPT_COST"] == str(parameter_default("BcryptCost"))
    assert environment["JWT_ISSUER"].endswith(f"/{parameter_default('Stage')}")
    assert environment["JWT_SECRET_ID"] == app.resolver.ref("JwtSigningKey")


@pytest.mark.parametrize(
    ("raw_path", "key"),
    [
        ("/api/data/plain", "plain"),
        ("/api/data/50%25%20off", "50% off"),
        ("/api/data/50%2525", "50%25"),  # decoded once, never twice
        ("/api/data/a%2Fb", "a/b"),  # an encoded slash stays inside the parameter
        ("/api/data/a+b", "a+b"),  # '+' is not a space in a path
        ("/api/data/%3F%23", "?#"),
        ("/api/data/caf%C3%A9%20%F0%9F%94%91", "café 🔑"),
    ],
)
def test_path_parameters_are_decoded_exactly_once(app: LocalApp, raw_path: str, key: str) -> None:
    match = Router(app.routes).match("GET", raw_path)

    assert match is not None
    assert match.route.resource == "/api/data/{key}"
    assert match.path_parameters == {"key": key}


@pytest.mark.parametrize(
    ("method", "raw_path"),
    [
        ("GET", "/api/data/a/b"),
        ("DELETE", "/api/data/"),
        ("PATCH", "/api/data/key/increment"),
        ("GET", "/api/register"),
        ("POST", "/API/register"),
        ("GET", "/"),
    ],
)
def test_unknown_routes_and_methods_do_not_match(app: LocalApp, method: str, raw_path: str) -> None:
    assert Router(app.routes).match(method, raw_path) is None


# --- events ------------------------------------------------------------------------------


def test_proxy_event_has_the_rest_v1_shape(app: LocalApp) -> None:
    match = Router(app.routes).match("GET", "/api/data/50%25%20off")
    assert match is not None
    headers = [("Accept", "a"), ("accept", "b"), ("User-Agent", "curl/8")]

    event = proxy_event(
        request("GET", "/api/data/50%25%20off", headers=headers, query="x=1&x=2&y=%20"),
        match,
        stage="dev",
        request_id="req-1",
        authorizer={"user_id": "u1", "principalId": "u1", "integrationLatency": 3},
    )

    assert event["resource"] == "/api/data/{key}"
    assert event["path"] == "/api/data/50%25%20off"  # as sent, like API Gateway's REST APIs
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"key": "50% off"}
    assert event["headers"]["Accept"] == "b"
    assert event["multiValueHeaders"]["Accept"] == ["a", "b"]
    assert event["headers"]["X-Forwarded-For"] == "10.1.2.3"
    assert event["queryStringParameters"] == {"x": "2", "y": " "}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [" "]}
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["requestId"] == "req-1"
    assert context["stage"] == "dev"
    assert context["path"] == "/dev/api/data/50%25%20off"
    assert context["resourcePath"] == "/api/data/{key}"
    assert context["httpMethod"] == "GET"
    assert context["identity"]["sourceIp"] == "10.1.2.3"
    assert context["identity"]["userAgent"] == "curl/8"
    assert isinstance(context["requestTimeEpoch"], int)
    assert context["authorizer"] == {"user_id": "u1", "principalId": "u1", "integrationLatency": 3}


def test_absent_query_and_binary_body(app: LocalApp) -> None:
    match = Router(app.routes).match("POST", "/api/register")
    assert match is not None

    text = proxy_event(
        request("POST", "/api/register", body='{"a": "é"}'.encode()),
        match,
        stage="dev",
        request_id="r",
        authorizer=None,
    )
    binary = proxy_event(
        request("POST", "/api/register", body=b"\xff\xfe"),
        match,
        stage="dev",
        request_id="r",
        authorizer=None,
    )

    assert text["queryStringParameters"] is None
    assert text["multiValueQueryStringParameters"] is None
    assert text["pathParameters"] is None
    assert "authorizer" not in text["requestContext"]
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": "é"}', False)
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\xff\xfe"


# --- gateway responses -------------------------------------------------------------------


def test_gateway_responses_come_from_the_template(app: LocalApp) -> None:
    specs = app.apis["LockboxApi"].gateway_responses

    unauthorized = render(specs, "UNAUTHORIZED", "req-1")
    not_found = render(specs, "MISSING_AUTHENTICATION_TOKEN", "req-1")

    assert unauthorized.status == 401
    assert json.loads(unauthorized.body) == INVALID_TOKEN
    assert ("Content-Type", "application/json") in unauthorized.headers
    assert not_found.status == 404
    assert json.loads(not_found.body) == NOT_FOUND


def test_undefined_response_types_fall_back_to_the_default_ones(app: LocalApp) -> None:
    specs = app.apis["LockboxApi"].gateway_responses

    failure = render(specs, "AUTHORIZER_FAILURE", "req-1")  # not in the template: DEFAULT_5XX
    bare = render({}, "MISSING_AUTHENTICATION_TOKEN", "req-1")  # API Gateway's own default

    assert failure.status == 500
    assert json.loads(failure.body) == INTERNAL_ERROR
    assert bare.status == 403
    assert json.loads(bare.body) == {"message": "Missing Authentication Token"}


# --- the gateway's order of checks (fake functions) --------------------------------------


def answer(gateway: Gateway, http_request: HttpRequest) -> tuple[int, Any]:
    response = gateway.handle(http_request, "req-1")
    return response.status, json.loads(response.body)


def test_unknown_route_is_not_found_without_calling_anything(app: LocalApp) -> None:
    invoker = FakeInvoker()

    assert answer(Gateway(app, invoker), request("GET", "/api/nothing")) == (404, NOT_FOUND)
    assert invoker.calls == []


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("Authorization", "")],
        [("Authorization", "Basic abc")],
        [("Authorization", "Bearer ")],
        [("Authorization", "Bearer a b")],
    ],
)
def test_missing_or_malformed_token_is_refused_before_the_authorizer(
    app: LocalApp, headers: list[tuple[str, str]]
) -> None:
    invoker = FakeInvoker()

    status, body = answer(Gateway(app, invoker), request("GET", "/api/data/k", headers=headers))

    assert (status, body) == (401, INVALID_TOKEN)
    assert invoker.calls == []


def test_authorizer_refusal_is_401(app: LocalApp) -> None:
    invoker = FakeInvoker(
        AuthorizerFunction=lambda event: Raised("UnauthorizedError", "Unauthorized")
    )

    status, body = answer(
        Gateway(app, invoker),
        request("GET", "/api/data/k", headers=[("Authorization", "Bearer t.o.k")]),
    )

    assert (status, body) == (401, INVALID_TOKEN)
    assert [called for called, _ in invoker.calls] == ["AuthorizerFunction"]


DENY_ALL = {
    "principalId": "anonymous",
    "policyDocument": {
        "Version": "2012-10-17",
        "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "arn:aws:execute-api:*"}
        ],
    },
}


def test_an_explicit_deny_answers_what_a_missing_token_answers_and_is_cached(
    app: LocalApp,
) -> None:
    """Given the authorizer's explicit Deny, the answer is 401 INVALID_TOKEN with the same
    body and headers as API Gateway's own 401 for a missing token (only its
    x-amzn-ErrorType names the response type), and the Deny is cached like an Allow."""
    invoker = FakeInvoker(AuthorizerFunction=lambda event: Completed(DENY_ALL))
    gateway = Gateway(app, invoker)
    headers = [("Authorization", "Bearer t.o.k")]

    denied = gateway.handle(request("GET", "/api/data/k", headers=headers), "req-1")
    again = gateway.handle(request("DELETE", "/api/data/other", headers=headers), "req-2")
    missing = gateway.handle(request("GET", "/api/data/k"), "req-3")

    def shape(response: HttpResponse) -> tuple[int, bytes, dict[str, str]]:
        kept = {
            k: v for k, v in response.headers if k not in {"x-amzn-RequestId", "x-amzn-ErrorType"}
        }
        return response.status, response.body, kept

    assert json.loads(denied.body) == INVALID_TOKEN
    assert shape(denied) == shape(again) == shape(missing)
    assert [called for called, _ in invoker.calls] == ["AuthorizerFunction"]


def test_authorizer_context_reaches_the_function_and_is_cached(app: LocalApp) -> None:
    invoker = FakeInvoker(
        AuthorizerFunction=lambda event: Completed(ALLOW_ALL),
        GetItemFunction=echo_event,
        DeleteItemFunction=echo_event,
    )
    gateway = Gateway(app, invoker)
    headers = [("Authorization", "Bearer t.o.k")]

    status, event = answer(gateway, request("GET", "/api/data/k", headers=headers))
    answer(gateway, request("DELETE", "/api/data/k", headers=headers))

    assert status == 200
    assert event["requestContext"]["authorizer"]["user_id"] == "user-1"
    assert event["requestContext"]["authorizer"]["principalId"] == "user-1"
    (authorizer_event,) = invoker.called("AuthorizerFunction")  # the second request hit the cache
    assert authorizer_event["type"] == "TOKEN"
    assert authorizer_event["authorizationToken"] == "Bearer t.o.k"
    assert authorizer_event["methodArn"].endswith("/dev/GET/api/data/k")


def test_explicit_deny_is_refused(app: LocalApp) -> None:
    deny = json.loads(json.dumps(ALLOW_ALL).replace('"Allow"', '"Deny"'))
    invoker = FakeInvoker(AuthorizerFunction=lambda event: Completed(deny))

    status, body = answer(
        Gateway(app, invoker),
        request("GET", "/api/data/k", headers=[("Authorization", "Bearer t.o.k")]),
    )

    assert (status, body) == (401, INVALID_TOKEN)  # ACCESS_DENIED, shaped by the template
    assert invoker.called("GetItemFunction") == []


@pytest.mark.parametrize(
    "outcome",
    [
        Raised("RuntimeError", "boom"),
        Completed({"statusCode": 200, "body": {"not": "a string"}}),
        Completed({"body": "no status"}),
        Completed("not an object"),
    ],
)
def test_function_failures_answer_the_5xx_envelope(app: LocalApp, outcome: Outcome) -> None:
    invoker = FakeInvoker(RegisterFunction=lambda event: outcome)

    assert answer(Gateway(app, invoker), request("POST", "/api/register", body=b"{}")) == (
        500,
        INTERNAL_ERROR,
    )


def test_proxy_response_headers_and_base64_body(app: LocalApp) -> None:
    lambda_answer = {
        "statusCode": 201,
        "headers": {"X-One": "1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": base64.b64encode(b"\x00\x01").decode(),
        "isBase64Encoded": True,
    }
    invoker = FakeInvoker(RegisterFunction=lambda event: Completed(lambda_answer))

    response = Gateway(app, invoker).handle(request("POST", "/api/register", body=b"{}"), "req-1")

    assert response.status == 201
    assert response.body == b"\x00\x01"
    assert [value for name, value in response.headers if name == "Set-Cookie"] == ["a=1", "b=2"]
    assert ("X-One", "1") in response.headers


def test_body_over_ten_megabytes_is_refused() -> None:
    environ = EnvironBuilder(
        path="/api/register", method="POST", data=b"x" * (MAX_BODY_BYTES + 1)
    ).get_environ()

    http_request, too_large = read_request(environ)

    assert too_large
    assert http_request.body == b""


def test_wsgi_app_routes_on_the_raw_uri_and_refuses_large_bodies(app: LocalApp) -> None:
    invoker = FakeInvoker(
        AuthorizerFunction=lambda event: Completed(ALLOW_ALL), GetItemFunction=echo_event
    )
    gateway = Gateway(app, invoker)
    replies: list[str] = []

    def call(environ: dict[str, Any]) -> tuple[str, Any]:
        body = b"".join(gateway(environ, lambda status, headers: replies.append(status)))
        return replies[-1], json.loads(body)

    get = EnvironBuilder(
        path="/api/data/a/b", headers={"Authorization": "Bearer t.o.k"}
    ).get_environ()
    get["RAW_URI"] = "/api/data/a%2Fb?x=1"  # what the server saw: PATH_INFO lost the %2F
    large = EnvironBuilder(
        path="/api/register", method="POST", data=b"x" * (MAX_BODY_BYTES + 1)
    ).get_environ()

    status, event = call(get)
    assert status == "200 OK"
    assert event["pathParameters"] == {"key": "a/b"}
    assert event["queryStringParameters"] == {"x": "1"}
    status, body = call(large)
    assert status == "400 Bad Request"  # REQUEST_TOO_LARGE, shaped by the template
    assert body["code"] == "INVALID_REQUEST"


EXPOSED = {"etag", "retry-after"}


class RecordingInvoker:
    """Answers per function id (an unknown one fails the test); records every call."""

    def __init__(self, **answers: Callable[[dict[str, Any]], Outcome]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def invoke(self, function_id: str, event: dict[str, Any], request_id: str) -> Outcome:
        self.calls.append(function_id)
        return self.answers[function_id](event)


def header(response: HttpResponse, name: str) -> str | None:
    values = [value for key, value in response.headers if key.lower() == name.lower()]
    assert len(values) <= 1, f"{name} sent {len(values)} times: {response.headers}"
    return values[0] if values else None


def listed(value: str | None) -> set[str]:
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


def assert_cors(response: HttpResponse, origin: str = "*") -> None:
    assert header(response, "Access-Control-Allow-Origin") == origin, response.headers
    assert listed(header(response, "Access-Control-Expose-Headers")) >= EXPOSED


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
        (request("GET", "/api/data/k", headers=[("Authorization", "Basic x")]), 401),
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
        "patch",
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
        request("GET", "/api/data/k", headers=[("Authorization", "Bearer a.b.c")]), "req-1"
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
