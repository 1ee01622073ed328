"""The OpenAPI document (docs/openapi.yaml): loading it, and checking responses against it.

The end-to-end suite validates every response it receives here, so the document
cannot drift from what the API really answers.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from lockbox_local.template import PROJECT_ROOT

OPENAPI_PATH = PROJECT_ROOT / "docs" / "openapi.yaml"
_DOCUMENT_URI = "urn:lockbox:openapi"


@cache
def load_openapi(path: Path = OPENAPI_PATH) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def served_document(base_url: str) -> dict[str, Any]:
    """The document as a local stack serves it (/openapi.json): its `servers` name that
    stack, at `base_url`, not the default port the file names, so Swagger UI's "Try it out"
    on /docs and any client that reads the document call the stack it came from."""
    return {
        **load_openapi(),
        "servers": [{"url": base_url, "description": "this local stack (it serves this document)"}],
    }


@cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(
        load_openapi(), default_specification=DRAFT202012
    )
    registry: Registry[Any] = Registry().with_resource(_DOCUMENT_URI, resource)
    return registry


def _path_pattern(template: str) -> re.Pattern[str]:
    # API Gateway path parameters match one segment: anything but '/'.
    return re.compile("^" + re.sub(r"\{[^/{}]+\}", "[^/]+", template) + "$")


@cache
def _routes() -> list[tuple[re.Pattern[str], str]]:
    return [(_path_pattern(template), template) for template in load_openapi()["paths"]]


def find_path(path: str) -> str | None:
    """The documented path template a request path (still percent-encoded) matches."""
    for pattern, template in _routes():
        if pattern.match(path):
            return template
    return None


def find_operation(method: str, path: str) -> dict[str, Any] | None:
    """The documented operation for a request path (still percent-encoded), or None."""
    template = find_path(path)
    if template is None:
        return None
    operation = load_openapi()["paths"][template].get(method.lower())
    return operation if isinstance(operation, dict) else None


def response_problems(method: str, path: str, status: int, body: object) -> list[str]:
    """Why this response is not one the document allows (empty when it is).

    Requests the document does not describe (unknown routes, methods) must answer the
    NotFound response; everything else must use a documented status and match its schema.
    """
    operation = find_operation(method, path)
    if operation is None:
        responses = {"404": {"$ref": "#/components/responses/NotFound"}}
    else:
        responses = operation["responses"]
    spec: Any = responses.get(str(status))
    if spec is None:
        return [f"{method} {path}: status {status} is not documented"]
    if "$ref" in spec:
        spec = _resolve(spec["$ref"])
    schema = spec["content"]["application/json"]["schema"]
    validator = Draft202012Validator(
        {"$ref": f"{_DOCUMENT_URI}{schema['$ref']}"} if "$ref" in schema else schema,
        registry=_registry(),
    )
    return [
        f"{method} {path} -> {status}: {error.message} at {list(error.absolute_path)}"
        for error in validator.iter_errors(body)
    ]


def _resolve(ref: str) -> dict[str, Any]:
    node: Any = load_openapi()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    resolved: dict[str, Any] = node
    return resolved
