"""The docs stay in step with the code: docs/api.md with the OpenAPI document, and the
README's module map with the folders."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
METHODS = {"get", "post", "put", "delete", "patch"}


def openapi_operations() -> set[str]:
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
    return {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def api_reference_operations() -> set[str]:
    text = (ROOT / "docs" / "api.md").read_text()
    return set(re.findall(r"^### ((?:GET|POST|PUT|DELETE|PATCH) /\S+)$", text, re.MULTILINE))


def test_every_openapi_operation_has_a_section_in_the_api_reference() -> None:
    """Given the OpenAPI document, each operation has a `### METHOD /path` heading."""
    assert openapi_operations() - api_reference_operations() == set()


def test_every_api_reference_section_is_an_openapi_operation() -> None:
    """Given docs/api.md, no heading names an operation the OpenAPI document lacks."""
    assert api_reference_operations() - openapi_operations() == set()


def test_every_api_reference_section_has_a_curl_example() -> None:
    """Given each operation's section, it shows a curl call of that method and path."""
    text = (ROOT / "docs" / "api.md").read_text()
    sections = re.split(r"^### ", text, flags=re.MULTILINE)[1:]
    for section in sections:
        heading, _, body = section.partition("\n")
        path = heading.split(" ", 1)[1]
        # Each {parameter} stands for one path segment of the example.
        route = "[^/\\s\"']+".join(map(re.escape, re.split(r"\{[^}]+\}", path)))
        assert "curl " in body, heading
        assert re.search(route, body), heading


def readme_module_map() -> set[str]:
    """Every `path/` or `path.py` named in the README's Architecture module map: top-level
    entries, the layer's subpackages (`  core/`) and their modules (`    handler.py`)."""
    text = (ROOT / "README.md").read_text()
    architecture = text.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    block = architecture.split("```text", 1)[1].split("```", 1)[0]
    named: set[str] = set()
    package = ""
    for line in block.splitlines():
        if not line.strip():
            continue
        name = line.split()[0]
        if not line.startswith(" "):
            named.add(name)
        elif not line.startswith("    ") and name.endswith("/"):
            package = f"layers/common/lockbox/{name}"
            named.add(package)
        elif name.endswith(".py"):
            named.add(f"{package}{name}")
    return named


def test_readme_module_map_names_only_what_exists() -> None:
    """Given the README's module map, every file and folder it names is in the tree."""
    missing = {name for name in readme_module_map() if not (ROOT / name.rstrip("/")).exists()}
    assert missing == set()


def test_readme_module_map_names_every_layer_module() -> None:
    """Given the layer's modules, in its subpackages, the README's module map names each one."""
    modules = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "layers/common/lockbox").glob("*/*.py")
        if path.name != "__init__.py"
    }
    assert modules - readme_module_map() == set()


def test_the_layer_has_no_flat_modules() -> None:
    """Given the layer, every module lives in a context's subpackage."""
    flat = {path.name for path in (ROOT / "layers/common/lockbox").glob("*.py")}
    assert flat == {"__init__.py"}
