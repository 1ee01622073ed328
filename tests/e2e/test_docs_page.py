"""The local stack serves an interactive reference at /docs: Swagger UI on the OpenAPI
document (/openapi.json), its files served from the npm package swagger-ui-dist in
node_modules, nothing from a CDN. A deployed stack has no such page (API Gateway serves
only the API), so these are skipped when API_URL is set.

The page and its files are not API answers (HTML, CSS, JavaScript): they are fetched
with plain requests calls, outside the suite's OpenAPI check of API responses.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests

from tests.e2e.helpers import ERRORS

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "swagger-ui-dist"
TIMEOUT_SECONDS = 30.0
CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        bool(os.environ.get("API_URL", "").strip()),
        reason="only the local stack serves /docs",
    ),
]


def _references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)


def test_docs_is_swagger_ui_on_the_local_document_with_local_assets(api_url: str) -> None:
    """Given the local stack, when GET /docs, then an HTML page that loads Swagger UI's
    bundle and stylesheet from /docs/ and the document from /openapi.json, and nothing
    from another host."""
    response = requests.get(f"{api_url}/docs", timeout=TIMEOUT_SECONDS)

    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers.get("Access-Control-Allow-Origin")
    references = _references(response.text)
    assert "/docs/swagger-ui-bundle.js" in references
    assert "/docs/swagger-ui.css" in references
    assert "/openapi.json" in response.text
    assert "SwaggerUIBundle(" in response.text
    assert [ref for ref in references if "//" in ref] == [], "a file from another host"


def test_every_file_the_page_loads_is_served_from_node_modules(api_url: str) -> None:
    """Given the page's own references, then each one answers 200 with its content type
    and exactly the bytes of the file in node_modules/swagger-ui-dist."""
    page = requests.get(f"{api_url}/docs", timeout=TIMEOUT_SECONDS).text
    assets = [ref for ref in _references(page) if ref.startswith("/docs/")]
    assert assets

    for asset in assets:
        response = requests.get(f"{api_url}{asset}", timeout=TIMEOUT_SECONDS)

        assert response.status_code == 200, (asset, response.text[:300])
        expected_type = CONTENT_TYPES[Path(asset).suffix]
        assert expected_type in response.headers["Content-Type"], (asset, response.headers)
        assert response.content == (PACKAGE_DIR / Path(asset).name).read_bytes(), asset


def test_the_document_the_page_loads_is_served(api_url: str) -> None:
    response = requests.get(f"{api_url}/openapi.json", timeout=TIMEOUT_SECONDS)

    assert response.status_code == 200
    assert response.json()["paths"]


@pytest.mark.parametrize(
    "path",
    [
        "/docs/index.html",
        "/docs/package.json",
        "/docs/..%2Fpackage.json",
        "/docs/../package.json",
        "/docs/swagger-ui-bundle.js.map",
        "/docs/nothing.js",
    ],
)
def test_nothing_else_is_served_under_docs(api_url: str, path: str) -> None:
    """Given any other name under /docs, then the 404 NOT_FOUND envelope: only the page's
    own files are served, never another file of the package or the project."""
    response = requests.get(f"{api_url}{path}", timeout=TIMEOUT_SECONDS)

    status, message = ERRORS["NOT_FOUND"]
    assert response.status_code == status, (path, response.text[:300])
    assert response.json() == {"status": "error", "code": "NOT_FOUND", "message": message}
