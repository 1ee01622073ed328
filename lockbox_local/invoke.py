"""`python -m lockbox_local.invoke FUNCTION EVENT` (`make invoke`): one function of the
template run once on an event file, against the local stack's services, without Docker.

What `sam local invoke` does in a Lambda container, done with the local stack's own pieces:
the function runs in a worker process (lockbox_local/workers.py) with the environment the
local stack gives it (the template's variables, DynamoDB Local's endpoint, the Secrets
Manager emulator's endpoint), and its answer is printed as JSON on stdout. Its
log lines go to stderr, as do this command's own messages.

The services:
- DynamoDB Local: when something answers on the DynamoDB port (a running `make run`),
  that one is used and left running; otherwise one is started on the data dir exactly as
  `make run` starts it (the data dir locked, the template's tables created) and stopped
  when the function has answered. Either way the data is the one `make run` serves
  (--in-memory: a DynamoDB Local of this run's own, in memory).
- The Secrets Manager emulator (moto's server): one of this command's own, serving the data dir's
  secrets (secrets.json), so a token that `make run` issued on that data dir is accepted
  here and one issued here is accepted there (--in-memory: a key made for this run).
- Nothing else: the gateway and its authorizer are not in the path (an API function gets
  the event as it is, `requestContext.authorizer` included), and DynamoDB streams are not
  read (a running `make run` reads them, and delivers a deletion's purge itself).

An event file may hold placeholders `{{NAME}}`: each is replaced with the environment
variable NAME (events/ has {{ACCESS_TOKEN}} and {{REFRESH_TOKEN}}: a login's tokens).

Exit status: 0 when the function ran (its answer printed, a raised error included, as
`sam local invoke`); 1 when it could not run (failed to start, timed out, crashed); 2 when
the command was wrong (unknown function, no event file, a placeholder without its
variable) or the services could not start.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

from lockbox_local.api import read_app
from lockbox_local.dynamodb_local import SetupError
from lockbox_local.intrinsics import REGION, Resolver, TemplateError, add_parameter_option
from lockbox_local.lambdas import FunctionSpec
from lockbox_local.local_secrets import local_secret_values
from lockbox_local.ports import env_port, port_answers
from lockbox_local.secrets_emulator import SecretsEmulator
from lockbox_local.services import LOCAL_CREDENTIALS, LocalServices, function_environment
from lockbox_local.stack import DEFAULT_DATA_DIR, lock_data_dir
from lockbox_local.template import create_tables, load_template
from lockbox_local.workers import Completed, Outcome, Raised, Unavailable, Workers

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger("lockbox_local.invoke")

PLACEHOLDER = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}")
# Where a placeholder's value comes from, for the ones events/ uses.
PLACEHOLDER_SOURCES = {
    "ACCESS_TOKEN": "data.access_token",
    "REFRESH_TOKEN": "data.refresh_token",
}
USAGE = "Usage: make invoke FUNCTION=<logical id or folder> EVENT=<events/file.json>"
EXIT_NOT_RUN = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# What the services give one function: its whole environment.
EnvironmentOf = Callable[[FunctionSpec], dict[str, str]]


class UsageError(Exception):
    """The command cannot run as given; the message says why and what to give instead."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m lockbox_local.invoke",
        description="Run one function of template.yaml on an event file against the local "
        "stack's services (DynamoDB Local, the Secrets Manager emulator); print its answer.",
    )
    parser.add_argument(
        "function",
        nargs="?",
        default="",
        help="a logical id (GetItemFunction) or folder (get_item)",
    )
    parser.add_argument("event", nargs="?", default="", help="an event file, e.g. events/x.json")
    parser.add_argument(
        "--dynamodb-port",
        type=int,
        default=env_port("DYNAMODB_PORT", 8000),
        help="DynamoDB Local's port: used when it answers, else started there "
        "(env DYNAMODB_PORT, default 8000, as make run)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="the local stack's data dir: its database and signing key (default .local/)",
    )
    parser.add_argument(
        "--in-memory",
        action="store_true",
        help="no data dir: a DynamoDB Local started in memory, a signing key made for this run",
    )
    add_parameter_option(parser)
    return parser.parse_args(argv)


# --- the function and the event ---------------------------------------------------------


def function_names(functions: Mapping[str, FunctionSpec]) -> str:
    """The template's functions as a table: logical id, then folder."""
    width = max((len(function_id) for function_id in functions), default=0)
    return "\n".join(
        f"  {function_id:<{width}}  {spec.code_dir.name}"
        for function_id, spec in sorted(functions.items())
    )


def find_function(name: str, functions: Mapping[str, FunctionSpec]) -> str:
    """The logical id `name` stands for: a logical id, or the folder of its code
    (`get_item`, also as `functions/get_item/`)."""
    name = name.strip()
    if name in functions:
        return name
    folder = Path(name).name if name else ""
    for function_id, spec in functions.items():
        if folder and spec.code_dir.name == folder:
            return function_id
    what = f"No function {name!r} in template.yaml." if name else f"FUNCTION is missing.\n{USAGE}"
    raise UsageError(
        f"{what}\nGive a logical id or its folder under functions/:\n{function_names(functions)}"
    )


def _fill_placeholders(value: Any, environ: Mapping[str, str], missing: set[str]) -> Any:
    if isinstance(value, str):

        def replace(found: re.Match[str]) -> str:
            filled = environ.get(found.group(1), "").strip()
            if not filled:
                missing.add(found.group(1))
                return found.group(0)
            return filled

        return PLACEHOLDER.sub(replace, value)
    if isinstance(value, list):
        return [_fill_placeholders(item, environ, missing) for item in value]
    if isinstance(value, dict):
        return {key: _fill_placeholders(item, environ, missing) for key, item in value.items()}
    return value


def _missing_placeholders(path: str, names: set[str]) -> str:
    lines = [f"{path} holds placeholders without a value: set these environment variables."]
    for name in sorted(names):
        source = PLACEHOLDER_SOURCES.get(name)
        where = f" ({source} of a login's answer)" if source else ""
        lines.append(f"  {{{{{name}}}}}: {name}{where}")
    if names & PLACEHOLDER_SOURCES.keys():
        lines.append(
            "For example, log in with the sample account and pass its token on:\n"
            "  make invoke FUNCTION=RegisterFunction EVENT=events/register_success.json\n"
            "  make invoke FUNCTION=TokenFunction EVENT=events/token_success.json\n"
            f"  ACCESS_TOKEN=<data.access_token of its body> make invoke FUNCTION=... EVENT={path}"
        )
    return "\n".join(lines)


def read_event(path: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """The event in the file, each {{NAME}} replaced with the environment variable NAME."""
    if not path.strip():
        raise UsageError(f"EVENT is missing: give an event file.\n{USAGE}")
    file = Path(path)
    if not file.is_file():
        raise UsageError(
            f"No event file {path}: there is no such file. events/ has the sample events "
            "(events/README.md says what each one does)."
        )
    try:
        event = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise UsageError(f"{path} is not JSON: {error}") from None
    if not isinstance(event, dict):
        raise UsageError(f"{path} holds a JSON {type(event).__name__}: an event is an object")
    missing: set[str] = set()
    filled: dict[str, Any] = _fill_placeholders(event, environ, missing)
    if missing:
        raise UsageError(_missing_placeholders(path, missing))
    return filled


# --- the services -------------------------------------------------------------------------


def _dynamodb_client(endpoint: str) -> DynamoDBClient:
    import boto3
    from botocore.config import Config

    client: DynamoDBClient = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2}),
    )
    return client


@contextlib.contextmanager
def _running_dynamodb(
    template: Mapping[str, Any], resolver: Resolver, port: int, data_dir: Path | None
) -> Iterator[EnvironmentOf]:
    """The DynamoDB Local on `port` (left running) and a Secrets Manager emulator of our own."""
    endpoint = f"http://127.0.0.1:{port}"
    logger.info("Using the DynamoDB Local that answers on port %d (left running)", port)
    try:
        create_tables(_dynamodb_client(endpoint))  # a running `make run` has them already
    except Exception as error:
        raise SetupError(
            f"Port {port} answers, but not as DynamoDB Local ({type(error).__name__}: {error}).\n"
            f"Pick the port of a running `make run`, or a free one: DYNAMODB_PORT={port + 1} "
            "make invoke ..."
        ) from None
    server = SecretsEmulator(local_secret_values(template, resolver, data_dir)).start()
    try:
        yield lambda spec: function_environment(
            spec,
            dynamodb_endpoint=endpoint,
            secrets_endpoint=server.endpoint,
            secret_names=server.secret_names(),
        )
    finally:
        server.stop()


@contextlib.contextmanager
def _started_services(
    template: Mapping[str, Any], resolver: Resolver, port: int, data_dir: Path | None
) -> Iterator[EnvironmentOf]:
    """DynamoDB Local and the secrets emulator started as `make run` starts them on the
    data dir (locked meanwhile; None: in memory), stopped afterwards."""
    lock = None
    if data_dir is not None:
        try:
            lock = lock_data_dir(data_dir)
        except SetupError:
            raise SetupError(
                f"Another local stack uses {data_dir}, with its DynamoDB Local on another port "
                f"than {port}. Give its port to use that one (DYNAMODB_PORT=<its port> make "
                'invoke ...), or another data dir (ARGS="--data-dir DIR" or ARGS=--in-memory).'
            ) from None
    services = LocalServices(port, data_dir)
    try:
        services.start_dynamodb()
        services.start(template, resolver)
        logger.info(
            "Started DynamoDB Local on port %d (%s); it stops when the function answers",
            port,
            f"data in {data_dir}" if data_dir else "in memory",
        )
        yield lambda spec: services.function_environments({spec.logical_id: spec})[spec.logical_id]
    finally:
        services.stop()
        if lock is not None:
            lock.close()


def function_services(
    template: Mapping[str, Any], resolver: Resolver, *, dynamodb_port: int, data_dir: Path | None
) -> contextlib.AbstractContextManager[EnvironmentOf]:
    """The local stack's services for one invocation: a running DynamoDB Local if its
    port answers, else the same services `make run` starts, stopped on exit."""
    if port_answers(dynamodb_port):
        return _running_dynamodb(template, resolver, dynamodb_port, data_dir)
    return _started_services(template, resolver, dynamodb_port, data_dir)


# --- the invocation -------------------------------------------------------------------------


def invoke(
    spec: FunctionSpec,
    environment: Mapping[str, str],
    event: dict[str, Any],
    output: IO[bytes] | None = None,
) -> Outcome:
    """One invocation in a worker of its own (a cold start), stopped afterwards."""
    workers = Workers({spec.logical_id: spec}, {spec.logical_id: environment}, 1, output)
    try:
        return workers.invoke(spec.logical_id, event, str(uuid.uuid4()))
    finally:
        workers.close()


def answer_of(outcome: Completed | Raised) -> Any:
    """What Lambda's Invoke answers: the result, or the error of a function that raised."""
    if isinstance(outcome, Completed):
        return outcome.payload
    return {"errorType": outcome.error_type, "errorMessage": outcome.error_message}


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
    try:
        template = load_template()
        app = read_app(template, dict(args.parameter))
        function_id = find_function(args.function, app.functions)
        event = read_event(args.event, os.environ)
    except (UsageError, TemplateError) as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    spec = app.functions[function_id]
    signal.signal(signal.SIGTERM, _stop_on_signal)  # stops what was started, like Ctrl-C
    try:
        with function_services(
            template,
            app.resolver,
            dynamodb_port=args.dynamodb_port,
            data_dir=None if args.in_memory else args.data_dir.resolve(),
        ) as environment_of:
            started = time.perf_counter()
            # The function's log lines go to stderr: stdout holds its answer alone.
            outcome = invoke(spec, environment_of(spec), event, sys.stderr.buffer)
            elapsed_ms = (time.perf_counter() - started) * 1000
    except SetupError as error:
        print(f"\nCannot start the local services:\n{error}\n", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    if isinstance(outcome, Unavailable):
        print(f"{function_id} did not answer: {outcome.reason}", file=sys.stderr)
        return EXIT_NOT_RUN
    if isinstance(outcome, Raised):
        logger.info(
            "%s raised %s (%.0f ms, cold start included)",
            function_id,
            outcome.error_type,
            elapsed_ms,
        )
    else:
        logger.info("%s answered in %.0f ms, cold start included", function_id, elapsed_ms)
    print(json.dumps(answer_of(outcome), indent=2, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
