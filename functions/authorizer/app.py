"""TOKEN authorizer of the bearer routes: verifies the bearer JWT and that its session is
alive, passes user_id and sid on in the context; a refused token gets an explicit Deny."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from lockbox.core.startup import resumes_collection
from lockbox.sessions.authorizer import UnauthorizedError, authorize, deny_policy

# Only the logger: no X-Ray patching, and boto3 only once the first decision needs the
# session (lockbox.sessions.authorizer), so the authorizer starts fast.
logger = Logger()


@resumes_collection  # the collector, paused for the cold start (lockbox/core/startup.py)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return authorize(event)
    except UnauthorizedError as error:
        logger.info("Token refused", extra={"reason": error.reason})
        return deny_policy(event["methodArn"])
    except Exception:
        # A decision that could not be made (the key or the session unreadable): the
        # invocation fails and API Gateway answers 500 AUTHORIZER_FAILURE, never Allow.
        from lockbox.core.observability import count_internal_error  # the failure path only

        count_internal_error(context)
        raise
