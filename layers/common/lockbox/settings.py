"""Typed configuration, read once from the environment the template sets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from functools import cache


class PasswordPolicy(StrEnum):
    NIST = "nist"  # length and common-password checks only (NIST SP 800-63B)
    STRICT = "strict"  # additionally: upper, lower, digit and special character


@dataclass(frozen=True, slots=True)
class Settings:
    users_table: str
    items_table: str
    jwt_secret_id: str
    jwt_issuer: str
    jwt_audience: str
    bcrypt_cost: int
    max_value_bytes: int
    password_policy: PasswordPolicy
    secrets_extension_port: int

    @classmethod
    def from_environment(cls) -> Settings:
        env = os.environ
        return cls(
            users_table=env.get("USERS_TABLE", "UsersTable"),
            items_table=env.get("ITEMS_TABLE", "ItemsTable"),
            jwt_secret_id=env.get("JWT_SECRET_ID", "lockbox/jwt-signing-key"),
            jwt_issuer=env.get("JWT_ISSUER", "lockbox-api"),
            jwt_audience=env.get("JWT_AUDIENCE", "lockbox-api-clients"),
            bcrypt_cost=_int_in_range(env, "BCRYPT_COST", 12, 4, 31),
            max_value_bytes=_int_in_range(env, "MAX_VALUE_BYTES", 65536, 1, 350_000),
            password_policy=PasswordPolicy(env.get("PASSWORD_POLICY", PasswordPolicy.NIST)),
            secrets_extension_port=_int_in_range(
                env, "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", 2773, 1, 65535
            ),
        )


def _int_in_range(env: os._Environ[str], name: str, default: int, low: int, high: int) -> int:
    value = int(env.get(name, default))
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


@cache
def get_settings() -> Settings:
    """The settings of this container; read on first use, not at import."""
    return Settings.from_environment()
