"""The responses API Gateway makes itself, shaped by the template's GatewayResponses.

A response type the template does not define falls back to DEFAULT_4XX or DEFAULT_5XX
(by the type's own default status), and to API Gateway's bare default after that,
exactly as API Gateway chooses them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lockbox_local.events import HttpResponse
from lockbox_local.intrinsics import Resolver

# Default status and message of the response types the local gateway can produce.
DEFAULTS: Mapping[str, tuple[int, str]] = {
    "ACCESS_DENIED": (403, "User is not authorized to access this resource with an explicit deny"),
    "API_CONFIGURATION_ERROR": (500, "Internal server error"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "Internal server error"),
    "AUTHORIZER_FAILURE": (500, "Internal server error"),
    "BAD_REQUEST_BODY": (400, "Invalid request body"),
    "DEFAULT_4XX": (400, "Bad request"),
    "DEFAULT_5XX": (502, "Internal server error"),  # a failed or malformed Lambda answer
    "INTEGRATION_FAILURE": (504, "Internal server error"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    "RESOURCE_NOT_FOUND": (404, "Not Found"),
    "THROTTLED": (429, "Too Many Requests"),
    "UNAUTHORIZED": (401, "Unauthorized"),
}

# The x-amzn-ErrorType header API Gateway adds to some of them.
_ERROR_TYPES = {
    "ACCESS_DENIED": "AccessDeniedException",
    "MISSING_AUTHENTICATION_TOKEN": "IncompleteSignatureException",
    "UNAUTHORIZED": "UnauthorizedException",
}


@dataclass(frozen=True, slots=True)
class GatewayResponseSpec:
    """One entry of the API's GatewayResponses."""

    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    body_template: str | None = None  # ResponseTemplates["application/json"]


def read_gateway_responses(
    properties: Mapping[str, Any], resolver: Resolver
) -> dict[str, GatewayResponseSpec]:
    """The GatewayResponses of an AWS::Serverless::Api's properties, by response type."""
    specs: dict[str, GatewayResponseSpec] = {}
    for response_type, spec in resolver.resolve(properties.get("GatewayResponses", {})).items():
        headers = {
            name: value[1:-1]
            for name, value in ((spec.get("ResponseParameters") or {}).get("Headers") or {}).items()
            # Only static values ('...') are known without a real request mapping.
            if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == "'"
        }
        status = spec.get("StatusCode")
        specs[response_type] = GatewayResponseSpec(
            status=int(status) if status is not None else None,
            headers=headers,
            body_template=(spec.get("ResponseTemplates") or {}).get("application/json"),
        )
    return specs


def _fallback_type(response_type: str) -> str:
    status, _ = DEFAULTS.get(response_type, (500, ""))
    return "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"


def lookup(
    specs: Mapping[str, GatewayResponseSpec], response_type: str
) -> tuple[int, GatewayResponseSpec | None]:
    """The status and the template entry (if any) that answer `response_type`."""
    default_status, _ = DEFAULTS.get(response_type, (500, ""))
    for candidate in (response_type, _fallback_type(response_type)):
        spec = specs.get(candidate)
        if spec is not None:
            return (spec.status or default_status), spec
    return default_status, None


def render(
    specs: Mapping[str, GatewayResponseSpec], response_type: str, request_id: str
) -> HttpResponse:
    """The HTTP response API Gateway sends for `response_type`."""
    status, spec = lookup(specs, response_type)
    _, message = DEFAULTS.get(response_type, (500, "Internal server error"))
    if spec is not None and spec.body_template is not None:
        body = _render_template(spec.body_template, response_type, message, request_id)
    else:
        body = json.dumps({"message": message})
    headers = {"Content-Type": "application/json", **(spec.headers if spec else {})}
    headers["x-amzn-RequestId"] = request_id
    if response_type in _ERROR_TYPES:
        headers["x-amzn-ErrorType"] = _ERROR_TYPES[response_type]
    return HttpResponse(status, list(headers.items()), body.encode(), error_type=response_type)


def _render_template(template: str, response_type: str, message: str, request_id: str) -> str:
    """The few $context variables a static gateway response template may use."""
    replacements = {
        "$context.error.messageString": json.dumps(message),
        "$context.error.message": message,
        "$context.error.responseType": response_type,
        "$context.requestId": request_id,
    }
    for variable, value in replacements.items():
        template = template.replace(variable, value)
    return template
