"""The local Secrets Manager: moto's server, holding the template's secrets.

The functions read their secrets with boto3 (through Powertools), so locally they get
AWS_ENDPOINT_URL_SECRETS_MANAGER pointing here and the same code runs as in AWS. moto keeps
its state in memory only: the versions live in the data dir's secrets.json
(lockbox_local/local_secrets.py), are put into moto at start, and a rotation of that file
(`make rotate-key`) is put into moto as soon as it lands, with its version id, so the kid of
every token stays the version id the file names.

Each secret is named by its logical id here; `secret_names` maps the template's Ref of it
(an ARN in AWS) to that name, for the functions' environment.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from lockbox_local.intrinsics import REGION
from lockbox_local.local_secrets import (
    CURRENT,
    PREVIOUS,
    LocalSecret,
    LocalSecrets,
    SecretVersion,
)

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

# Credentials only the emulator sees (moto checks none).
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
_POLL_SECONDS = 0.2


def _quiet_moto_server(port: int) -> Any:
    """moto's ThreadedMotoServer without a log line per request (werkzeug's default): the
    functions read the key on every cold start, and with a cache of 0 on every call."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    class QuietServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)
            server = make_server(
                "127.0.0.1", port, app, threaded=True, request_handler=QuietHandler
            )
            self._server = server
            self._server_ready_event.set()
            server.serve_forever()

    return QuietServer(ip_address="127.0.0.1", port=port, verbose=False)


class SecretsEmulator:
    """moto's Secrets Manager on 127.0.0.1:port (0: a free port), seeded from `secrets`."""

    def __init__(self, secrets: LocalSecrets, port: int = 0) -> None:
        self.secrets = secrets
        self._server = _quiet_moto_server(port)
        self._applied: dict[str, str] = {}  # name -> the version id put into moto as current
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.get_host_and_port()[1])

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def secret_names(self) -> dict[str, str]:
        """The template's Ref of each secret -> its name here."""
        return self.secrets.aliases()

    def start(self) -> SecretsEmulator:
        self._server.start()
        client = self.client()
        for name in sorted(set(self.secrets.aliases().values())):
            secret = self.secrets.get(name)
            if secret is not None:
                _create(client, name, secret)
                _keep_created_dates(name, secret)
                self._applied[name] = _current_id(secret)
        self._watcher.start()
        return self

    def client(self) -> SecretsManagerClient:
        import boto3

        client: SecretsManagerClient = boto3.client(
            "secretsmanager",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        return client

    def enable_rotation(self, name: str, days: int) -> None:
        """What a RotationSchedule sets on the secret (moto sets it only while invoking a
        rotation Lambda through its own Lambda, which needs Docker)."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.secretsmanager.models import FakeSecret, secretsmanager_backends

        secret = secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION].secrets[name]
        assert isinstance(secret, FakeSecret)  # made here, not a replica
        secret.rotation_requested = True
        secret.rotation_enabled = True
        secret.auto_rotate_after_days = days

    def labelled_versions(self, name: str) -> LocalSecret:
        """The secret's versions that carry AWSCURRENT or AWSPREVIOUS, as kept in the data dir
        (a version without either is dropped: it can never verify again)."""
        client = self.client()
        stages_by_id = client.describe_secret(SecretId=name).get("VersionIdsToStages", {})
        kept: list[SecretVersion] = []
        for version_id, stages in stages_by_id.items():
            labels = tuple(stage for stage in stages if stage in (CURRENT, PREVIOUS))
            if not labels:
                continue
            answer = client.get_secret_value(SecretId=name, VersionId=version_id)
            kept.append(
                SecretVersion(
                    version_id, answer["SecretString"], labels, answer["CreatedDate"].timestamp()
                )
            )
        return LocalSecret(tuple(sorted(kept, key=lambda v: CURRENT not in v.stages)))

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher.is_alive():
            self._watcher.join()
        # moto's state is per process, not per server: leave none behind for another
        # emulator of this process (make rotate-key's and the tests').
        client = self.client()
        for name in self._applied:
            client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        self._server.stop()

    def _watch(self) -> None:
        """Put each rotation of secrets.json into moto (a new current version)."""
        client = self.client()
        while not self._stopping.wait(_POLL_SECONDS):
            for name, applied in list(self._applied.items()):
                secret = self.secrets.get(name)
                if secret is None or _current_id(secret) == applied:
                    continue
                previous = secret.find(stage=PREVIOUS)
                # Two rotations since the last look: the middle one first, so the labels
                # end as the file has them.
                missed = [previous] if previous and previous.version_id != applied else []
                for version in (*missed, secret.find(stage=CURRENT)):
                    assert version is not None  # _current_id found the current one
                    # AWSCURRENT moves to the new version; moto, as Secrets Manager, labels
                    # the one it leaves AWSPREVIOUS and takes that label from the one before.
                    client.put_secret_value(
                        SecretId=name,
                        ClientRequestToken=version.version_id,
                        SecretString=version.value,
                        VersionStages=[CURRENT],
                    )
                    self._applied[name] = version.version_id
                _keep_created_dates(name, secret)


def _current_id(secret: LocalSecret) -> str:
    current = secret.find(stage=CURRENT)
    if current is None:
        raise ValueError("a kept secret has no AWSCURRENT version")
    return current.version_id


def _keep_created_dates(name: str, secret: LocalSecret) -> None:
    """Each version's CreatedDate as kept in the data dir, not the moment moto was handed it:
    the rotation function refuses a rotation too soon after the last one by that date."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.secretsmanager.models import secretsmanager_backends

    served = secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION].secrets[name]
    for version in secret.versions:
        if version.version_id in served.versions:
            served.versions[version.version_id]["createdate"] = int(version.created)


def _create(client: Any, name: str, secret: LocalSecret) -> None:
    """The secret in moto with its kept versions: the previous one first, then the current."""
    labelled = [secret.find(stage=PREVIOUS), secret.find(stage=CURRENT)]
    versions = [version for version in labelled if version is not None]
    first, *rest = versions
    client.create_secret(Name=name, SecretString=first.value, ClientRequestToken=first.version_id)
    for version in rest:
        client.put_secret_value(
            SecretId=name,
            ClientRequestToken=version.version_id,
            SecretString=version.value,
            VersionStages=[CURRENT],
        )
