"""`python -m lockbox_local` (what `make run` runs): the API on http://127.0.0.1:3000,
backed by DynamoDB Local, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from lockbox_local.dynamodb_local import SetupError
from lockbox_local.intrinsics import TemplateError, add_parameter_option
from lockbox_local.mailbox import DEFAULT_MAIL_PORT
from lockbox_local.ports import env_port
from lockbox_local.server import DEFAULT_HEAD_TIMEOUT_SECONDS, DEFAULT_IDLE_TIMEOUT_SECONDS
from lockbox_local.stack import DEFAULT_DATA_DIR, LocalStack, StackOptions

logger = logging.getLogger("lockbox_local")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m lockbox_local",
        description="Serve the Lockbox API from template.yaml on DynamoDB Local (no Docker).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (default %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=env_port("PORT", 3000),
        help="API port (env PORT, default 3000)",
    )
    parser.add_argument(
        "--dynamodb-port",
        type=int,
        default=env_port("DYNAMODB_PORT", 8000),
        help="DynamoDB Local port (env DYNAMODB_PORT, default 8000)",
    )
    parser.add_argument(
        "--secrets-port",
        type=int,
        default=env_port("SECRETS_PORT", 0),
        help="Secrets Manager emulator port (env SECRETS_PORT, default a free one)",
    )
    parser.add_argument(
        "--mail-port",
        type=int,
        default=env_port("MAIL_PORT", DEFAULT_MAIL_PORT),
        help=f"local SES stand-in and its mailbox (env MAIL_PORT, default {DEFAULT_MAIL_PORT})",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="where DynamoDB Local's database and the JWT signing key live (default .local/)",
    )
    parser.add_argument(
        "--in-memory",
        action="store_true",
        help="DynamoDB Local in memory and a key held in memory: nothing survives a stop",
    )
    parser.add_argument(
        "--workers-per-function",
        type=int,
        default=4,
        help="most concurrent invocations of one function (default %(default)s)",
    )
    add_parameter_option(parser)
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=DEFAULT_IDLE_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="close a client connection idle this long (default %(default)s; 0: never)",
    )
    parser.add_argument(
        "--head-timeout",
        type=float,
        default=DEFAULT_HEAD_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="close a connection whose request line and headers take longer "
        "(default %(default)s; 0: never)",
    )
    parser.add_argument(
        "--stop-with-parent",
        action="store_true",
        help="stop when the process that started this one exits (used by the e2e suite)",
    )
    parser.add_argument("--verbose", action="store_true", help="also log DynamoDB Local's output")
    return parser.parse_args(argv)


def banner(url: str, options: StackOptions, mailbox_url: str) -> str:
    storage = "in memory" if options.in_memory else f"data in {options.data_dir}"
    return f"""
Lockbox API on {url}   (DynamoDB Local on port {options.dynamodb_port}, {storage})
Mailbox on {mailbox_url}   (every mail the API sends; as JSON: {mailbox_url}/store)

Try it:
  curl -s -X POST {url}/api/register -H 'Content-Type: application/json' \\
    -d '{{"username": "alice", "email": "alice@example.com", "password": "test_password", "full_name": "Alice Doe", "age": 30, "gender": "female"}}'
  curl -s -X POST {url}/api/token -H 'Content-Type: application/json' \\
    -d '{{"username": "alice", "password": "test_password"}}'
  curl -s {url}/api/data/my%20key -H "Authorization: Bearer $TOKEN"

Press Ctrl-C to stop.
"""


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _watch_parent() -> None:
    """Turn the parent's exit into a SIGTERM for this process (reparented: ppid changes)."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
    logging.getLogger("lockbox_local.dynamodb_local").setLevel(
        logging.DEBUG if args.verbose else logging.INFO
    )
    options = StackOptions(
        host=args.host,
        port=args.port,
        dynamodb_port=args.dynamodb_port,
        secrets_port=args.secrets_port,
        mail_port=args.mail_port,
        data_dir=args.data_dir.resolve(),
        in_memory=args.in_memory,
        workers_per_function=max(1, args.workers_per_function),
        parameter_overrides=dict(args.parameter),
        idle_timeout_seconds=args.idle_timeout or None,
        head_timeout_seconds=args.head_timeout or None,
    )
    # SIGTERM stops the stack exactly like Ctrl-C does.
    signal.signal(signal.SIGTERM, _stop_on_signal)
    stack = LocalStack(options)
    try:
        stack.start()
        if stack.services is not None:
            dynamodb = stack.services.dynamodb
            logger.info("DynamoDB Local (pid %s) on %s", dynamodb.pid, dynamodb.endpoint)
        if args.stop_with_parent:
            threading.Thread(target=_watch_parent, name="parent-watch", daemon=True).start()
        print(banner(stack.url, options, stack.mailbox_url), flush=True)
        threading.Event().wait()  # until Ctrl-C / SIGTERM raise KeyboardInterrupt
    except (SetupError, TemplateError) as error:
        print(f"\nCannot start the local stack:\n{error}\n", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        # A second Ctrl-C must not cut the clean stop short (DynamoDB Local flushes to disk).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        logger.info("Stopping the local stack")
    finally:
        stack.stop()
    logger.info("Stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
