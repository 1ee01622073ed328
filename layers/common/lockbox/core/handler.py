"""The wiring every REST function shares: logging context, tracing, metrics, and the
path of a request: parse the whole input, act on it, render the outcome in the route
family's format. A function's handler module is one line of this."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.observability import count_internal_error, logger, metrics, traced
from lockbox.core.proxy import ApiEvent
from lockbox.core.responses import ContractEnvelope, ExpressFormat, ResponseFormat, Success
from lockbox.core.startup import resumes_collection

LambdaHandler = Callable[[ApiEvent, LambdaContext], dict[str, Any]]


def handler_for[Input](
    response_format: ResponseFormat,
    parse: Callable[[ApiEvent], Input],
    act: Callable[[Input], Success],
) -> LambdaHandler:
    """A Lambda handler: `act(parse(event))`, answered in `response_format`.

    `parse` checks the whole input in the contract's order and raises ApiError; `act` is
    the call's business function. Refusals answer their code; anything unexpected is
    logged with its cause, counted (`InternalErrors`) and answered as INTERNAL_ERROR. Neither the event nor the
    response is logged or traced: they carry passwords and tokens.
    """

    @resumes_collection
    @logger.inject_lambda_context
    @metrics.log_metrics
    @traced
    def lambda_handler(event: ApiEvent, context: LambdaContext) -> dict[str, Any]:
        # API Gateway's request id correlates our log lines with its access logs; read
        # directly rather than through a JMESPath query on every call.
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        try:
            return response_format.success(act(parse(event)))
        except ApiError as error:
            logger.info("Request refused", extra={"error_code": error.code.name})
            return response_format.refusal(error)
        except Exception:
            logger.exception("Request failed")
            count_internal_error(context)  # the 500 the Errors alarm cannot see
            return response_format.refusal(ApiError(ErrorCode.INTERNAL_ERROR))

    return lambda_handler


def api_handler[Input](
    parse: Callable[[ApiEvent], Input], act: Callable[[Input], Success]
) -> LambdaHandler:
    """A handler of an /api route: the contract's envelope."""
    return handler_for(ContractEnvelope(), parse, act)


def express_handler[Input](
    parse: Callable[[ApiEvent], Input], act: Callable[[Input], Success]
) -> LambdaHandler:
    """A handler of a /users route: the format its front ends know."""
    return handler_for(ExpressFormat(), parse, act)


def stream_handler(
    act: Callable[[dict[str, Any], LambdaContext], dict[str, Any]],
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """A handler of a DynamoDB stream batch: logging, tracing and metrics around `act`."""

    @resumes_collection
    @logger.inject_lambda_context
    @metrics.log_metrics
    @traced
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return act(event, context)

    return lambda_handler
