"""Settings: typed, read lazily from the environment the template sets, validated."""

from __future__ import annotations

import pytest

from lockbox.core.settings import MissingSettingError, PasswordPolicy, Settings, get_settings

CONFIGURED = (
    "USERS_TABLE",
    "ITEMS_TABLE",
    "JWT_SECRET_ID",
    "ACCOUNT_KEYS_SECRET_ID",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "BCRYPT_COST",
    "MAX_VALUE_BYTES",
    "PASSWORD_POLICY",
    "SIGNING_KEY_CACHE_SECONDS",
    "ALLOWED_ORIGIN",
)
NAMES = (
    "USERS_TABLE",
    "ITEMS_TABLE",
    "JWT_SECRET_ID",
    "ACCOUNT_KEYS_SECRET_ID",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
)


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CONFIGURED:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("bare_environment")
def test_tunables_default_to_the_templates_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given only the names set, when reading settings, then the documented defaults."""
    for name in NAMES:
        monkeypatch.setenv(name, f"{name.lower()}-value")

    settings = Settings.from_environment()

    assert settings == Settings(
        users_table="users_table-value",
        items_table="items_table-value",
        jwt_secret_id="jwt_secret_id-value",
        account_keys_secret_id="account_keys_secret_id-value",
        jwt_issuer="jwt_issuer-value",
        jwt_audience="jwt_audience-value",
        bcrypt_cost=12,
        max_value_bytes=65536,
        password_policy=PasswordPolicy.NIST,
        signing_key_cache_seconds=300,
        allowed_origin="*",
        refresh_token_lifetime=2592000,
        session_max_lifetime=7776000,
        erasure_recheck_seconds=120,  # AuthorizerCacheTtl 60 + ErasureRecheckMargin 60
    )


@pytest.mark.parametrize("missing", NAMES)
@pytest.mark.parametrize("value", [None, "", "  "])
def test_a_missing_name_is_a_clear_error_at_first_use(
    monkeypatch: pytest.MonkeyPatch, missing: str, value: str | None
) -> None:
    """Given a table, secret, issuer or audience unset or blank, reading settings fails and
    the error names the variable (no silent default)."""
    if value is None:
        monkeypatch.delenv(missing)
    else:
        monkeypatch.setenv(missing, value)

    with pytest.raises(MissingSettingError, match=rf"^{missing} is not set"):
        Settings.from_environment()


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given every variable set, when reading settings, then each is parsed to its type."""
    monkeypatch.setenv("USERS_TABLE", "users-prod")
    monkeypatch.setenv("REFRESH_TOKEN_LIFETIME", "86400")
    monkeypatch.setenv("SESSION_MAX_LIFETIME", "20")
    monkeypatch.setenv("ITEMS_TABLE", "items-prod")
    monkeypatch.setenv("JWT_SECRET_ID", "arn:aws:secretsmanager:us-east-1:1:secret:k")
    monkeypatch.setenv("ACCOUNT_KEYS_SECRET_ID", "arn:aws:secretsmanager:us-east-1:1:secret:a")
    monkeypatch.setenv("JWT_ISSUER", "lockbox-api/prod")
    monkeypatch.setenv("JWT_AUDIENCE", "clients")
    monkeypatch.setenv("BCRYPT_COST", "10")
    monkeypatch.setenv("MAX_VALUE_BYTES", "1024")
    monkeypatch.setenv("PASSWORD_POLICY", "strict")
    monkeypatch.setenv("SIGNING_KEY_CACHE_SECONDS", "0")
    monkeypatch.setenv("ALLOWED_ORIGIN", "https://app.example.com")
    monkeypatch.setenv("AUTHORIZER_CACHE_TTL", "5")
    monkeypatch.setenv("ERASURE_RECHECK_MARGIN", "2")

    settings = Settings.from_environment()

    assert settings == Settings(
        users_table="users-prod",
        items_table="items-prod",
        jwt_secret_id="arn:aws:secretsmanager:us-east-1:1:secret:k",
        account_keys_secret_id="arn:aws:secretsmanager:us-east-1:1:secret:a",
        jwt_issuer="lockbox-api/prod",
        jwt_audience="clients",
        bcrypt_cost=10,
        max_value_bytes=1024,
        password_policy=PasswordPolicy.STRICT,
        signing_key_cache_seconds=0,
        allowed_origin="https://app.example.com",
        refresh_token_lifetime=86400,
        session_max_lifetime=20,
        erasure_recheck_seconds=7,
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("BCRYPT_COST", "4", 4),
        ("BCRYPT_COST", "31", 31),
        ("MAX_VALUE_BYTES", "1", 1),
        ("MAX_VALUE_BYTES", "350000", 350_000),
        ("SIGNING_KEY_CACHE_SECONDS", "0", 0),
        ("SIGNING_KEY_CACHE_SECONDS", "3600", 3600),
    ],
)
def test_range_limits_are_inclusive(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: int
) -> None:
    """Given a number at the edge of its range, when reading settings, then it is accepted."""
    monkeypatch.setenv(name, value)

    settings = Settings.from_environment()

    attribute = {
        "BCRYPT_COST": "bcrypt_cost",
        "MAX_VALUE_BYTES": "max_value_bytes",
        "SIGNING_KEY_CACHE_SECONDS": "signing_key_cache_seconds",
    }[name]
    assert getattr(settings, attribute) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BCRYPT_COST", "3"),
        ("BCRYPT_COST", "32"),
        ("BCRYPT_COST", "twelve"),
        ("BCRYPT_COST", "12.5"),
        ("BCRYPT_COST", ""),
        ("MAX_VALUE_BYTES", "0"),
        ("MAX_VALUE_BYTES", "-1"),
        ("MAX_VALUE_BYTES", "350001"),
        ("MAX_VALUE_BYTES", "64KiB"),
        ("PASSWORD_POLICY", "lenient"),
        ("PASSWORD_POLICY", ""),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    """Given a malformed or out-of-range variable, when reading settings, then ValueError."""
    monkeypatch.setenv(name, value)

    with pytest.raises(ValueError):  # noqa: PT011 (int(), range and enum errors all qualify)
        Settings.from_environment()


def test_out_of_range_error_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given BCRYPT_COST=99, when reading settings, then the error says which variable and why."""
    monkeypatch.setenv("BCRYPT_COST", "99")

    with pytest.raises(ValueError, match=r"BCRYPT_COST must be between 4 and 31, got 99"):
        Settings.from_environment()


def test_settings_are_read_once_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given settings already read, when the environment changes, then the cached ones stay."""
    first = get_settings()
    monkeypatch.setenv("BCRYPT_COST", "11")

    assert get_settings() is first
    assert get_settings().bcrypt_cost == 4


def test_cache_clear_rereads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a changed environment, when the cache is cleared, then the new value is read."""
    get_settings()
    monkeypatch.setenv("BCRYPT_COST", "11")
    get_settings.cache_clear()

    assert get_settings().bcrypt_cost == 11


def test_settings_are_immutable() -> None:
    """Given the settings object, when assigning to a field, then it is refused."""
    settings = get_settings()

    with pytest.raises(AttributeError):
        settings.bcrypt_cost = 5  # type: ignore[misc]
