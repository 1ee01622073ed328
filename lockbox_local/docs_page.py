"""The local runner's interactive API reference: GET /docs is Swagger UI on
docs/openapi.yaml (served as /openapi.json), with Swagger UI's files served from the npm
package swagger-ui-dist in node_modules: nothing is fetched from a CDN.

Only the few files the page uses are served, by exact name, so no request can reach any
other file. Without the package (`npm ci` installs it) /docs answers the 404 envelope
and the log says what to run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from lockbox_local.events import HttpResponse
from lockbox_local.template import PROJECT_ROOT

logger = logging.getLogger(__name__)

DOCS_ROUTE = "/docs"
NPM_PACKAGE = "swagger-ui-dist"
PACKAGE_DIR = PROJECT_ROOT / "node_modules" / NPM_PACKAGE
# The files the page loads, by name, and their content types.
ASSETS: Mapping[str, str] = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Lockbox API reference (local)</title>
  <link rel="stylesheet" href="{route}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{route}/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="{route}/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{route}/swagger-ui-bundle.js"></script>
  <script src="{route}/swagger-ui-standalone-preset.js"></script>
  <script>
    window.onload = function () {{
      window.ui = SwaggerUIBundle({{
        url: "{document}",
        dom_id: "#swagger-ui",
        deepLinking: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "StandaloneLayout"
      }});
    }};
  </script>
</body>
</html>
"""


def is_docs_path(raw_path: str) -> bool:
    return raw_path in (DOCS_ROUTE, f"{DOCS_ROUTE}/") or raw_path.startswith(f"{DOCS_ROUTE}/")


def docs_response(
    raw_path: str, request_id: str, document_route: str, package_dir: Path = PACKAGE_DIR
) -> HttpResponse | None:
    """The page or one of its files; None when there is no such file (a 404)."""
    if not (package_dir / "swagger-ui-bundle.js").is_file():
        logger.warning(
            "/docs needs the npm package %s: run `npm ci` (or make run, which does)", NPM_PACKAGE
        )
        return None
    if raw_path in (DOCS_ROUTE, f"{DOCS_ROUTE}/"):
        body = PAGE.format(route=DOCS_ROUTE, document=document_route).encode()
        return _response("text/html; charset=utf-8", body, request_id, "no-cache")
    name = raw_path.removeprefix(f"{DOCS_ROUTE}/")
    if name not in ASSETS:
        return None
    return _response(ASSETS[name], _asset(package_dir, name), request_id, "public, max-age=3600")


@cache
def _asset(package_dir: Path, name: str) -> bytes:
    return (package_dir / name).read_bytes()


def _response(content_type: str, body: bytes, request_id: str, caching: str) -> HttpResponse:
    headers = [
        ("Content-Type", content_type),
        ("Cache-Control", caching),
        ("X-Content-Type-Options", "nosniff"),
        ("x-amzn-RequestId", request_id),
    ]
    return HttpResponse(200, headers, body)
