"""docs/openapi.yaml: valid OpenAPI, and in step with template.yaml and the error codes."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from lockbox.core.errors import ErrorCode
from lockbox.core.responses import error_body
from lockbox_local.openapi import load_openapi, response_problems
from lockbox_local.template import load_template, resources_of_type

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def template_routes() -> set[tuple[str, str]]:
    routes = set()
    for function in resources_of_type(load_template(), "AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                routes.add((event["Properties"]["Method"].lower(), event["Properties"]["Path"]))
    return routes


def document_routes() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in load_openapi()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_document_is_valid_openapi() -> None:
    validate(load_openapi())


def test_document_describes_exactly_the_template_routes() -> None:
    """Given template.yaml's Api events, the document has the same routes, no more, no less."""
    assert document_routes() == template_routes()


def test_error_codes_are_exactly_the_contract_codes() -> None:
    codes = load_openapi()["components"]["schemas"]["Error"]["properties"]["code"]["enum"]

    assert codes == [code.name for code in ErrorCode]


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda code: code.name)
def test_every_error_body_validates_under_its_status(code: ErrorCode) -> None:
    """Each error the code can produce is documented on some /api route with that status."""
    documented = sorted(
        (method.upper(), path)
        for method, path in document_routes()
        if path.startswith("/api/")  # /users/register answers in its own format
        and str(code.status) in load_openapi()["paths"][path][method]["responses"]
    )
    assert documented, f"no route documents status {code.status}"
    method, path = documented[0]
    concrete = path.replace("{key}", "example")

    assert response_problems(method, concrete, code.status, error_body(code)) == []


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("POST", "/api/data", 201, {"status": "success"}),
        ("POST", "/api/data", 200, {"status": "success", "message": "Stored!"}),
        ("GET", "/api/data/k", 200, {"status": "success", "data": {"key": "k", "value": None}}),
        ("POST", "/api/token", 200, {"status": "success", "message": "x", "data": {}}),
        ("PATCH", "/api/data/k", 405, {"message": "Method Not Allowed"}),
    ],
)
def test_undocumented_responses_are_caught(
    method: str, path: str, status: int, body: dict[str, Any]
) -> None:
    assert response_problems(method, path, status, body) != []
