"""CORS as the REST API answers it: the API's SAM `Cors` property when the template has
one, else the contract's defaults (origin from the parameter AllowedOrigin, or `*`).

Every response the local gateway sends carries Access-Control-Allow-Origin and
Access-Control-Expose-Headers; a preflight OPTIONS on a route answers 204 with the
methods, headers and max age, without the authorizer (SAM's CORS OPTIONS methods are
mock integrations with no authorizer when AddDefaultAuthorizerToCorsPreflight is false).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lockbox_local.intrinsics import Resolver, TemplateError

ORIGIN_PARAMETER = "AllowedOrigin"
DEFAULT_ORIGIN = "*"
DEFAULT_ALLOW_HEADERS = "Authorization,Content-Type,If-Match"
DEFAULT_MAX_AGE = "600"
EXPOSE_HEADERS = "ETag, Retry-After"  # the contract's list: not part of SAM's Cors property


@dataclass(frozen=True, slots=True)
class CorsConfig:
    allow_origin: str = DEFAULT_ORIGIN
    allow_headers: str = DEFAULT_ALLOW_HEADERS
    allow_methods: str | None = None  # None: each route's own methods (SAM's default)
    max_age: str = DEFAULT_MAX_AGE
    expose_headers: str = EXPOSE_HEADERS

    def response_headers(self) -> list[tuple[str, str]]:
        """What every response carries."""
        return [
            ("Access-Control-Allow-Origin", self.allow_origin),
            ("Access-Control-Expose-Headers", self.expose_headers),
        ]

    def preflight_headers(self, route_methods: Iterable[str]) -> list[tuple[str, str]]:
        """What a preflight on a resource with these methods answers (besides the above)."""
        methods = self.allow_methods or ",".join(_with_options(route_methods))
        return [
            ("Access-Control-Allow-Methods", methods),
            ("Access-Control-Allow-Headers", self.allow_headers),
            ("Access-Control-Max-Age", self.max_age),
        ]

    def add_to(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The headers with the CORS ones a response lacks appended (none replaced)."""
        present = {name.lower() for name, _ in headers}
        return headers + [
            pair for pair in self.response_headers() if pair[0].lower() not in present
        ]


def _with_options(methods: Iterable[str]) -> list[str]:
    ordered = sorted({method.upper() for method in methods} | {"OPTIONS"})
    return (
        ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
        if "ANY" in ordered
        else ordered
    )


def _unquoted(value: Any, what: str) -> str:
    """SAM's Cors values are quoted strings ("'*'"), as API Gateway header mappings are."""
    if not isinstance(value, str) or len(value) < 2 or value[0] != "'" or value[-1] != "'":
        raise TemplateError(
            f"Cors {what}: expected a quoted string like \"'value'\", got {value!r}"
        )
    return value[1:-1]


def read_cors(
    properties: Mapping[str, Any], resolver: Resolver, parameters: Mapping[str, str]
) -> CorsConfig:
    """The CORS an AWS::Serverless::Api's properties give; the contract's defaults without."""
    cors = resolver.resolve(properties.get("Cors"))
    if cors is None:
        return CorsConfig(allow_origin=parameters.get(ORIGIN_PARAMETER) or DEFAULT_ORIGIN)
    if isinstance(cors, str):  # the short form: the origin alone
        return CorsConfig(allow_origin=_unquoted(cors, "origin"))
    if not isinstance(cors, Mapping):
        raise TemplateError(f"Cors: expected a string or a mapping, got {cors!r}")
    methods = cors.get("AllowMethods")
    return CorsConfig(
        allow_origin=_unquoted(cors.get("AllowOrigin", "'*'"), "AllowOrigin"),
        allow_headers=_unquoted(cors["AllowHeaders"], "AllowHeaders")
        if "AllowHeaders" in cors
        else DEFAULT_ALLOW_HEADERS,
        allow_methods=_unquoted(methods, "AllowMethods") if methods is not None else None,
        max_age=_unquoted(cors["MaxAge"], "MaxAge") if "MaxAge" in cors else DEFAULT_MAX_AGE,
    )
