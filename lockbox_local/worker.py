"""The process one Lambda function runs in: it imports the handler the way Lambda does
and answers the events the gateway sends it over a pipe, one at a time.

It is started as a script in isolated mode (`python -I`), so sys.path holds only the
standard library and the virtual environment's packages; the function's code directory
and its layers go first, as /var/task and /opt/python do in Lambda. Hence: standard
library only here, nothing of the runner is importable (or needed).

LambdaContext is also the one Lambda context of the whole repository: tests and the
benchmarks build theirs with LambdaContext.for_function(name). Importing this module is
cheap (the pipe machinery is imported only when a worker serves).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

REGION = "us-east-1"  # the local stack's region and account (see intrinsics.py)
ACCOUNT_ID = "123456789012"
MAX_TIMEOUT_SECONDS = 900  # Lambda's longest timeout: the deadline of a context for tests


class LambdaContext:
    """The context object of one invocation (the attributes Powertools reads)."""

    def __init__(self, config: dict[str, Any], request_id: str, deadline_ms: float) -> None:
        name = config["function_name"]
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = config["function_arn"]
        self.memory_limit_in_mb = config["memory_mb"]
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = f"local/[$LATEST]{os.getpid()}"
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    @classmethod
    def for_function(cls, name: str, memory_mb: int = 256) -> LambdaContext:
        """A context for calling a handler directly (tests, benchmarks): a fresh request
        id and Lambda's longest timeout ahead."""
        config = {
            "function_name": name,
            "function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}",
            "memory_mb": memory_mb,
        }
        deadline_ms = (time.time() + MAX_TIMEOUT_SECONDS) * 1000
        return cls(config, str(uuid.uuid4()), deadline_ms)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _load_handler(handler: str) -> Any:
    module_name, _, function_name = handler.rpartition(".")
    return getattr(importlib.import_module(module_name), function_name)


def _error(error: BaseException, error_type: str | None = None) -> dict[str, str]:
    return {"errorType": error_type or type(error).__name__, "errorMessage": str(error)}


def _log_error(error: BaseException) -> None:
    # What the Lambda runtime logs for an unhandled error (tracebacks hold no locals).
    print(f"[ERROR] {type(error).__name__}: {error}", file=sys.stderr)
    traceback.print_exception(error, file=sys.stderr)


def serve(config: dict[str, Any]) -> int:
    from multiprocessing.connection import Connection

    requests: Connection = Connection(config["read_fd"], writable=False)
    answers: Connection = Connection(config["write_fd"], readable=False)
    sys.path[0:0] = [config["code_dir"], *config["layer_dirs"]]
    os.chdir(config["code_dir"])
    try:
        handler = _load_handler(config["handler"])
    except Exception as error:
        _log_error(error)
        answers.send_bytes(json.dumps({"initError": _error(error)}).encode())
        return 1
    answers.send_bytes(json.dumps({"ready": True}).encode())
    while True:
        try:
            message = json.loads(requests.recv_bytes())
        except EOFError:
            return 0  # the runner closed the pipe: stop, or it is gone
        context = LambdaContext(config, message["requestId"], message["deadlineMs"])
        try:
            result = handler(message["event"], context)
        except Exception as error:
            _log_error(error)
            answers.send_bytes(json.dumps({"error": _error(error)}).encode())
            continue
        try:
            payload = json.dumps({"result": result})
        except (TypeError, ValueError) as error:
            payload = json.dumps({"error": _error(error, "Runtime.MarshalError")})
        answers.send_bytes(payload.encode())


if __name__ == "__main__":
    sys.exit(serve(json.loads(sys.argv[1])))
