"""The response format of POST /users/register, the shape express-validator clients know:
success is the bare resource, refusals are {"errors": [{"msg", "param", "location"}]}."""

from __future__ import annotations

from typing import Any

from lockbox.envelope import Success, json_response
from lockbox.errors import ApiError, ErrorCode

NOT_AN_OBJECT = "Request body must be a JSON object."


class ExpressValidatorFormat:
    def success(self, result: Success) -> dict[str, Any]:
        return json_response(result.status, result.data)

    def refusal(self, error: ApiError) -> dict[str, Any]:
        if error.code is ErrorCode.INTERNAL_ERROR:
            entries = [{"msg": error.code.message, "location": "server"}]
            return json_response(error.code.status, {"errors": entries})
        problems = [(p.field, p.message) for p in error.details] or [("body", NOT_AN_OBJECT)]
        entries = [{"msg": msg, "param": param, "location": "body"} for param, msg in problems]
        return json_response(400, {"errors": entries})
