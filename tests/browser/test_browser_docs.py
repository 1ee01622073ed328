"""The local stack's /docs page (Swagger UI) rendered in Chromium: it shows every route
of docs/openapi.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml
from playwright.sync_api import Browser

from tests.local_stack import PROJECT_ROOT

DOCUMENT = PROJECT_ROOT / "docs" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Each operation Swagger UI renders, as "METHOD /path". Tag sections left closed are opened
# first; the path's text may hold zero-width spaces (Swagger UI's line-break hints).
RENDERED_ROUTES = """() => Array.from(document.querySelectorAll(".opblock")).map((block) => {
  const method = block.querySelector(".opblock-summary-method");
  const path = block.querySelector(".opblock-summary-path");
  const text = path ? (path.getAttribute("data-path") || path.textContent) : "";
  return `${method ? method.textContent.trim().toUpperCase() : "?"} ${text.replace(/\\u200b/g, "").trim()}`;
})"""


def documented_routes() -> set[str]:
    paths = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))["paths"]
    return {
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method in item
        if method in METHODS
    }


def test_docs_page_shows_every_route(browser: Browser, api_url: str, tmp_path: Path) -> None:
    """Given the local stack, when Chromium opens its /docs page, then Swagger UI renders
    an operation for every route of docs/openapi.yaml."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    try:
        page = context.new_page()

        response = page.goto(f"{api_url}/docs")

        assert response is not None
        assert response.status == 200, (
            f"GET /docs: {response.status} {response.text()[:300]} (Swagger UI's files come "
            "from node_modules/swagger-ui-dist: `make node` or `npm ci` installs them)"
        )
        page.wait_for_selector(".swagger-ui .opblock-tag, .swagger-ui .opblock", timeout=15_000)
        for closed in page.locator(".opblock-tag-section:not(.is-open) .opblock-tag").all():
            closed.click()
        page.wait_for_selector(".opblock")
        rendered = set(page.evaluate(RENDERED_ROUTES))
        page.screenshot(path=tmp_path / "docs.png", full_page=True)
        missing = documented_routes() - rendered
        assert not missing, f"not on /docs: {sorted(missing)}; rendered: {sorted(rendered)}"
    finally:
        context.close()
