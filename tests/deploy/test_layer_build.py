"""The shared layer as `sam build` makes it (layers/common/Makefile): the dependencies for
Lambda's arm64, the lockbox package, and every module compiled, so that a cold start in
Lambda's read-only /opt imports bytecode rather than compiling each module's source."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lockbox_local.template import PROJECT_ROOT

LAYER_SOURCE = PROJECT_ROOT / "layers" / "common"
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


@pytest.fixture(scope="module")
def built_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What SAM's CustomMakeBuilder gets back from the layer's build target: its python/."""
    make = shutil.which("make")
    assert make is not None, "sam build runs the layer's Makefile: install make"
    artifacts = tmp_path_factory.mktemp("CommonLayer")
    subprocess.run(  # noqa: S603 (make, with this repository's Makefile)
        [
            make,
            "--no-print-directory",
            "-f",
            str(LAYER_SOURCE / "Makefile"),
            "build-CommonLayer",
            f"ARTIFACTS_DIR={artifacts}",
            f"PYTHON={sys.executable}",  # the project's Python 3.13
        ],
        cwd=LAYER_SOURCE,
        check=True,
        capture_output=True,
        text=True,
    )
    return artifacts / "python"


def modules(root: Path) -> Iterator[Path]:
    yield from (path for path in root.rglob("*.py") if "__pycache__" not in path.parts)


def test_the_layer_holds_every_lockbox_module(built_layer: Path) -> None:
    source = {path.relative_to(LAYER_SOURCE) for path in modules(LAYER_SOURCE / "lockbox")}
    built = {path.relative_to(built_layer) for path in modules(built_layer / "lockbox")}

    assert built == source
    assert (built_layer / "lockbox" / "accounts" / "common_passwords.txt").is_file()


def test_every_module_is_compiled_for_python_3_13(built_layer: Path) -> None:
    """Each module of the layer (dependencies included) has its .pyc beside it, where
    Python 3.13 looks for it."""
    missing = [
        path
        for path in modules(built_layer)
        if not Path(importlib.util.cache_from_source(str(path))).is_file()
    ]

    assert missing == []


def test_the_bytecode_is_hash_based_and_unchecked(built_layer: Path) -> None:
    """Every .pyc is this Python's (magic number) and trusted without reading its source,
    none left over from a development tree."""
    headers = {pyc.read_bytes()[:8] for pyc in built_layer.rglob("*.pyc")}

    assert headers == {importlib.util.MAGIC_NUMBER + UNCHECKED_HASH.to_bytes(4, "little")}


def test_binary_dependencies_are_built_for_lambdas_arm64(built_layer: Path) -> None:
    extensions = [path.name for path in (built_layer / "pydantic_core").glob("*.so")]

    assert extensions == ["_pydantic_core.cpython-313-aarch64-linux-gnu.so"]
    assert (built_layer / "bcrypt" / "_bcrypt.abi3.so").is_file()
    wheel = (built_layer / "bcrypt-5.0.0.dist-info" / "WHEEL").read_text()
    assert "aarch64" in wheel
