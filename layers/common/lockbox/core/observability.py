"""Powertools logger, tracer and metrics shared by every function of the service.

Instances of one service name share their state, so handlers and layer modules
log, trace and count through the same objects.
"""

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

# Only registration and login publish metrics; the other functions flush none by design.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])  # the only traced library; patching more costs start-up
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
