"""Typed configuration, read once from the environment the template sets.

Names of things (tables, the secret, the token issuer and audience) have no default: a
function deployed without one fails at its first use with an error naming the variable,
rather than talking to a table that happens to share a default name. Tunables default to
the template's own defaults.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import cache
from typing import NamedTuple


class PasswordPolicy(StrEnum):
    NIST = "nist"  # length and common-password checks only (NIST SP 800-63B)
    STRICT = "strict"  # additionally: upper, lower, digit and special character


class MissingSettingError(ValueError):
    """A variable the function needs is not set in its environment."""


class Settings(NamedTuple):
    users_table: str
    items_table: str
    jwt_secret_id: str
    account_keys_secret_id: str  # the password pepper and the TOTP encryption key
    jwt_issuer: str
    jwt_audience: str
    bcrypt_cost: int
    max_value_bytes: int
    password_policy: PasswordPolicy
    signing_key_cache_seconds: int
    allowed_origin: str
    refresh_token_lifetime: int  # seconds a refresh token stays valid from its issue
    session_max_lifetime: int  # seconds from a login to its session's end, however refreshed
    # Seconds from a purge to its second pass: the authorizer's cache and a margin over
    # the longest request (template.yaml AuthorizerCacheTtl + ErasureRecheckMargin).
    erasure_recheck_seconds: int
    # RequireVerifiedEmail: a login of an unverified account is EMAIL_NOT_VERIFIED.
    require_verified_email: bool = False

    @classmethod
    def from_environment(cls) -> Settings:
        env = os.environ
        return cls(
            users_table=_required(env, "USERS_TABLE"),
            items_table=_required(env, "ITEMS_TABLE"),
            jwt_secret_id=_required(env, "JWT_SECRET_ID"),
            account_keys_secret_id=_required(env, "ACCOUNT_KEYS_SECRET_ID"),
            jwt_issuer=_required(env, "JWT_ISSUER"),
            jwt_audience=_required(env, "JWT_AUDIENCE"),
            bcrypt_cost=_int_in_range(env, "BCRYPT_COST", 12, 4, 31),
            max_value_bytes=_int_in_range(env, "MAX_VALUE_BYTES", 65536, 1, 350_000),
            password_policy=PasswordPolicy(env.get("PASSWORD_POLICY", PasswordPolicy.NIST)),
            signing_key_cache_seconds=_int_in_range(env, "SIGNING_KEY_CACHE_SECONDS", 300, 0, 3600),
            allowed_origin=env.get("ALLOWED_ORIGIN", "*"),  # the contract's default
            refresh_token_lifetime=_int_in_range(
                env, "REFRESH_TOKEN_LIFETIME", 2_592_000, 60, 31_536_000
            ),
            session_max_lifetime=_int_in_range(
                env, "SESSION_MAX_LIFETIME", 7_776_000, 10, 31_536_000
            ),
            erasure_recheck_seconds=_int_in_range(env, "AUTHORIZER_CACHE_TTL", 60, 0, 3600)
            + _int_in_range(env, "ERASURE_RECHECK_MARGIN", 60, 0, 3600),
            require_verified_email=env.get("REQUIRE_VERIFIED_EMAIL", "false") == "true",
        )


def _required(env: os._Environ[str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise MissingSettingError(
            f"{name} is not set: template.yaml gives it to every function "
            "(the tests take it from tests/support.py)."
        )
    return value


def _int_in_range(env: os._Environ[str], name: str, default: int, low: int, high: int) -> int:
    value = int(env.get(name, default))
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


@cache
def get_settings() -> Settings:
    """The settings of this container; read on first use, not at import."""
    return Settings.from_environment()
