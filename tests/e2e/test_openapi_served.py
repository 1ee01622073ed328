"""The local runner serves the OpenAPI document at /openapi.json (a deployed stack does
not: API Gateway serves only the API, so this is skipped when API_URL is set)."""

from __future__ import annotations

import os
from pathlib import Path

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
    JSON equal to docs/openapi.yaml."""
    response = http.get(f"{api_url}/openapi.json")

    assert response.status_code == 200, response.text[:500]
    assert assert_json(response) == yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
