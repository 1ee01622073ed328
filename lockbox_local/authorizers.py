"""TOKEN Lambda authorizers as API Gateway runs them: header, validation, cache, policy."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from lockbox_local.intrinsics import Resolver, TemplateError

_DEFAULT_TTL_SECONDS = 300  # API Gateway's default ReauthorizeEvery
_CACHE_LIMIT = 10_000  # entries; a local run never needs more


@dataclass(frozen=True, slots=True)
class TokenAuthorizerSpec:
    name: str
    function_id: str  # logical id of the authorizer function
    header: str
    validation: re.Pattern[str] | None
    ttl_seconds: int


def read_authorizers(auth: Mapping[str, Any], resolver: Resolver) -> dict[str, TokenAuthorizerSpec]:
    """The TOKEN authorizers of an API's Auth property, by name."""
    specs: dict[str, TokenAuthorizerSpec] = {}
    for name, config in (auth.get("Authorizers") or {}).items():
        payload_type = config.get("FunctionPayloadType", "TOKEN")
        if "FunctionArn" not in config or payload_type != "TOKEN":
            raise TemplateError(f"authorizer {name}: only TOKEN Lambda authorizers run locally")
        identity = config.get("Identity") or {}
        expression = identity.get("ValidationExpression")
        ttl = identity.get("ReauthorizeEvery", _DEFAULT_TTL_SECONDS)
        specs[str(name)] = TokenAuthorizerSpec(
            name=str(name),
            function_id=_function_id(config["FunctionArn"], name),
            header=str(identity.get("Header", "Authorization")),
            validation=re.compile(resolver.resolve_text(expression)) if expression else None,
            ttl_seconds=int(resolver.resolve_text(ttl)),
        )
    return specs


def _function_id(function_arn: Any, name: str) -> str:
    if isinstance(function_arn, Mapping):
        if "Fn::GetAtt" in function_arn:
            target = function_arn["Fn::GetAtt"]
            return str(target.split(".")[0] if isinstance(target, str) else target[0])
        if "Ref" in function_arn:
            # !Ref AuthorizerFunction.Alias names the function's published alias (AutoPublishAlias).
            return str(function_arn["Ref"]).split(".")[0]
    raise TemplateError(f"authorizer {name}: FunctionArn must name a function of this template")


def token_is_well_formed(spec: TokenAuthorizerSpec, token: str | None) -> bool:
    """API Gateway answers 401 without calling the authorizer when this is False."""
    if not token:
        return False
    return spec.validation is None or spec.validation.fullmatch(token) is not None


class Decision(Enum):
    ALLOW = "allow"
    DENY = "deny"  # explicit Deny, or no statement allows the method


class PolicyError(ValueError):
    """The authorizer's answer is not a valid policy (AUTHORIZER_CONFIGURATION_ERROR)."""


@dataclass(frozen=True, slots=True)
class AuthorizerAnswer:
    principal_id: str
    statements: tuple[Mapping[str, Any], ...]
    context: Mapping[str, str]

    @classmethod
    def parse(cls, output: Any) -> AuthorizerAnswer:
        if not isinstance(output, Mapping):
            raise PolicyError("authorizer output is not an object")
        principal = output.get("principalId")
        document = output.get("policyDocument")
        if not isinstance(principal, str) or not isinstance(document, Mapping):
            raise PolicyError("authorizer output lacks principalId or policyDocument")
        statements = document.get("Statement")
        if isinstance(statements, Mapping):
            statements = [statements]
        if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
            raise PolicyError("policyDocument.Statement is not a list of statements")
        return cls(principal, tuple(statements), _context(output.get("context")))

    def decide(self, method_arn: str) -> Decision:
        """IAM evaluation for execute-api:Invoke on method_arn: an explicit Deny wins."""
        allowed = False
        for statement in self.statements:
            if not _matches_any(statement.get("Action"), "execute-api:Invoke"):
                continue
            if not _matches_any(statement.get("Resource"), method_arn):
                continue
            if statement.get("Effect") == "Deny":
                return Decision.DENY
            allowed = allowed or statement.get("Effect") == "Allow"
        return Decision.ALLOW if allowed else Decision.DENY

    def request_context(self, latency_ms: int) -> dict[str, Any]:
        """requestContext.authorizer of the proxy event."""
        return {**self.context, "principalId": self.principal_id, "integrationLatency": latency_ms}


def _context(context: Any) -> dict[str, str]:
    """API Gateway passes context values on as strings, and rejects nested values."""
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise PolicyError("authorizer context is not an object")
    values: dict[str, str] = {}
    for key, value in context.items():
        if isinstance(value, bool):
            values[str(key)] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            values[str(key)] = str(value)
        elif value is not None:
            raise PolicyError("authorizer context values must be strings, numbers or booleans")
    return values


def _matches_any(patterns: Any, value: str) -> bool:
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list):
        return False
    return any(isinstance(p, str) and _wildcard(p).fullmatch(value) for p in patterns)


def _wildcard(pattern: str) -> re.Pattern[str]:
    """IAM wildcards: * is any run of characters, ? any one character."""
    return re.compile(
        ".*".join(".".join(map(re.escape, part.split("?"))) for part in pattern.split("*"))
    )


class AuthorizerCache:
    """Answers per (authorizer, token) for the authorizer's TTL, as API Gateway caches them.

    The cached policy is evaluated again for every request's method ARN, which is why
    an authorizer's policy must cover every route it guards.
    """

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, AuthorizerAnswer]] = {}

    def get(self, spec: TokenAuthorizerSpec, token: str) -> AuthorizerAnswer | None:
        if spec.ttl_seconds <= 0:
            return None
        with self._lock:
            entry = self._entries.get((spec.name, token))
            if entry is None or entry[0] <= self._clock():
                return None
            return entry[1]

    def put(self, spec: TokenAuthorizerSpec, token: str, answer: AuthorizerAnswer) -> None:
        if spec.ttl_seconds <= 0:
            return
        with self._lock:
            now = self._clock()
            if len(self._entries) >= _CACHE_LIMIT:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            self._entries[(spec.name, token)] = (now + spec.ttl_seconds, answer)
