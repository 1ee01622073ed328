"""Powertools' Secrets Manager provider, answering whole secret versions.

Kept apart from signing_keys so that importing a handler does not import Powertools'
Parameters utility (and boto3 with it): signing_keys imports this on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class VersionProvider(SecretsProvider):
    """Powertools' Secrets Manager provider answering the whole version (its VersionId is
    the kid), not only its value. A version that does not exist (no AWSPREVIOUS before the
    first rotation) is an empty answer, cached like any other (Powertools caches no None)."""

    def __init__(self, client: SecretsManagerClient) -> None:
        super().__init__(boto3_client=client)
        self.requests = 0

    def _get(self, name: str, **sdk_options: Any) -> dict[str, Any]:  # type: ignore[override]
        self.requests += 1
        try:
            version = self.client.get_secret_value(SecretId=name, **sdk_options)
        except self.client.exceptions.ResourceNotFoundException:
            return {}
        return {
            "VersionId": version.get("VersionId"),
            "SecretString": version.get("SecretString"),
            "VersionStages": list(version.get("VersionStages") or ()),
        }
