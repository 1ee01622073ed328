"""The wiring every REST function shares: logging context, tracing, metrics and the
mapping of outcomes to a response format. Handlers stay a line or two of glue."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.utilities.typing import LambdaContext

from lockbox import envelope
from lockbox.envelope import Success
from lockbox.errors import ApiError, ErrorCode
from lockbox.events import ApiEvent
from lockbox.observability import logger, metrics, tracer

LambdaHandler = Callable[[ApiEvent, LambdaContext], dict[str, Any]]
Endpoint = Callable[[ApiEvent], Success]


class ResponseFormat(Protocol):
    """How a family of routes renders success and refusal as proxy responses."""

    def success(self, result: Success) -> dict[str, Any]: ...

    def refusal(self, error: ApiError) -> dict[str, Any]: ...


class ContractEnvelope:
    """The contract's {"status", "code", "message", ...} envelope (every /api route)."""

    def success(self, result: Success) -> dict[str, Any]:
        return envelope.success_response(result)

    def refusal(self, error: ApiError) -> dict[str, Any]:
        return envelope.error_response(error)


def handler_for(response_format: ResponseFormat) -> Callable[[Endpoint], LambdaHandler]:
    """A decorator turning `endpoint(event) -> Success` into a Lambda handler.

    Refusals (ApiError) answer their code; anything unexpected is logged with its cause
    and answered as INTERNAL_ERROR. Neither the event nor the response is logged or
    traced: they carry passwords and tokens.
    """

    def decorate(endpoint: Endpoint) -> LambdaHandler:
        @logger.inject_lambda_context
        @metrics.log_metrics
        @tracer.capture_lambda_handler(capture_response=False)
        @functools.wraps(endpoint)
        def handler(event: ApiEvent, context: LambdaContext) -> dict[str, Any]:
            # API Gateway's request id correlates our log lines with its access logs; read
            # directly rather than through a JMESPath query on every call.
            logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
            try:
                return response_format.success(endpoint(event))
            except ApiError as error:
                logger.info("Request refused", extra={"error_code": error.code.name})
                return response_format.refusal(error)
            except Exception:
                logger.exception("Request failed")
                return response_format.refusal(ApiError(ErrorCode.INTERNAL_ERROR))

        return handler

    return decorate


api_handler = handler_for(ContractEnvelope())
