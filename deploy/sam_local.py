"""`make sam-local-env` and `make sam-local-secrets`: what `sam local invoke` and
`sam local start-api` need to run the template's functions in Docker against the local
stack's services on this machine instead of AWS.

- env.json (sam's --env-vars): the tables and the secret under the names the local stack
  gives them (a table or secret is named after its logical id), for every function.
- parameter-overrides.txt (sam's --parameter-overrides): LocalDynamoDBEndpoint points the
  functions at DynamoDB Local, LocalSecretsManagerEndpoint at the emulator below.
- serve-secrets: the Secrets Manager emulator (moto's server) on port 4583 of the host, with
  the local stack's own JWT signing key (.local/secrets.json), so tokens issued by
  `sam local` and by `make run` are interchangeable.

With `--docker-network host` the containers reach both on 127.0.0.1 (Linux Docker).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lockbox_local.intrinsics import Resolver, parameter_values
from lockbox_local.local_secrets import local_secret_values
from lockbox_local.secrets_emulator import SecretsEmulator
from lockbox_local.template import PROJECT_ROOT, load_template, resources_of_type

DEFAULT_OUT_DIR = PROJECT_ROOT / ".local" / "sam"
DEFAULT_DATA_DIR = PROJECT_ROOT / ".local"
# The port serve-secrets listens on, and env.json points the functions at.
SECRETS_PORT = 4583
# Resource types whose Ref the local stack turns into the logical id (tables) or accepts
# under the logical id (secrets).
_LOCAL_BY_LOGICAL_ID = ("AWS::DynamoDB::Table", "AWS::SecretsManager::Secret")
_FUNCTION_TYPE = "AWS::Serverless::Function"


def local_names(template: Mapping[str, Any]) -> dict[str, str]:
    """The functions' environment variables that name a table or a secret, with the local
    name (load_template has merged the global ones into every function)."""
    resources = template.get("Resources", {}) or {}
    names: dict[str, str] = {}
    for function in resources_of_type(dict(template), _FUNCTION_TYPE).values():
        variables = (function.get("Properties", {}).get("Environment") or {}).get("Variables")
        for name, value in (variables or {}).items():
            target = value.get("Ref") if isinstance(value, Mapping) else None
            if (
                isinstance(target, str)
                and resources.get(target, {}).get("Type") in _LOCAL_BY_LOGICAL_ID
            ):
                names[str(name)] = target
    return names


def env_vars(template: Mapping[str, Any], dynamodb_endpoint: str) -> dict[str, dict[str, str]]:
    """The --env-vars document: the same variables for every function of the template."""
    variables = {
        **local_names(template),
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://127.0.0.1:{SECRETS_PORT}",
    }
    return {
        logical_id: dict(variables)
        for logical_id in sorted(resources_of_type(dict(template), _FUNCTION_TYPE))
    }


def parameter_overrides(dynamodb_endpoint: str) -> dict[str, str]:
    return {
        "LocalDynamoDBEndpoint": dynamodb_endpoint,
        "LocalSecretsManagerEndpoint": f"http://127.0.0.1:{SECRETS_PORT}",
    }


def overrides_text(overrides: Mapping[str, str]) -> str:
    """As sam's --parameter-overrides takes them: Name=Value pairs separated by spaces."""
    return " ".join(f"{name}={value}" for name, value in overrides.items())


def write_files(out_dir: Path, dynamodb_port: int) -> tuple[Path, Path]:
    template = load_template()
    endpoint = f"http://127.0.0.1:{dynamodb_port}"
    overrides = parameter_overrides(endpoint)
    parameter_values(template, overrides)  # fails here, not in sam, if the template lacks one
    out_dir.mkdir(parents=True, exist_ok=True)
    env_file = out_dir / "env.json"
    env_file.write_text(json.dumps(env_vars(template, endpoint), indent=2) + "\n")
    overrides_file = out_dir / "parameter-overrides.txt"
    overrides_file.write_text(overrides_text(overrides) + "\n")
    return env_file, overrides_file


def secrets_server(data_dir: Path, port: int = SECRETS_PORT) -> SecretsEmulator:
    """The Secrets Manager emulator with the local stack's secrets (named by logical id,
    as env.json names them)."""
    template = load_template()
    resolver = Resolver(template, parameter_values(template, {}))
    return SecretsEmulator(local_secret_values(template, resolver, data_dir), port=port)


def _serve_secrets(data_dir: Path, port: int) -> None:
    server = secrets_server(data_dir, port).start()
    print(f"Secrets Manager emulator on {server.endpoint} (Ctrl-C stops it)")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.sam_local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    env = commands.add_parser("env", help="write env.json and parameter-overrides.txt")
    env.add_argument("--dynamodb-port", type=int, default=8000)
    env.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR)
    serve = commands.add_parser("serve-secrets", help="serve the Secrets Manager emulator")
    serve.add_argument("--port", type=int, default=SECRETS_PORT)
    serve.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    if args.command == "env":
        env_file, overrides_file = write_files(args.out, args.dynamodb_port)
        print(f"""Wrote {env_file} and {overrides_file}. With `make run` (or DynamoDB Local) and
`make sam-local-secrets` running, and Docker:

  make build
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_SESSION_TOKEN= \\
    sam local start-api --docker-network host --port 3001 \\
      --env-vars {env_file} --parameter-overrides "$(cat {overrides_file})"
""")
    else:
        _serve_secrets(args.data_dir, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
