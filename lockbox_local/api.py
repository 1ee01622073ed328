"""Everything the local gateway needs to know about the template's REST API, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockbox_local.authorizers import TokenAuthorizerSpec, read_authorizers
from lockbox_local.cors import CorsConfig, read_cors
from lockbox_local.gateway_responses import GatewayResponseSpec, read_gateway_responses
from lockbox_local.intrinsics import Resolver, TemplateError, parameter_values
from lockbox_local.lambdas import FunctionSpec, read_functions
from lockbox_local.routes import IMPLICIT_API, Route, read_routes
from lockbox_local.template import PROJECT_ROOT, resources_of_type

_API_TYPE = "AWS::Serverless::Api"


@dataclass(frozen=True, slots=True)
class ApiSpec:
    logical_id: str
    stage: str
    authorizers: Mapping[str, TokenAuthorizerSpec] = field(default_factory=dict)
    gateway_responses: Mapping[str, GatewayResponseSpec] = field(default_factory=dict)
    cors: CorsConfig = field(default_factory=CorsConfig)


@dataclass(frozen=True, slots=True)
class LocalApp:
    """The template as the local stack runs it: APIs, routes and functions."""

    apis: Mapping[str, ApiSpec]
    routes: list[Route]
    functions: Mapping[str, FunctionSpec]
    resolver: Resolver

    @property
    def main_api(self) -> ApiSpec:
        """The API whose gateway responses answer requests that match no route."""
        return next(iter(self.apis.values()))


def read_app(
    template: Mapping[str, Any],
    parameter_overrides: Mapping[str, str] | None = None,
    root: Path = PROJECT_ROOT,
) -> LocalApp:
    parameters = parameter_values(template, parameter_overrides or {})
    resolver = Resolver(template, parameters)
    apis: dict[str, ApiSpec] = {}
    default_authorizers: dict[str, str | None] = {}
    for logical_id, resource in resources_of_type(dict(template), _API_TYPE).items():
        properties = resource.get("Properties", {})
        auth = properties.get("Auth") or {}
        apis[logical_id] = ApiSpec(
            logical_id=logical_id,
            stage=resolver.resolve_text(properties.get("StageName", "Prod")),
            authorizers=read_authorizers(auth, resolver),
            gateway_responses=read_gateway_responses(properties, resolver),
            cors=read_cors(properties, resolver, parameters),
        )
        default_authorizers[logical_id] = auth.get("DefaultAuthorizer")
    routes = read_routes(template, resolver, default_authorizers)
    if any(route.api_id == IMPLICIT_API for route in routes):
        apis.setdefault(
            IMPLICIT_API,
            ApiSpec(IMPLICIT_API, stage="Prod", cors=read_cors({}, resolver, parameters)),
        )
    functions = read_functions(template, resolver, root)
    for route in routes:
        authorizers = apis[route.api_id].authorizers
        if route.authorizer is not None and route.authorizer not in authorizers:
            raise TemplateError(f"{route.function_id}: unknown authorizer {route.authorizer}")
    for api in apis.values():
        for authorizer in api.authorizers.values():
            if authorizer.function_id not in functions:
                raise TemplateError(f"authorizer {authorizer.name}: no function to run locally")
    return LocalApp(apis=apis, routes=routes, functions=functions, resolver=resolver)
