"""Powertools logger, tracer and metrics shared by every function of the service.

Instances of one service name share their state, so handlers and layer modules
log, trace and count through the same objects.

At INFO and above the functions log refusals (with their code), failures (with their
cause) and the asynchronous work (the purge, the mail sender, the key rotation). A call's
success is a DEBUG line (POWERTOOLS_LOG_LEVEL=DEBUG shows them): API Gateway's access log
has every request with its status and caller (`principalId`), the activity log has each
login and account change, and registrations are counted as a metric, while one log line
costs a warm call about as much as the rest of its code (docs/performance.md).
"""

import os
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

# Only registration and login publish metrics; the other functions flush none by design.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()


def _aws_call_tracer() -> Any:
    """Powertools' Tracer, whose X-Ray SDK adds a subsegment per AWS call, only with
    TraceAwsCalls=true (TRACE_AWS_CALLS): importing that SDK costs every cold start about a
    third of the floor (docs/performance.md). Lambda's own trace segments (Tracing: Active:
    the invocation, its init and overhead) need no SDK and stay either way."""
    if os.environ.get("TRACE_AWS_CALLS", "false").lower() != "true":
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(patch_modules=["botocore"])  # the only traced library; more costs start-up


tracer = _aws_call_tracer()


def traced[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """The handler in a traced subsegment when AWS calls are traced; else the handler."""
    if tracer is None:
        return handler
    wrapped: Handler = tracer.capture_lambda_handler(capture_response=False)(handler)
    return wrapped


metrics = Metrics()

INTERNAL_ERRORS = "InternalErrors"


def count_internal_error(context: LambdaContext) -> None:
    """One `InternalErrors` (a request answered 500, a purge that failed), dimensions
    service and function: each function's alarm (template.yaml FunctionMonitoring) reads
    its own. Its own EMF line, printed at once: the `function` dimension must not reach
    the invocation's other metrics, whose alarms read `service` alone."""
    with single_metric(
        name=INTERNAL_ERRORS,
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions={"service": str(metrics.service)},
    ) as metric:
        metric.add_dimension(name="function", value=context.function_name)
