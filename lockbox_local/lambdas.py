"""The Lambda functions of the template as the local runner starts them.

The template comes from lockbox_local.template.load_template(), where SAM's own Globals
plugin has already merged Globals into every function: scalars overridden by the function,
maps (environment variables) merged, lists (layers) concatenated.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockbox_local.intrinsics import Resolver, TemplateError
from lockbox_local.template import PROJECT_ROOT, resources_of_type

logger = logging.getLogger(__name__)

FUNCTION_TYPE = "AWS::Serverless::Function"
_LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
_DEFAULT_TIMEOUT_SECONDS = 3  # Lambda's default when the template sets none
_DEFAULT_MEMORY_MB = 128


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str  # "module.function", as in the template
    layer_dirs: tuple[Path, ...]
    timeout_seconds: float
    memory_mb: int
    environment: Mapping[str, str]  # the template's variables, intrinsics resolved


def read_functions(
    template: Mapping[str, Any], resolver: Resolver, root: Path = PROJECT_ROOT
) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function of the template (Globals merged), by logical id."""
    return {
        logical_id: _function_spec(
            logical_id, resource.get("Properties", {}), template, resolver, root
        )
        for logical_id, resource in resources_of_type(dict(template), FUNCTION_TYPE).items()
    }


def _function_spec(
    logical_id: str,
    properties: Mapping[str, Any],
    template: Mapping[str, Any],
    resolver: Resolver,
    root: Path,
) -> FunctionSpec:
    code_uri = properties.get("CodeUri")
    handler = properties.get("Handler")
    if not isinstance(code_uri, str) or not isinstance(handler, str):
        raise TemplateError(f"{logical_id}: the local runner needs a local CodeUri and a Handler")
    variables = resolver.resolve((properties.get("Environment") or {}).get("Variables") or {})
    return FunctionSpec(
        logical_id=logical_id,
        code_dir=(root / code_uri).resolve(),
        handler=handler,
        layer_dirs=tuple(
            directory
            for layer in properties.get("Layers", [])
            for directory in _layer_dirs(logical_id, layer, template, root)
        ),
        timeout_seconds=float(
            resolver.resolve_text(properties.get("Timeout", _DEFAULT_TIMEOUT_SECONDS))
        ),
        memory_mb=int(resolver.resolve_text(properties.get("MemorySize", _DEFAULT_MEMORY_MB))),
        environment={str(name): resolver.resolve_text(value) for name, value in variables.items()},
    )


def _layer_dirs(
    function_id: str, layer: Any, template: Mapping[str, Any], root: Path
) -> list[Path]:
    """The directories a layer of this template puts on sys.path (Lambda's /opt/python).

    A layer published elsewhere (an ARN) has no local code (the template uses none).
    """
    resources = template.get("Resources", {}) or {}
    name = layer.get("Ref") if isinstance(layer, Mapping) else None
    if not isinstance(name, str) or resources.get(name, {}).get("Type") not in _LAYER_TYPES:
        logger.debug("%s: layer %r is not in this template; skipped locally", function_id, layer)
        return []
    properties = resources[name].get("Properties", {})
    content = properties.get("ContentUri", properties.get("Content"))
    if not isinstance(content, str):
        raise TemplateError(f"layer {name}: the local runner needs a local ContentUri")
    base = (root / content).resolve()
    # A layer zip's python/ folder is what Lambda adds; with BuildMethod the package may
    # also sit directly under ContentUri (sam build moves it into python/ when building).
    return [path for path in (base / "python", base) if path.is_dir()]
