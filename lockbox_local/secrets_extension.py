"""A stand-in for the AWS Parameters and Secrets Lambda Extension's HTTP endpoint.

In Lambda the extension answers on localhost:2773; locally and in tests this server
answers the same request the same way, so the functions' code has no local branch:
`secretId`, optionally `versionStage` or `versionId` (or both, which must then name the
same version), answered with GetSecretValue's fields
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lockbox_local.local_secrets import LocalSecrets

TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"  # noqa: S105 (a header name)


class SecretsExtensionServer:
    """Serves GET /secretsmanager/get?secretId=... from local secrets (plain values: one
    AWSCURRENT version each)."""

    def __init__(
        self, secrets: Mapping[str, str] | LocalSecrets, session_token: str, port: int = 0
    ) -> None:
        self.secrets = (
            secrets if isinstance(secrets, LocalSecrets) else LocalSecrets.of_values(secrets)
        )
        self._session_token = session_token
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> SecretsExtensionServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if self.headers.get(TOKEN_HEADER) != outer._session_token:
                    self._answer(HTTPStatus.UNAUTHORIZED, {"message": "missing or wrong token"})
                    return
                query = {name: values[0] for name, values in parse_qs(url.query).items()}
                secret_id = query.get("secretId", "")
                secret = outer.secrets.get(secret_id) if url.path == "/secretsmanager/get" else None
                if secret is None:
                    self._answer(HTTPStatus.BAD_REQUEST, {"message": "secret not found"})
                    return
                version = secret.find(query.get("versionId"), query.get("versionStage"))
                if version is None:
                    self._answer(HTTPStatus.BAD_REQUEST, {"message": "secret version not found"})
                    return
                self._answer(
                    HTTPStatus.OK,
                    {
                        "Name": secret_id,
                        "ARN": secret_id,
                        "VersionId": version.version_id,
                        "SecretString": version.value,
                        "VersionStages": list(version.stages),
                        "CreatedDate": version.created,
                    },
                )

            def _answer(self, status: HTTPStatus, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: requests carry secret ids, and tests run thousands of them

        return Handler
