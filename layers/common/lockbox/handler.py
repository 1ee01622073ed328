"""The wiring every REST function shares: logging context, tracing, metrics and the
mapping of outcomes to the one envelope. Handlers stay a line or two of glue."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lockbox.envelope import Success, error_response, success_response
from lockbox.errors import ApiError, ErrorCode
from lockbox.events import ApiEvent
from lockbox.observability import logger, metrics, tracer

LambdaHandler = Callable[[ApiEvent, LambdaContext], dict[str, Any]]


def api_handler(endpoint: Callable[[ApiEvent], Success]) -> LambdaHandler:
    """Turn `endpoint(event) -> Success` into a Lambda handler answering in the envelope.

    Refusals (ApiError) answer their code; anything unexpected is logged with its cause
    and answered 500 INTERNAL_ERROR. Neither the event nor the response is logged or
    traced: they carry passwords and tokens.
    """

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @metrics.log_metrics
    @tracer.capture_lambda_handler(capture_response=False)
    @functools.wraps(endpoint)
    def handler(event: ApiEvent, context: LambdaContext) -> dict[str, Any]:
        try:
            return success_response(endpoint(event))
        except ApiError as error:
            logger.info("Request refused", extra={"error_code": error.code.name})
            return error_response(error)
        except Exception:
            logger.exception("Request failed")
            return error_response(ApiError(ErrorCode.INTERNAL_ERROR))

    return handler
