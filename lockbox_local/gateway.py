"""The local API Gateway: a WSGI app doing what the REST API does in front of Lambda.

Per request: size limit, route match, TOKEN authorizer (with its cache), proxy event,
function call, proxy response; every answer API Gateway makes itself comes from the
template's GatewayResponses. Request bodies and Authorization headers are never logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wsgi import get_input_stream

from lockbox_local import gateway_responses
from lockbox_local.api import ApiSpec, LocalApp
from lockbox_local.authorizers import (
    AuthorizerAnswer,
    AuthorizerCache,
    Decision,
    PolicyError,
    token_is_well_formed,
)
from lockbox_local.docs_page import docs_response, is_docs_path
from lockbox_local.events import (
    HttpRequest,
    HttpResponse,
    method_arn,
    proxy_event,
    split_request_uri,
    token_authorizer_event,
)
from lockbox_local.openapi import served_document
from lockbox_local.routes import RouteMatch, Router
from lockbox_local.workers import Completed, Invoker, Raised, Unavailable

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
# Lambda's synchronous invoke takes at most 6 MB (the whole proxy event, not just its body):
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024
_DRAIN_LIMIT_BYTES = 64 * 1024 * 1024  # read (and drop) at most this much of a too-large body
RAW_HEADERS_KEY = "lockbox_local.raw_headers"  # set by server.RequestHandler
_PROXY_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
OPENAPI_ROUTE = "/openapi.json"  # the local runner's own route: docs/openapi.yaml as JSON
# and its other one: /docs, Swagger UI on that document (lockbox_local/docs_page.py)
# A Host header naming a host (a name, IPv4 or [IPv6]) and perhaps a port, nothing else.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


class MalformedResponseError(ValueError):
    """The function's answer is not a valid Lambda proxy response."""


class Gateway:
    def __init__(
        self, app: LocalApp, invoker: Invoker, cache: AuthorizerCache | None = None
    ) -> None:
        self._app = app
        self._router = Router(app.routes)
        self._invoker = invoker
        self._cache = cache or AuthorizerCache()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        main_api = self._app.main_api
        method = str(environ.get("REQUEST_METHOD", "")).upper()
        try:
            request, too_large = read_request(environ)
        except (OSError, ValueError, ClientDisconnected) as error:  # malformed or cut short
            logger.warning("unreadable request body: %s", error)
            response = self._gateway_response(main_api, "BAD_REQUEST_BODY", request_id)
            path = str(environ.get("RAW_URI") or environ.get("PATH_INFO", ""))
        else:
            path = request.raw_path
            if too_large:
                response = self._gateway_response(main_api, "REQUEST_TOO_LARGE", request_id)
            else:
                try:
                    response = self.handle(request, request_id)
                except Exception:  # never a werkzeug HTML page: the envelope, the cause logged
                    logger.exception("local gateway error")
                    response = self._gateway_response(main_api, "DEFAULT_5XX", request_id)
        logger.info(
            "%s %s -> %d%s (%.0f ms, request %s)",
            method,
            path,
            response.status,
            f" {response.error_type}" if response.error_type else "",
            (time.perf_counter() - started) * 1000,
            request_id,
        )
        headers = main_api.cors.add_to(response.headers)  # a safety net: every answer has CORS
        if response.status != 204:
            headers.append(("Content-Length", str(len(response.body))))
        start_response(f"{response.status} {_reason(response.status)}", headers)
        return [b"" if method == "HEAD" else response.body]

    def protocol_error(self) -> HttpResponse:
        """What the server answers a request it cannot parse (bad request line, version,
        URL or headers): the API's 4xx gateway response, never an HTML page."""
        return self._gateway_response(self._app.main_api, "DEFAULT_4XX", str(uuid.uuid4()))

    def handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        if request.method == "GET" and request.raw_path == OPENAPI_ROUTE:
            body = json.dumps(served_document(_own_url(request))).encode()
            headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
            return HttpResponse(200, headers, body)
        if request.method in ("GET", "HEAD") and is_docs_path(request.raw_path):
            page = docs_response(request.raw_path, request_id, OPENAPI_ROUTE)
            if page is not None:
                return page
        match = self._router.match(request.method, request.raw_path)
        if match is None and request.method == "OPTIONS":
            preflight = self._preflight(request.raw_path, request_id)
            if preflight is not None:
                return preflight
        if match is None:
            api = self._app.main_api
            return self._gateway_response(api, "MISSING_AUTHENTICATION_TOKEN", request_id)
        api = self._app.apis[match.route.api_id]
        authorizer_context: dict[str, Any] | None = None
        if match.route.authorizer is not None:
            outcome = self._authorize(request, match, api, request_id)
            if isinstance(outcome, HttpResponse):
                return outcome
            authorizer_context = outcome
        event = proxy_event(
            request, match, stage=api.stage, request_id=request_id, authorizer=authorizer_context
        )
        return self._call_function(match, api, event, request_id)

    def _preflight(self, raw_path: str, request_id: str) -> HttpResponse | None:
        """A CORS preflight on a route: 204, no body, no authorizer (SAM's mock OPTIONS)."""
        routes = self._router.resource_routes(raw_path)
        if not routes:
            return None
        cors = self._app.apis[routes[0].api_id].cors
        headers = [
            *cors.response_headers(),
            *cors.preflight_headers(route.method for route in routes),
            ("x-amzn-RequestId", request_id),
        ]
        return HttpResponse(204, headers, b"")

    def _authorize(
        self, request: HttpRequest, match: RouteMatch, api: ApiSpec, request_id: str
    ) -> dict[str, Any] | HttpResponse:
        spec = api.authorizers[str(match.route.authorizer)]
        token = request.header(spec.header)
        if token is None or not token_is_well_formed(spec, token):
            return self._gateway_response(api, "UNAUTHORIZED", request_id)
        arn = method_arn(api.stage, request.method, request.raw_path)
        answer = self._cache.get(spec, token)
        latency_ms = 0
        if answer is None:
            started = time.perf_counter()
            outcome = self._invoker.invoke(
                spec.function_id, token_authorizer_event(token, arn), str(uuid.uuid4())
            )
            latency_ms = int((time.perf_counter() - started) * 1000)
            if isinstance(outcome, Raised) and outcome.error_message == "Unauthorized":
                return self._gateway_response(api, "UNAUTHORIZED", request_id)
            if not isinstance(outcome, Completed):
                logger.error("authorizer %s failed: %s", spec.name, _describe(outcome))
                return self._gateway_response(api, "AUTHORIZER_FAILURE", request_id)
            try:
                answer = AuthorizerAnswer.parse(outcome.payload)
            except PolicyError as error:
                logger.error("authorizer %s answered an invalid policy: %s", spec.name, error)
                return self._gateway_response(api, "AUTHORIZER_CONFIGURATION_ERROR", request_id)
            self._cache.put(spec, token, answer)
        if answer.decide(arn) is Decision.DENY:
            return self._gateway_response(api, "ACCESS_DENIED", request_id)
        return answer.request_context(latency_ms)

    def _call_function(
        self, match: RouteMatch, api: ApiSpec, event: dict[str, Any], request_id: str
    ) -> HttpResponse:
        function_id = match.route.function_id
        size = len(json.dumps(event).encode("utf-8"))
        if size > MAX_INVOKE_PAYLOAD_BYTES:
            # Lambda refuses the synchronous invoke (413 RequestEntityTooLargeException) and
            # API Gateway answers with its integration-failure response (docs/production.md).
            logger.error("%s: event of %d bytes is over Lambda's invoke limit", function_id, size)
            return self._gateway_response(api, "INTEGRATION_FAILURE", request_id)
        outcome = self._invoker.invoke(function_id, event, str(uuid.uuid4()))
        if isinstance(outcome, Completed):
            try:
                response = proxy_response(outcome.payload, request_id)
                return HttpResponse(
                    response.status, api.cors.add_to(response.headers), response.body
                )
            except MalformedResponseError as error:
                logger.error("%s: malformed Lambda proxy response: %s", function_id, error)
                return self._gateway_response(api, "DEFAULT_5XX", request_id)
        logger.error("%s failed: %s", function_id, _describe(outcome))
        if isinstance(outcome, Unavailable) and outcome.busy:
            return self._gateway_response(api, "INTEGRATION_TIMEOUT", request_id)
        return self._gateway_response(api, "DEFAULT_5XX", request_id)

    def _gateway_response(self, api: ApiSpec, response_type: str, request_id: str) -> HttpResponse:
        response = gateway_responses.render(api.gateway_responses, response_type, request_id)
        return HttpResponse(
            response.status, api.cors.add_to(response.headers), response.body, response.error_type
        )


def _describe(outcome: Raised | Unavailable) -> str:
    if isinstance(outcome, Raised):
        return f"{outcome.error_type}: {outcome.error_message}"
    return outcome.reason


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _own_url(request: HttpRequest) -> str:
    """This stack's base URL as the client reached it (its Host header), so the served
    document names the very address and port the client used."""
    host = (request.header("Host") or "").strip()
    if not _HOST.fullmatch(host):
        host = f"127.0.0.1:{request.server_port}"
    return f"http://{host}"


def read_request(environ: WSGIEnvironment) -> tuple[HttpRequest, bool]:
    """The request as received, and whether its body exceeds API Gateway's limit."""
    uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not uri:  # a WSGI server that keeps no raw URI: rebuild it from the decoded path
        query = environ.get("QUERY_STRING", "")
        uri = quote(environ.get("PATH_INFO", "/")) + (f"?{query}" if query else "")
    raw_path, raw_query = split_request_uri(uri)
    stream = get_input_stream(environ)
    body = stream.read(MAX_BODY_BYTES + 1)
    too_large = len(body) > MAX_BODY_BYTES
    declared = _declared_length(environ)
    if declared is not None and len(body) < min(declared, MAX_BODY_BYTES + 1):
        # The client stopped sending (or closed) before its Content-Length: API Gateway
        # never invokes a function with half a body.
        raise ValueError(f"body of {len(body)} bytes, Content-Length {declared}")
    if too_large:  # drain it, so the client reads the answer instead of a reset
        drained = len(body)
        body = b""
        while drained < _DRAIN_LIMIT_BYTES and (chunk := stream.read(1024 * 1024)):
            drained += len(chunk)
    request = HttpRequest(
        method=environ["REQUEST_METHOD"].upper(),
        raw_path=raw_path,
        raw_query=raw_query,
        headers=environ.get(RAW_HEADERS_KEY) or _environ_headers(environ),
        body=body,
        source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
        server_port=int(environ.get("SERVER_PORT", 0)),
        protocol=environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
    )
    return request, too_large


def _declared_length(environ: WSGIEnvironment) -> int | None:
    """Content-Length, when the body is not chunked (a malformed one: ValueError)."""
    if environ.get("wsgi.input_terminated"):
        return None  # chunked: the chunks say where the body ends
    value = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValueError(f"Content-Length {value!r}")
    return int(value)


def _environ_headers(environ: WSGIEnvironment) -> list[tuple[str, str]]:
    """Headers rebuilt from CGI-style keys (names lose their case; repeated ones are joined)."""
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").title(), str(value)))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.append((key.replace("_", "-").title(), str(value)))
    return headers


def proxy_response(payload: Any, request_id: str) -> HttpResponse:
    """The HTTP response of a Lambda proxy integration answer; malformed ones are refused."""
    if not isinstance(payload, Mapping):
        raise MalformedResponseError("not an object")
    unknown = set(payload) - _PROXY_RESPONSE_KEYS
    if unknown:
        raise MalformedResponseError(f"unexpected fields {sorted(unknown)}")
    status = _status_code(payload.get("statusCode"))
    body = payload.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedResponseError("body is not a string")
    is_base64 = payload.get("isBase64Encoded", False)
    if not isinstance(is_base64, bool):
        raise MalformedResponseError("isBase64Encoded is not a boolean")
    try:
        raw_body = (
            base64.b64decode(body or "", validate=True) if is_base64 else (body or "").encode()
        )
    except binascii.Error:
        raise MalformedResponseError("body is not valid base64") from None
    headers = _response_headers(payload.get("headers"), payload.get("multiValueHeaders"))
    names = {name.lower() for name, _ in headers}
    if "content-type" not in names:
        headers.append(("Content-Type", "application/json"))
    headers.append(("x-amzn-RequestId", request_id))
    return HttpResponse(status, headers, raw_body)


def _status_code(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 100 <= value <= 599:
        raise MalformedResponseError("statusCode is missing or not an HTTP status")
    return value


def _response_headers(single: Any, multi: Any) -> list[tuple[str, str]]:
    """headers and multiValueHeaders merged: a pair in both is sent once."""
    if not isinstance(single or {}, Mapping) or not isinstance(multi or {}, Mapping):
        raise MalformedResponseError("headers are not objects")
    merged: list[tuple[str, str]] = []
    for name, values in (multi or {}).items():
        if not isinstance(values, list):
            raise MalformedResponseError("multiValueHeaders values are not lists")
        merged.extend((str(name), _header_value(value)) for value in values)
    for name, value in (single or {}).items():
        pair = (str(name), _header_value(value))
        if pair not in merged:
            merged.append(pair)
    return merged


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedResponseError("a header value is not a string")
