"""The listing's cursors, If-Match parsing and the ttl rule, as pure layer code."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lockbox.core.errors import ErrorCode
from lockbox.core.validation import ABSENT, RuleViolation
from lockbox.items.cursors import make_cursor, read_cursor
from lockbox.items.item_inputs import check_ttl, if_match
from lockbox.signing import signing_keys
from lockbox.signing.signing_keys import SigningKey

ALICE = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"
BOB = "b0b0b0b0-1111-4222-8333-444455556666"


# --- cursors ------------------------------------------------------------------------------


@pytest.mark.parametrize("last_key", ["a", "note 7", "café 🔑", "x" * 256, 'q"uote\\'])
def test_cursor_carries_the_last_key_back(last_key: str) -> None:
    cursor = make_cursor(ALICE, "", last_key)

    assert read_cursor(cursor, ALICE, "") == last_key
    assert "=" not in cursor
    assert len(cursor) < 1000


def test_cursor_is_bound_to_user_and_prefix() -> None:
    cursor = make_cursor(ALICE, "no", "notes")

    assert read_cursor(cursor, ALICE, "no") == "notes"
    assert read_cursor(cursor, BOB, "no") is None
    assert read_cursor(cursor, ALICE, "") is None
    assert read_cursor(cursor, ALICE, "not") is None


def test_every_changed_character_is_refused() -> None:
    cursor = make_cursor(ALICE, "", "notes")
    alphabet = "AQgw_-"
    for index, char in enumerate(cursor):
        replacement = next(c for c in alphabet if c != char)
        changed = cursor[:index] + replacement + cursor[index + 1 :]
        assert read_cursor(changed, ALICE, "") is None, index


def test_truncated_and_malformed_cursors_are_refused() -> None:
    cursor = make_cursor(ALICE, "", "notes")
    payload, signature = cursor.split(".")
    for bad in [
        cursor[:-1],
        cursor[:10],
        payload,
        payload + ".",
        "." + signature,
        cursor + ".x",
        "",
        "é.é",
        "a" * 5000,
    ]:
        assert read_cursor(bad, ALICE, "") is None, bad


def test_a_forged_payload_is_refused_before_it_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A payload naming another key, with the genuine signature of another payload, never
    reaches the JSON parser."""
    cursor = make_cursor(ALICE, "", "a")
    _, signature = cursor.split(".")
    forged = make_cursor(ALICE, "", "z").split(".")[0]
    parsed: list[Any] = []
    monkeypatch.setattr("lockbox.items.cursors.json.loads", lambda *a, **k: parsed.append(a) or {})

    assert read_cursor(f"{forged}.{signature}", ALICE, "") is None
    assert parsed == []


def test_a_signed_payload_outside_the_prefix_is_refused() -> None:
    """Defence in depth: even a validly signed cursor must name a key under its prefix."""
    cursor = make_cursor(ALICE, "a", "b")

    assert read_cursor(cursor, ALICE, "a") is None


def test_cursors_stop_working_when_their_signing_key_no_longer_verifies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cursor verifies with the current or previous key (SPEC: it survives one rotation);
    once its key is neither, it is refused."""
    cursor = make_cursor(ALICE, "", "notes")
    monkeypatch.setattr(signing_keys, "verification_key", lambda kid: None)
    monkeypatch.setattr(
        signing_keys, "verification_keys", lambda: [SigningKey("v2", "a-rotated-key")]
    )

    assert read_cursor(cursor, ALICE, "") is None


def test_cursor_key_is_not_the_signing_key_itself(jwt_signing_key: str) -> None:
    """The cursor's HMAC key is derived for this purpose: a cursor signed with the JWT key
    directly is refused."""
    import base64
    import hashlib
    import hmac

    payload = base64.urlsafe_b64encode(json.dumps({"k": "x"}).encode()).rstrip(b"=").decode()
    message = json.dumps([ALICE, "", payload]).encode()
    direct = hmac.new(jwt_signing_key.encode(), message, hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(direct).rstrip(b"=").decode()

    assert read_cursor(f"{payload}.{signature}", ALICE, "") is None


# --- If-Match -------------------------------------------------------------------------------


def event_with(headers: dict[str, str] | None) -> dict[str, Any]:
    return {"headers": headers}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (None, None),
        ({}, None),
        ({"If-Match": "*"}, "*"),
        ({"if-match": " * "}, "*"),
        ({"IF-MATCH": '"abc"'}, ("abc",)),
        ({"If-Match": '"a", "b" ,"c"'}, ("a", "b", "c")),
        ({"If-Match": 'W/"weak", "strong"'}, ("strong",)),
        ({"If-Match": 'W/"weak"'}, ()),
        ({"If-Match": "unquoted"}, ()),
        ({"If-Match": ""}, ()),
        ({"If-Match": '"has space"'}, ()),
    ],
)
def test_if_match_is_read_as_rfc_9110_says(
    headers: dict[str, str] | None, expected: object
) -> None:
    assert if_match(event_with(headers)) == expected


def test_if_match_keeps_at_most_100_tags() -> None:
    header = ", ".join(f'"t{i}"' for i in range(150))

    parsed = if_match(event_with({"If-Match": header}))

    assert isinstance(parsed, tuple)
    assert len(parsed) == 100


# --- ttl --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ttl", [1, 2, 3600, 31_536_000])
def test_whole_seconds_in_range_are_a_ttl(ttl: int) -> None:
    assert check_ttl(ttl) == ttl


def test_no_ttl_is_none() -> None:
    assert check_ttl(ABSENT) is None


@pytest.mark.parametrize(
    "ttl", [True, False, 0, -1, 31_536_001, 2.0, 1.5, "60", None, [1], {"s": 1}, 10**30]
)
def test_anything_else_is_invalid_ttl(ttl: object) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_ttl(ttl)

    assert refused.value.code is ErrorCode.INVALID_TTL
