"""TOKEN authorizer for /api/data: verifies the bearer JWT, passes user_id on in the context."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from lockbox.authorizer import UnauthorizedError, authorize

# Only the logger: the authorizer stays free of boto3 and X-Ray patching to start fast.
logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return authorize(event)
    except UnauthorizedError as error:
        logger.info("Token refused", extra={"reason": error.reason})
        raise
