"""Access tokens: HS256 JWTs, pinned algorithm, every claim required, every rejection."""

from __future__ import annotations

import base64
import hmac
import time
import uuid
from typing import Any

import jwt
import pytest

from lockbox.signing.lifetimes import TOKEN_LIFETIME_SECONDS
from lockbox.signing.tokens import (
    REQUIRED_CLAIMS,
    InvalidTokenError,
    issue_access_token,
    verify_access_token,
)
from tests.support import JWT_KEY_ID

ISSUER = "lockbox-api/test"  # JWT_ISSUER of the test environment (tests/conftest.py)
AUDIENCE = "lockbox-api-clients"
USER_ID = "5a3c7e0e-9f1b-4d2a-8c6e-2b7d9f1a0c34"
SESSION_ID = "session-1"
KID = {"kid": JWT_KEY_ID}  # the header naming the test signing key


def claims(**changes: Any) -> dict[str, Any]:
    """A complete, currently valid claim set; a value of ... removes that claim."""
    now = int(time.time())
    base = {
        "sub": USER_ID,
        "iat": now,
        "exp": now + 3600,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": uuid.uuid4().hex,
        "sid": SESSION_ID,
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not ...}


def test_issued_token_verifies_to_its_user() -> None:
    """Given a token issued for a user, verifying it gives that user id."""
    assert verify_access_token(issue_access_token(USER_ID, SESSION_ID)) == USER_ID


def test_issued_token_carries_every_claim(jwt_signing_key: str) -> None:
    """Given a new token, it is HS256 with sub, iat, exp (iat + 3600), iss, aud and jti."""
    token = issue_access_token(USER_ID, SESSION_ID)

    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, jwt_signing_key, algorithms=["HS256"], audience=AUDIENCE)

    assert header["alg"] == "HS256"
    assert set(payload) == set(REQUIRED_CLAIMS)
    assert payload["sub"] == USER_ID
    assert payload["iss"] == ISSUER
    assert payload["aud"] == AUDIENCE
    assert payload["exp"] - payload["iat"] == TOKEN_LIFETIME_SECONDS == 3600
    assert abs(payload["iat"] - time.time()) < 60


def test_issued_token_is_what_pyjwt_writes_for_its_claims(jwt_signing_key: str) -> None:
    """Given a new token, it is byte for byte the token PyJWT encodes from the same claims,
    key and kid: the same header, the same compact JSON, the same HS256 signature."""
    token = issue_access_token(USER_ID, SESSION_ID)
    payload = jwt.decode(token, jwt_signing_key, algorithms=["HS256"], audience=AUDIENCE)

    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": JWT_KEY_ID, "typ": "JWT"}
    assert token == jwt.encode(payload, jwt_signing_key, algorithm="HS256", headers=KID)


def test_each_token_has_a_unique_jti(jwt_signing_key: str) -> None:
    """Given two tokens for one user, their jti differ."""
    first, second = issue_access_token(USER_ID, SESSION_ID), issue_access_token(USER_ID, SESSION_ID)

    def jti(token: str) -> str:
        return str(
            jwt.decode(token, jwt_signing_key, algorithms=["HS256"], audience=AUDIENCE)["jti"]
        )

    assert jti(first) != jti(second)


def test_token_minted_outside_the_layer_with_the_key_verifies(jwt_signing_key: str) -> None:
    """Given a complete HS256 token signed with the key, it verifies."""
    token = jwt.encode(claims(), jwt_signing_key, algorithm="HS256", headers=KID)

    assert verify_access_token(token) == USER_ID


def test_token_still_valid_just_before_expiry() -> None:
    """Given a token issued 3500 s ago, it still verifies."""
    token = issue_access_token(USER_ID, SESSION_ID, issued_at=int(time.time()) - 3500)

    assert verify_access_token(token) == USER_ID


def test_token_issued_an_hour_ago_has_expired() -> None:
    """Given a token issued 3601 s ago, it is refused."""
    token = issue_access_token(USER_ID, SESSION_ID, issued_at=int(time.time()) - 3601)

    with pytest.raises(InvalidTokenError):
        verify_access_token(token)


def refused(token: str) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as caught:
        verify_access_token(token)
    return caught.value


def test_bad_signature_is_refused() -> None:
    """Given a token signed with another key, InvalidSignatureError."""
    token = jwt.encode(
        claims(), "another-key-of-sufficient-length-0123456789", algorithm="HS256", headers=KID
    )

    assert str(refused(token)) == "InvalidSignatureError"


def test_tampered_payload_is_refused(jwt_signing_key: str) -> None:
    """Given a signed token whose payload is swapped for another user's, then refused."""
    header, _, signature = jwt.encode(
        claims(), jwt_signing_key, algorithm="HS256", headers=KID
    ).split(".")
    _, other_payload, _ = jwt.encode(
        claims(sub="someone-else"), "x" * 32, algorithm="HS256", headers=KID
    ).split(".")

    refused(f"{header}.{other_payload}.{signature}")


def test_alg_none_is_refused() -> None:
    """Given an unsigned token (alg none), it is refused."""
    token = jwt.encode(claims(), None, algorithm="none")

    refused(token)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_algorithms_are_refused_even_with_the_right_key(
    jwt_signing_key: str, algorithm: str
) -> None:
    """Given the right key but another HMAC algorithm, then refused: the algorithm is pinned."""
    token = jwt.encode(claims(), jwt_signing_key, algorithm=algorithm, headers=KID)

    refused(token)


def test_expired_token_is_refused(jwt_signing_key: str) -> None:
    """Given exp in the past, ExpiredSignatureError."""
    now = int(time.time())
    token = jwt.encode(
        claims(iat=now - 7200, exp=now - 3600), jwt_signing_key, algorithm="HS256", headers=KID
    )

    assert str(refused(token)) == "ExpiredSignatureError"


def test_wrong_issuer_is_refused(jwt_signing_key: str) -> None:
    """Given another iss, InvalidIssuerError."""
    token = jwt.encode(
        claims(iss="lockbox-api/prod"), jwt_signing_key, algorithm="HS256", headers=KID
    )

    assert str(refused(token)) == "InvalidIssuerError"


def test_wrong_audience_is_refused(jwt_signing_key: str) -> None:
    """Given another aud, InvalidAudienceError."""
    token = jwt.encode(claims(aud="someone-else"), jwt_signing_key, algorithm="HS256", headers=KID)

    assert str(refused(token)) == "InvalidAudienceError"


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_each_required_claim_is_required(jwt_signing_key: str, claim: str) -> None:
    """Given a correctly signed token lacking one claim, then refused."""
    token = jwt.encode(claims(**{claim: ...}), jwt_signing_key, algorithm="HS256", headers=KID)

    refused(token)


def test_required_claims_are_the_contract_ones() -> None:
    """The required claims are the contract's six and the session id (SPEC "Sessions")."""
    assert set(REQUIRED_CLAIMS) == {"sub", "iat", "exp", "iss", "aud", "jti", "sid"}


@pytest.mark.parametrize("subject", [pytest.param("", id="empty"), pytest.param(123, id="number")])
def test_subject_must_be_a_non_empty_string(jwt_signing_key: str, subject: object) -> None:
    """Given sub empty or not a string, the token is refused."""
    token = jwt.encode(claims(sub=subject), jwt_signing_key, algorithm="HS256", headers=KID)

    refused(token)


def test_token_not_yet_valid_is_refused(jwt_signing_key: str) -> None:
    """Given nbf in the future, the token is refused."""
    token = jwt.encode(
        claims(nbf=int(time.time()) + 600), jwt_signing_key, algorithm="HS256", headers=KID
    )

    refused(token)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param("a.b.c", id="three-garbage-segments"),
        pytest.param("eyJhbGciOiJIUzI1NiJ9..", id="header-only"),
    ],
)
def test_garbage_is_refused(token: str) -> None:
    """Given text that is not a JWT, it is refused."""
    refused(token)


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_a_numeric_date_written_as_a_string_is_refused(jwt_signing_key: str, claim: str) -> None:
    """Given exp or iat as a numeric string (valid otherwise), the token is refused."""
    values = claims()
    token = jwt.encode({**values, claim: str(values[claim])}, jwt_signing_key, algorithm="HS256")

    with pytest.raises(InvalidTokenError):
        verify_access_token(token)


@pytest.mark.parametrize("padding", ["=", "==", "==="])
def test_a_signature_with_base64_padding_is_refused(padding: str) -> None:
    """Given a valid token whose signature carries padding, it is refused."""
    token = issue_access_token(USER_ID, SESSION_ID)

    with pytest.raises(InvalidTokenError):
        verify_access_token(token + padding)


def test_another_spelling_of_the_same_signature_bytes_is_refused() -> None:
    """Given a signature whose last character differs only in its unused bits (decoding
    to the same bytes), the token is refused: only the issued spelling is accepted."""
    token = issue_access_token(USER_ID, SESSION_ID)
    head, _, signature = token.rpartition(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    # HS256 signatures are 32 bytes: 43 characters, the last one carrying 2 unused bits.
    respelled = head + "." + signature[:-1] + alphabet[last ^ 1]
    assert respelled != token

    with pytest.raises(InvalidTokenError):
        verify_access_token(respelled)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"crit": ["exp"]}, id="critical-extension"),
        pytest.param({"jku": "https://attacker.example/keys"}, id="key-by-url"),
        pytest.param({"typ": "at+jwt"}, id="another-type"),
    ],
)
def test_a_header_member_this_service_never_writes_is_refused(
    jwt_signing_key: str, header: dict[str, Any]
) -> None:
    """Given a correctly signed token whose header carries a member the service does not
    write, InvalidHeaderError: nothing in a header can change how a token is read."""
    token = jwt.encode(claims(), jwt_signing_key, algorithm="HS256", headers={**KID, **header})

    assert str(refused(token)) == "InvalidHeaderError"


def test_an_unencoded_payload_is_refused(jwt_signing_key: str) -> None:
    """Given a token PyJWT signs with an unencoded payload (RFC 7797, "b64": false), it is
    refused: the service reads only the encoding it writes."""
    token = jwt.encode(claims(), jwt_signing_key, algorithm="HS256", headers={**KID, "b64": False})

    refused(token)


@pytest.mark.parametrize("value", ["Infinity", "NaN", "true", "1e400"])
def test_an_expiry_that_is_no_finite_number_is_refused(jwt_signing_key: str, value: str) -> None:
    """Given exp written as a JSON literal that is no finite NumericDate, the token is
    refused (not an error of the service)."""
    token = jwt.encode(claims(exp=1), jwt_signing_key, algorithm="HS256", headers=KID)
    header, payload, _ = token.split(".")
    text = base64.urlsafe_b64decode(payload + "==").decode().replace('"exp":1,', f'"exp":{value},')
    token = sign(header, text.encode(), jwt_signing_key)

    assert str(refused(token)) == "InvalidNumericDateError"


def test_an_audience_list_naming_this_service_is_accepted(jwt_signing_key: str) -> None:
    """Given aud as a list that names the service's audience (RFC 7519, 4.1.3), it verifies."""
    token = jwt.encode(
        claims(aud=["another-api", AUDIENCE]), jwt_signing_key, algorithm="HS256", headers=KID
    )

    assert verify_access_token(token) == USER_ID


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="valid"),
        pytest.param({"exp": int(time.time()) - 1}, id="expired"),
        pytest.param({"iat": int(time.time()) + 600}, id="issued-in-the-future"),
        pytest.param({"nbf": int(time.time()) + 600}, id="not-yet-valid"),
        pytest.param({"nbf": int(time.time()) - 600}, id="valid-since"),
        pytest.param({"iss": "lockbox-api/other"}, id="other-issuer"),
        pytest.param({"aud": [AUDIENCE, 7]}, id="audience-list-with-a-number"),
        pytest.param({"jti": 12}, id="numeric-jti"),
        pytest.param({"exp": "soon"}, id="text-expiry"),
        pytest.param({"exp": None}, id="null-expiry"),
    ],
)
def test_the_check_agrees_with_pyjwt(jwt_signing_key: str, changes: dict[str, Any]) -> None:
    """Given a token PyJWT signs, the service accepts it exactly when PyJWT's own decoder
    (HS256, the audience and issuer required, every contract claim required) does."""
    token = jwt.encode(claims(**changes), jwt_signing_key, algorithm="HS256", headers=KID)
    try:
        jwt.decode(
            token,
            jwt_signing_key,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": list(REQUIRED_CLAIMS)},
        )
        pyjwt_accepts = True
    except jwt.PyJWTError:
        pyjwt_accepts = False

    try:
        verify_access_token(token)
        accepted = True
    except InvalidTokenError:
        accepted = False

    assert accepted == pyjwt_accepts


def sign(header_segment: str, payload: bytes, key: str) -> str:
    """A compact JWS of exactly these payload bytes, HS256-signed with the key."""
    payload_segment = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    signing_input = f"{header_segment}.{payload_segment}".encode()
    signature = hmac.digest(key.encode(), signing_input, "sha256")
    return (
        f"{header_segment}.{payload_segment}."
        + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    )
