"""The local stack's /docs page (Swagger UI) rendered in Chromium: it shows every route
of docs/openapi.yaml."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

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


def test_try_it_out_calls_the_stack_that_serves_the_page(
    browser: Browser, api_url: str, tmp_path: Path
) -> None:
    """Given a stack on another port than the 3000 docs/openapi.yaml names (the suite's is
    on a free port), when "Try it out" runs POST /api/token on its /docs page, then Swagger
    UI offers that stack as the server and the request goes to it, which answers."""
    assert urlsplit(api_url).port != 3000
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        page.goto(f"{api_url}/docs")
        page.wait_for_selector(".swagger-ui .opblock")
        servers = page.locator(".servers select option").evaluate_all(
            "options => options.map((option) => option.value)"
        )
        assert servers == [api_url]
        operation = page.locator("#operations-accounts-token")
        operation.locator(".opblock-summary").click()
        operation.locator(".try-out__btn").click()

        with page.expect_response(lambda response: "/api/token" in response.url) as answered:
            operation.locator(".execute").click()

        response = answered.value
        assert response.url == f"{api_url}/api/token"
        assert response.status == 401, response.text()[:300]  # Swagger UI's sample credentials
        assert operation.locator(".request-url pre").inner_text().strip() == f"{api_url}/api/token"
        page.screenshot(path=tmp_path / "try-it-out.png", full_page=True)
    finally:
        context.close()
