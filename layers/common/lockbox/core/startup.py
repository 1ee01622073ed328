"""A cold start without garbage collection.

What a cold start allocates lives as long as the execution environment: the modules,
the boto3 client and its service model, the settings. The collector's passes over them
during the start free almost nothing, yet on this code they cost more than all of its
own imports (docs/performance.md, "Garbage collection"). So in a Lambda environment the
collector is paused from the layer's first import until the first invocation has
answered; then everything alive is frozen (`gc.freeze`: left out of every later pass,
which also shortens the warm calls' collections) and collection resumes for what the
invocations allocate. Reference counting frees everything else as usual meanwhile.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable


def pause_collection() -> None:
    """Called by the layer's first import (lockbox/__init__.py). Only where Lambda (or the
    local stack's workers, which set the same variable) runs the code: a test or a tool
    importing the layer keeps its collector."""
    if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
        gc.disable()


def resume_collection() -> None:
    """After the first invocation: freeze what the start allocated, collect again. Later
    calls find collection on and change nothing."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def resumes_collection[**Params, Result](
    handler: Callable[Params, Result],
) -> Callable[Params, Result]:
    """The handler, resuming collection once it has answered (or raised) the first time."""

    @functools.wraps(handler)
    def lambda_handler(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        try:
            return handler(*args, **kwargs)
        finally:
            resume_collection()

    return lambda_handler
