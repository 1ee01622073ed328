"""API Gateway REST (v1) proxy events and TOKEN authorizer events, built from a request,
and the project's event files (events/<function key>_<case>.json) read back.

The shape is the one API Gateway (and `sam local generate-event apigateway aws-proxy`)
produces: `path` stays percent-encoded, path parameters and query values are decoded
once, absent maps are null.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lockbox_local.intrinsics import ACCOUNT_ID, API_ID, REGION
from lockbox_local.routes import RouteMatch

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str) -> dict[str, Any]:
    """An event from events/ by its name without .json (a fresh copy each time)."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    return event


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request as the local gateway received it."""

    method: str
    raw_path: str  # as sent: still percent-encoded, no query
    raw_query: str
    headers: list[tuple[str, str]]  # in order, names as sent, repeated names repeated
    body: bytes
    source_ip: str
    server_port: int
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        """The last value of a header (names are case-insensitive), like `headers` in events."""
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    error_type: str | None = None  # the gateway response type, when API Gateway answered


def split_request_uri(uri: str) -> tuple[str, str]:
    """(raw path, raw query) of a request target, origin-form or absolute-form."""
    if "://" in uri.split("?", 1)[0]:
        parts = urlsplit(uri)
        return parts.path or "/", parts.query
    path, _, query = uri.partition("?")
    return path.split("#", 1)[0] or "/", query.split("#", 1)[0]


def method_arn(stage: str, method: str, raw_path: str) -> str:
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{stage}/{method}/{raw_path.lstrip('/')}"


def token_authorizer_event(token: str, arn: str) -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": token, "methodArn": arn}


def proxy_event(
    request: HttpRequest,
    match: RouteMatch,
    *,
    stage: str,
    request_id: str,
    authorizer: dict[str, Any] | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    headers, multi_headers = _headers(request)
    query, multi_query = _query(request.raw_query)
    body, is_base64 = _body(request.body)
    host = headers.get("Host") or headers.get("host") or f"127.0.0.1:{request.server_port}"
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "deploymentId": "local",
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
        "extendedRequestId": uuid.uuid4().hex[:16],
        "httpMethod": request.method,
        "identity": _identity(request.source_ip, headers.get("User-Agent")),
        "path": f"/{stage}{request.raw_path}",
        "protocol": request.protocol,
        "requestId": request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "resourceId": hashlib.sha256(match.route.resource.encode()).hexdigest()[:6],
        "resourcePath": match.route.resource,
        "stage": stage,
    }
    if authorizer is not None:
        request_context["authorizer"] = authorizer
    return {
        "resource": match.route.resource,
        "path": request.raw_path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _headers(request: HttpRequest) -> tuple[dict[str, str], dict[str, list[str]]]:
    """`headers` keeps the last value of each name, `multiValueHeaders` all of them.

    API Gateway adds the X-Forwarded-* headers of its front end (the client's address is
    appended to an X-Forwarded-For the client sent).
    """
    spellings: dict[str, str] = {}  # lower-case name -> the spelling first seen
    multi: dict[str, list[str]] = {}
    for name, value in request.headers:
        multi.setdefault(spellings.setdefault(name.lower(), name), []).append(value)
    forwarded_for = spellings.get("x-forwarded-for")
    if forwarded_for is not None:
        multi[forwarded_for] = [", ".join([*multi[forwarded_for], request.source_ip])]
    else:
        multi["X-Forwarded-For"] = [request.source_ip]
    for name, value in (
        ("X-Forwarded-Port", str(request.server_port)),
        ("X-Forwarded-Proto", "http"),
    ):
        if name.lower() not in spellings:
            multi[name] = [value]
    return {name: values[-1] for name, values in multi.items()}, multi


def _query(raw_query: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    multi: dict[str, list[str]] = {}
    for pair in raw_query.split("&") if raw_query else []:
        if not pair:
            continue
        name, _, value = pair.partition("=")
        multi.setdefault(unquote(name), []).append(unquote(value))
    return {name: values[-1] for name, values in multi.items()}, multi


def _body(raw: bytes) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def _identity(source_ip: str, user_agent: str | None) -> dict[str, Any]:
    return {
        "accessKey": None,
        "accountId": None,
        "apiKey": None,
        "apiKeyId": None,
        "caller": None,
        "clientCert": None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": source_ip,
        "user": None,
        "userAgent": user_agent,
        "userArn": None,
    }
