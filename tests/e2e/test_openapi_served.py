"""The local runner serves the OpenAPI document at /openapi.json (a deployed stack does
not: API Gateway serves only the API, so this is skipped when API_URL is set)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import yaml

from tests.e2e.helpers import assert_json

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        bool(os.environ.get("API_URL", "").strip()),
        reason="only the local stack serves /openapi.json",
    ),
]


def test_openapi_json_is_the_document_in_the_repository(
    http: requests.Session, api_url: str
) -> None:
    """Given the local stack, when GET /openapi.json is called, then the answer is 200
    JSON equal to docs/openapi.yaml but for `servers`, which names this stack."""
    response = http.get(f"{api_url}/openapi.json")

    assert response.status_code == 200, response.text[:500]
    served = assert_json(response)
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    assert {**served, "servers": document["servers"]} == document


def test_the_served_document_targets_the_stack_on_its_own_port(
    http: requests.Session, api_url: str
) -> None:
    """Given a stack on another port than the 3000 docs/openapi.yaml names (the suite's
    stack is on a free port), then the served document's only server is that stack, so
    Swagger UI's "Try it out" on /docs calls it, not port 3000."""
    assert urlsplit(api_url).port != 3000
    assert yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))["servers"][0]["url"].endswith(
        ":3000"
    )

    servers = assert_json(http.get(f"{api_url}/openapi.json"))["servers"]

    assert [server["url"] for server in servers] == [api_url]


def test_the_served_document_names_the_host_the_client_used(
    http: requests.Session, api_url: str
) -> None:
    """Given a page opened as http://localhost:<port>/docs, then the document names
    localhost too (a same-origin call from the page), and a Host header that is not a
    host falls back to 127.0.0.1 and the stack's port."""
    port = urlsplit(api_url).port

    by_name = http.get(f"{api_url}/openapi.json", headers={"Host": f"localhost:{port}"})
    by_junk = http.get(f"{api_url}/openapi.json", headers={"Host": "a b/<c>"})

    assert assert_json(by_name)["servers"][0]["url"] == f"http://localhost:{port}"
    assert assert_json(by_junk)["servers"][0]["url"] == f"http://127.0.0.1:{port}"
