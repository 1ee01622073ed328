"""The REST API's routes, read from the Api events of the template's functions, and
matched against the raw (still percent-encoded) request path.

Matching works on raw segments, so an encoded slash (%2F) stays inside its segment; each
path parameter is then percent-decoded exactly once, as API Gateway does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from lockbox_local.intrinsics import Resolver, TemplateError
from lockbox_local.lambdas import FUNCTION_TYPE
from lockbox_local.template import resources_of_type

IMPLICIT_API = "ServerlessRestApi"  # the API SAM creates for Api events without RestApiId
_API_TYPE = "AWS::Serverless::Api"


@dataclass(frozen=True, slots=True)
class Route:
    api_id: str  # logical id of the API
    resource: str  # the template path, e.g. /api/data/{key}
    method: str  # upper case; ANY matches every method
    function_id: str
    authorizer: str | None  # name of the API's authorizer, None for Authorizer: NONE

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.resource.strip("/").split("/")) if self.resource != "/" else ()


@dataclass(frozen=True, slots=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


def read_routes(
    template: Mapping[str, Any], resolver: Resolver, default_authorizers: Mapping[str, str | None]
) -> list[Route]:
    """Every Api event of every function; `default_authorizers` maps API ids to theirs."""
    routes: list[Route] = []
    for function_id, resource in resources_of_type(dict(template), FUNCTION_TYPE).items():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            properties = event.get("Properties", {})
            api_id = _api_id(properties.get("RestApiId"), template)
            auth = properties.get("Auth") or {}
            authorizer = auth.get("Authorizer", default_authorizers.get(api_id))
            routes.append(
                Route(
                    api_id=api_id,
                    resource=resolver.resolve_text(properties["Path"]),
                    method=resolver.resolve_text(properties["Method"]).upper(),
                    function_id=function_id,
                    authorizer=None if authorizer in (None, "NONE") else str(authorizer),
                )
            )
    return routes


def _api_id(rest_api_id: Any, template: Mapping[str, Any]) -> str:
    if rest_api_id is None:
        return IMPLICIT_API
    name = rest_api_id.get("Ref") if isinstance(rest_api_id, Mapping) else None
    if not isinstance(name, str) or name not in resources_of_type(dict(template), _API_TYPE):
        raise TemplateError(f"RestApiId {rest_api_id!r} is not an AWS::Serverless::Api here")
    return name


def split_raw_path(raw_path: str) -> list[str] | None:
    """The raw path's segments; None for a path API Gateway could never route (empty segment)."""
    if raw_path == "/":
        return []
    segments = raw_path.strip("/").split("/") if raw_path.startswith("/") else None
    if segments is None or any(segment == "" for segment in segments):
        return None
    return segments


def decode_once(raw: str) -> str:
    """Percent-decode one path segment exactly once; '+' stays '+'.

    The raw request line arrives as latin-1 text (bytes a client did not encode stay
    bytes); malformed UTF-8 decodes to U+FFFD, like Java's URLDecoder.
    """
    return unquote_to_bytes(raw.encode("latin-1", "replace")).decode("utf-8", "replace")


class Router:
    def __init__(self, routes: Sequence[Route]) -> None:
        self._routes = list(routes)

    @property
    def routes(self) -> list[Route]:
        return list(self._routes)

    def resource_routes(self, raw_path: str) -> list[Route]:
        """The routes (one per method, ANY included) of the resource this path names."""
        return [route for route, _ in _best_resource_of(self._routes, raw_path) or []]

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        """The route for this request, or None (API Gateway: MISSING_AUTHENTICATION_TOKEN).

        The most specific resource wins (a literal segment over a {param}, a {param} over
        a greedy {proxy+}); that resource must have the method or ANY, else no match.
        """
        resource = _best_resource_of(self._routes, raw_path)
        if resource is None:
            return None
        for wanted in (method.upper(), "ANY"):
            for route, params in resource:
                if route.method == wanted:
                    return RouteMatch(route, params)
        return None


def _best_resource_of(
    routes: Sequence[Route], raw_path: str
) -> list[tuple[Route, dict[str, str]]] | None:
    raw_segments = split_raw_path(raw_path)
    if raw_segments is None:
        return None
    candidates: list[tuple[tuple[int, ...], Route, dict[str, str]]] = []
    for route in routes:
        params = _match_segments(route.segments, raw_segments)
        if params is not None:
            candidates.append((_specificity(route.segments), route, params))
    if not candidates:
        return None
    best = min(rank for rank, _, _ in candidates)
    return [(route, params) for rank, route, params in candidates if rank == best]


def _specificity(segments: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(
        2 if s.endswith("+}") else 1 if s.startswith("{") and s.endswith("}") else 0
        for s in segments
    )


def _match_segments(pattern: tuple[str, ...], raw: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, part in enumerate(pattern):
        if part.startswith("{") and part.endswith("+}"):
            rest = raw[index:]
            if not rest:
                return None
            params[part[1:-2]] = decode_once("/".join(rest))
            return params
        if index >= len(raw):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = decode_once(raw[index])
        elif decode_once(raw[index]) != part:
            return None
    return params if len(pattern) == len(raw) else None
