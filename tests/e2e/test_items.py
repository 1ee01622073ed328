"""/api/data over HTTP: store, read, update and delete; values of every JSON type; the
value size limit; keys through the URL path; key and value rules and their order."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.e2e.helpers import (
    DELETED,
    NOT_JSON_OBJECT_BODIES,
    STORED,
    UPDATED,
    User,
    assert_error,
    assert_success,
    auth_headers,
    canonical,
    data_url,
    delete,
    delete_quietly,
    detail_fields,
    fetch,
    new_user,
    post_raw,
    store,
    unique_key,
    unique_suffix,
    update,
)

pytestmark = pytest.mark.e2e

MAX_VALUE_BYTES = 65536  # SPEC.md: the value's JSON encoding, at most 64 KiB by default


@pytest.fixture
def key(cleanup: list[str]) -> str:
    """A fresh key name, cleaned up after the test."""
    name = unique_key()
    cleanup.append(name)
    return name


@pytest.fixture
def stored(http: requests.Session, api_url: str, user: User, key: str) -> str:
    """A key already stored with the value "first" (cleaned up after the test)."""
    assert_success(store(http, api_url, user.token, key, "first"), STORED)
    return key


# --- happy path ----------------------------------------------------------------------


def test_store_answers_the_exact_message(
    http: requests.Session, api_url: str, user: User, key: str
) -> None:
    """Given a new key, when it is stored, then the answer is 200 with status success
    and "Data stored successfully."."""
    response = store(http, api_url, user.token, key, "hello")

    assert_success(response, STORED)


def test_get_answers_key_and_value_without_a_message(
    http: requests.Session, api_url: str, user: User, stored: str
) -> None:
    """Given a stored key, when it is read, then data is exactly {key, value} and the
    body has no message."""
    response = fetch(http, api_url, user.token, stored)

    body = assert_success(response)
    assert body["data"] == {"key": stored, "value": "first", "metadata": None}
    assert "message" not in body


def test_update_answers_the_exact_message_and_replaces_the_value(
    http: requests.Session, api_url: str, user: User, stored: str
) -> None:
    """Given a stored key, when its value is updated, then the answer is "Data updated
    successfully." and a read returns the new value."""
    response = update(http, api_url, user.token, stored, {"second": 2})
    after = fetch(http, api_url, user.token, stored)

    assert_success(response, UPDATED)
    assert assert_success(after)["data"] == {
        "key": stored,
        "value": {"second": 2},
        "metadata": None,
    }


def test_update_can_change_the_value_type(
    http: requests.Session, api_url: str, user: User, stored: str
) -> None:
    """Given a key storing a string, when it is updated to a list, then a read returns
    the list."""
    update(http, api_url, user.token, stored, [1, 2, 3])

    after = fetch(http, api_url, user.token, stored)

    assert assert_success(after)["data"]["value"] == [1, 2, 3]


def test_delete_answers_the_exact_message(
    http: requests.Session, api_url: str, user: User, stored: str
) -> None:
    """Given a stored key, when it is deleted, then the answer is "Data deleted
    successfully."."""
    response = delete(http, api_url, user.token, stored)

    assert_success(response, DELETED)


def test_delete_then_get_is_key_not_found(
    http: requests.Session, api_url: str, user: User, stored: str
) -> None:
    """Given a deleted key, when it is read, then the answer is 404 KEY_NOT_FOUND."""
    delete(http, api_url, user.token, stored)

    response = fetch(http, api_url, user.token, stored)

    assert_error(response, 404, "KEY_NOT_FOUND")


def test_delete_twice_is_key_not_found(
    http: requests.Session, api_url: str, user: User, stored: str
) -> None:
    """Given a deleted key, when it is deleted again, then the answer is 404
    KEY_NOT_FOUND."""
    delete(http, api_url, user.token, stored)

    response = delete(http, api_url, user.token, stored)

    assert_error(response, 404, "KEY_NOT_FOUND")


def test_deleted_key_can_be_stored_again(
    http: requests.Session, api_url: str, user: User, stored: str
) -> None:
    """Given a deleted key, when it is stored again, then it succeeds with the new
    value."""
    delete(http, api_url, user.token, stored)

    response = store(http, api_url, user.token, stored, "reborn")

    assert_success(response, STORED)
    assert fetch(http, api_url, user.token, stored).json()["data"]["value"] == "reborn"


# --- values of every JSON type round-trip exactly ---------------------------------------

ROUND_TRIP_VALUES: dict[str, Any] = {
    "string": "hello world",
    "script-tag": "<script>alert(1)</script>",
    "html-and-quotes": "<b onclick=\"x('y')\">&amp; &lt;</b>",
    "unicode": "Grüße, 世界, Ελληνικά, עברית",
    "emoji": "🔐🗝️👩‍💻🇪🇺",
    "whitespace-inside": "  line1\nline2\ttab\r\n  ",
    "escapes": 'back\\slash "quoted" /slash',
    "control-characters-in-a-value": "\u0000\u0001\u001f",
    "string-looking-like-json": '{"a": 1}',
    "string-null": "null",
    "string-zero": "0",
    "single-space": " ",
    "integer": 42,
    "negative-integer": -17,
    "zero": 0,
    "float": 3.14159,
    "negative-float": -0.5,
    "float-with-exponent": 6.02e23,
    "tiny-float": 1e-300,
    "big-integer": 123456789012345678901234567890,
    "true": True,
    "false": False,
    "empty-array": [],
    "empty-object": {},
    "array-of-mixed": [1, "two", 3.0, True, None, {"six": [7]}],
    "nested-object": {"z": {"y": {"x": [1, {"w": None}]}}, "a": "first key last"},
    "object-with-unicode-keys": {"ключ": "значение", "🔑": "🗝️", "": "empty key"},
    "array-nested-100-deep": json.loads("[" * 100 + "]" * 100),
}


@pytest.mark.parametrize("value", list(ROUND_TRIP_VALUES.values()), ids=list(ROUND_TRIP_VALUES))
def test_values_round_trip_exactly(
    http: requests.Session, api_url: str, user: User, key: str, value: Any
) -> None:
    """Given a value of some JSON type, when it is stored and read back, then the value
    is identical: same type, same text byte for byte, same key order."""
    stored = store(http, api_url, user.token, key, value)

    response = fetch(http, api_url, user.token, key)

    assert_success(stored, STORED)
    returned = assert_success(response)["data"]["value"]
    assert returned == value
    assert canonical(returned) == canonical(value)


def test_script_value_is_returned_as_json_not_html(
    http: requests.Session, api_url: str, user: User, key: str
) -> None:
    """Given a value holding a script tag, when it is read, then the response is JSON
    with the string intact, never served as HTML."""
    script = "<script>alert(1)</script>"
    store(http, api_url, user.token, key, script)

    response = fetch(http, api_url, user.token, key)

    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.content.decode("utf-8"))["data"]["value"] == script


def test_update_round_trips_a_value_exactly(
    http: requests.Session, api_url: str, user: User, stored: str
) -> None:
    """Given a stored key, when it is updated to a nested value with every JSON type,
    then a read returns it identically."""
    value = {"s": "<script>x</script>", "n": -1.5, "b": False, "l": [[], {}], "u": "ü🔑"}
    update(http, api_url, user.token, stored, value)

    response = fetch(http, api_url, user.token, stored)

    assert canonical(assert_success(response)["data"]["value"]) == canonical(value)


# Valid JSON that a naive server cannot represent: the body is a JSON object, so the answer
# is never INVALID_REQUEST; the value is stored exactly, or refused as INVALID_VALUE.
EXTREME_VALUES: dict[str, bytes] = {
    "integer-of-5000-digits": b"9" * 5000,
    "number-beyond-double-range": b"1e400",
    "array-nested-20000-deep": b"[" * 20000 + b"]" * 20000,
}


@pytest.mark.parametrize("raw_value", list(EXTREME_VALUES.values()), ids=list(EXTREME_VALUES))
def test_extreme_json_values_are_stored_exactly_or_invalid_value(
    http: requests.Session, api_url: str, user: User, key: str, raw_value: bytes
) -> None:
    """Given a valid JSON object body whose value (under 64 KiB) is a huge number or a
    very deep array, when stored, then it is either stored and read back exactly, or
    refused as INVALID_VALUE, never INVALID_REQUEST or a 5xx."""
    raw = b'{"key": ' + json.dumps(key).encode() + b', "value": ' + raw_value + b"}"

    response = post_raw(http, f"{api_url}/api/data", raw, auth_headers(user.token))

    if response.status_code == 200:
        read = fetch(http, api_url, user.token, key)
        text = read.content.decode("utf-8")
        assert text.replace(" ", "").endswith(
            f'"value":{raw_value.decode()},"metadata":null}}}}'
        ), text[:200]
    else:
        assert_error(response, 400, "INVALID_VALUE")


@pytest.mark.parametrize("field", ["key", "value"])
def test_lone_surrogates_are_refused(
    http: requests.Session, api_url: str, user: User, key: str, field: str
) -> None:
    """Given a key or value holding a lone UTF-16 surrogate escape (valid JSON text,
    but not encodable as UTF-8), when stored, then the answer is INVALID_KEY or
    INVALID_VALUE respectively."""
    body = {"key": key, "value": "ok"}
    body[field] = "__surrogate__"
    raw = json.dumps(body).replace("__surrogate__", "\\ud800").encode()

    response = post_raw(http, f"{api_url}/api/data", raw, auth_headers(user.token))

    assert_error(response, 400, "INVALID_KEY" if field == "key" else "INVALID_VALUE")


# --- invalid values ------------------------------------------------------------------

INVALID_VALUES: dict[str, Any] = {"null": None, "empty-string": "", "missing": ...}


@pytest.mark.parametrize("value", list(INVALID_VALUES.values()), ids=list(INVALID_VALUES))
def test_store_refuses_null_empty_or_missing_values(
    http: requests.Session, api_url: str, user: User, key: str, value: Any
) -> None:
    """Given a value that is null, the empty string or absent, when stored, then the
    answer is INVALID_VALUE and nothing is stored."""
    body = {"key": key} if value is ... else {"key": key, "value": value}

    response = http.post(f"{api_url}/api/data", json=body, headers=auth_headers(user.token))

    error = assert_error(response, 400, "INVALID_VALUE")
    assert "value" in detail_fields(error)
    assert_error(fetch(http, api_url, user.token, key), 404, "KEY_NOT_FOUND")


@pytest.mark.parametrize("value", list(INVALID_VALUES.values()), ids=list(INVALID_VALUES))
def test_update_refuses_null_empty_or_missing_values(
    http: requests.Session, api_url: str, user: User, stored: str, value: Any
) -> None:
    """Given a stored key, when it is updated with null, the empty string or no value,
    then the answer is INVALID_VALUE and the value is unchanged."""
    body = {} if value is ... else {"value": value}

    response = http.put(data_url(api_url, stored), json=body, headers=auth_headers(user.token))

    assert_error(response, 400, "INVALID_VALUE")
    assert fetch(http, api_url, user.token, stored).json()["data"]["value"] == "first"


@pytest.mark.parametrize("value", list(INVALID_VALUES.values()), ids=list(INVALID_VALUES))
def test_update_checks_the_value_before_the_key_exists(
    http: requests.Session, api_url: str, user: User, key: str, value: Any
) -> None:
    """Given a key that does not exist, when it is updated with an invalid value, then
    the answer is INVALID_VALUE, not KEY_NOT_FOUND."""
    body = {} if value is ... else {"value": value}

    response = http.put(data_url(api_url, key), json=body, headers=auth_headers(user.token))

    assert_error(response, 400, "INVALID_VALUE")


# --- value size limit ------------------------------------------------------------------


def string_of_json_size(size: int, char: str = "a") -> str:
    """A string whose compact JSON encoding (quotes included) is `size` UTF-8 bytes."""
    width = len(char.encode("utf-8"))
    assert (size - 2) % width == 0
    return char * ((size - 2) // width)


def test_value_of_exactly_64_kib_is_accepted(
    http: requests.Session, api_url: str, user: User, key: str
) -> None:
    """Given a string whose JSON encoding is exactly 65536 bytes, when stored, then it
    succeeds and reads back whole."""
    value = string_of_json_size(MAX_VALUE_BYTES)

    response = store(http, api_url, user.token, key, value)

    assert_success(response, STORED)
    assert fetch(http, api_url, user.token, key).json()["data"]["value"] == value


def test_value_one_byte_over_64_kib_is_refused(
    http: requests.Session, api_url: str, user: User, key: str
) -> None:
    """Given a string whose JSON encoding is 65537 bytes, when stored, then the answer
    is INVALID_VALUE."""
    value = string_of_json_size(MAX_VALUE_BYTES + 1)

    response = store(http, api_url, user.token, key, value)

    assert_error(response, 400, "INVALID_VALUE")


def test_value_limit_counts_utf8_bytes_not_characters(
    http: requests.Session, api_url: str, user: User, key: str
) -> None:
    """Given a string of 3-byte characters whose JSON encoding is 65537 bytes but only
    21847 characters, when stored, then the answer is INVALID_VALUE."""
    value = string_of_json_size(MAX_VALUE_BYTES + 1, "€")

    response = store(http, api_url, user.token, key, value)

    assert_error(response, 400, "INVALID_VALUE")


def test_multibyte_value_of_exactly_64_kib_is_accepted(
    http: requests.Session, api_url: str, user: User, key: str
) -> None:
    """Given a string of 2-byte characters whose JSON encoding is exactly 65536 bytes,
    when stored, then it succeeds (the limit is on UTF-8, not on escaped ASCII)."""
    value = string_of_json_size(MAX_VALUE_BYTES, "é")

    response = store(http, api_url, user.token, key, value)

    assert_success(response, STORED)


def test_object_value_over_64_kib_is_refused(
    http: requests.Session, api_url: str, user: User, key: str
) -> None:
    """Given an object whose compact JSON encoding is 65537 bytes, when stored, then the
    answer is INVALID_VALUE."""
    overhead = len('{"data":""}')
    value = {"data": "x" * (MAX_VALUE_BYTES + 1 - overhead)}
    assert len(json.dumps(value, separators=(",", ":"))) == MAX_VALUE_BYTES + 1

    response = store(http, api_url, user.token, key, value)

    assert_error(response, 400, "INVALID_VALUE")


def test_update_over_64_kib_is_refused_and_keeps_the_value(
    http: requests.Session, api_url: str, user: User, stored: str
) -> None:
    """Given a stored key, when it is updated with a value over the limit, then the
    answer is INVALID_VALUE and the old value remains."""
    response = update(http, api_url, user.token, stored, string_of_json_size(MAX_VALUE_BYTES + 1))

    assert_error(response, 400, "INVALID_VALUE")
    assert fetch(http, api_url, user.token, stored).json()["data"]["value"] == "first"


# --- keys through the URL path -----------------------------------------------------------

PATH_KEYS: dict[str, str] = {
    "inner-spaces": "my key with spaces",
    "unicode": "clé-ключ-鍵",
    "emoji": "🔑 key",
    "percent": "100%",
    "percent-encoded-looking": "50%25 off %2F",
    "question-mark": "what?now=1",
    "hash": "a#b",
    "plus": "a+b c",
    "ampersand-equals": "x=1&y=2",
    "quotes": 'it\'s "quoted"',
    "backslash": "back\\slash",
    "semicolon-comma-colon": "a;b,c:d",
    "brackets-and-braces": "[x]{y}<z>",
    "tilde-and-dots": "~.hidden..",
    "decomposed-unicode-nfd": "cafe\u0301",
    "256-bytes": "k" * 256,
    "256-bytes-of-two-byte-characters": "é" * 128,
}


@pytest.mark.parametrize("name", list(PATH_KEYS.values()), ids=list(PATH_KEYS))
def test_special_keys_round_trip_through_the_url_path(
    http: requests.Session, api_url: str, user: User, cleanup: list[str], name: str
) -> None:
    """Given a key with spaces, Unicode, '%', '?', '#', '+' or quotes stored via the
    POST body, when it is read with the key percent-encoded in the path, then the answer
    carries that exact key and value (decoded once, never twice)."""
    cleanup.append(name)
    assert_success(store(http, api_url, user.token, name, {"for": name}), STORED)

    response = fetch(http, api_url, user.token, name)

    assert assert_success(response)["data"] == {
        "key": name,
        "value": {"for": name},
        "metadata": None,
    }


@pytest.mark.parametrize("name", list(PATH_KEYS.values()), ids=list(PATH_KEYS))
def test_special_keys_update_and_delete_through_the_url_path(
    http: requests.Session, api_url: str, user: User, cleanup: list[str], name: str
) -> None:
    """Given a stored key with special characters, when it is updated and then deleted
    through its percent-encoded path, then both succeed and a read is KEY_NOT_FOUND."""
    cleanup.append(name)
    assert_success(store(http, api_url, user.token, name, "before"), STORED)

    updated = update(http, api_url, user.token, name, "after")
    read = fetch(http, api_url, user.token, name)
    deleted = delete(http, api_url, user.token, name)

    assert_success(updated, UPDATED)
    assert assert_success(read)["data"]["value"] == "after"
    assert_success(deleted, DELETED)
    assert_error(fetch(http, api_url, user.token, name), 404, "KEY_NOT_FOUND")


def test_path_keys_are_not_decoded_twice(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    """Given a key "%41" stored via the body, when the key "A" is read, then it is
    KEY_NOT_FOUND: the path "%2541" means "%41", which must not be decoded again."""
    cleanup.append("%41")
    assert_success(store(http, api_url, user.token, "%41", "literal"), STORED)

    literal = fetch(http, api_url, user.token, "%41")
    decoded_twice = fetch(http, api_url, user.token, "A")

    assert assert_success(literal)["data"] == {"key": "%41", "value": "literal", "metadata": None}
    assert_error(decoded_twice, 404, "KEY_NOT_FOUND")


def test_query_string_is_not_part_of_the_key(
    http: requests.Session, api_url: str, user: User, stored: str
) -> None:
    """Given a stored key, when it is read with a query string appended to its path,
    then the query is ignored and the key is read."""
    response = http.get(
        f"{data_url(api_url, stored)}?key=other&x=1", headers=auth_headers(user.token)
    )

    assert assert_success(response)["data"] == {"key": stored, "value": "first", "metadata": None}


def test_keys_are_case_sensitive(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    """Given keys "Case-<x>" and "case-<x>" stored with different values, when each is
    read, then each returns its own value."""
    upper = unique_key("Case")
    lower = upper.lower()
    cleanup.extend([upper, lower])
    store(http, api_url, user.token, upper, "upper")
    store(http, api_url, user.token, lower, "lower")

    assert fetch(http, api_url, user.token, upper).json()["data"]["value"] == "upper"
    assert fetch(http, api_url, user.token, lower).json()["data"]["value"] == "lower"


# --- invalid keys ------------------------------------------------------------------------

INVALID_KEYS: dict[str, Any] = {
    "empty": "",
    "missing": ...,
    "null": None,
    "number": 42,
    "list": ["k"],
    "only-spaces": "   ",
    "leading-space": " lead",
    "trailing-space": "trail ",
    "trailing-tab": "trail\t",
    "slash": "a/b",
    "leading-slash": "/abs",
    "nul-character": "a\u0000b",
    "newline": "line\nbreak",
    "delete-character": "del\u007f",
    "c1-control-character": "nel\u0085",
    "257-bytes": "k" * 257,
    "258-bytes-in-129-characters": "é" * 129,
}


@pytest.mark.parametrize("name", list(INVALID_KEYS.values()), ids=list(INVALID_KEYS))
def test_store_refuses_invalid_keys(
    http: requests.Session, api_url: str, user: User, name: Any
) -> None:
    """Given a key that is empty, missing, not a string, padded with whitespace, holding
    '/' or a control character, or over 256 UTF-8 bytes, when stored, then the answer is
    INVALID_KEY naming key."""
    body = {"value": "v"} if name is ... else {"key": name, "value": "v"}

    response = http.post(f"{api_url}/api/data", json=body, headers=auth_headers(user.token))

    error = assert_error(response, 400, "INVALID_KEY")
    assert "key" in detail_fields(error)


def test_store_checks_the_key_before_the_value(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given an invalid key and a null value, when stored, then the answer is
    INVALID_KEY and details name both key and value."""
    response = http.post(
        f"{api_url}/api/data", json={"key": " bad", "value": None}, headers=auth_headers(user.token)
    )

    error = assert_error(response, 400, "INVALID_KEY")
    assert {"key", "value"} <= detail_fields(error)


PATH_INVALID_KEYS = {
    "leading-space": " lead",
    "trailing-space": "trail ",
    "encoded-slash": "a/b",
    "257-bytes": "k" * 257,
}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("name", list(PATH_INVALID_KEYS.values()), ids=list(PATH_INVALID_KEYS))
def test_invalid_keys_in_the_path_are_refused(
    http: requests.Session, api_url: str, user: User, method: str, name: str
) -> None:
    """Given a key in the URL path that no store could create, when it is read, updated
    or deleted, then the answer is INVALID_KEY."""
    response = http.request(
        method, data_url(api_url, name), json={"value": "v"}, headers=auth_headers(user.token)
    )

    assert_error(response, 400, "INVALID_KEY")


EXACT_NUMBERS = "[3.141592653589793238462643383279,1.5e-400,1e400,-0,1E+2,2.50]"


def test_numbers_keep_their_literal_text(http: requests.Session, api_url: str, user: User) -> None:
    """Given a value of numbers a double would round (SPEC.md's list), when it is stored and
    read back, then the response body carries exactly the characters sent."""
    key = f"numbers-{uuid.uuid4().hex}"
    stored = http.post(
        f"{api_url}/api/data",
        data='{"key": "' + key + '", "value": ' + EXACT_NUMBERS + "}",
        headers={**auth_headers(user.token), "Content-Type": "application/json"},
    )
    assert stored.status_code == 200

    response = fetch(http, api_url, user.token, key)

    assert '"value":' + EXACT_NUMBERS + ',"metadata":null}' in response.text


def test_a_duplicated_member_name_is_invalid_value(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given a value whose object names a member twice, when it is stored, then INVALID_VALUE
    (it could not be kept exactly) and nothing is stored."""
    key = f"dup-{uuid.uuid4().hex}"
    response = http.post(
        f"{api_url}/api/data",
        data='{"key": "' + key + '", "value": {"a": 1, "a": 2}}',
        headers={**auth_headers(user.token), "Content-Type": "application/json"},
    )

    assert_error(response, 400, "INVALID_VALUE")
    assert_error(fetch(http, api_url, user.token, key), 404, "KEY_NOT_FOUND")


def test_put_with_a_bad_key_and_a_malformed_body_is_invalid_key(
    http: requests.Session, api_url: str, user: User
) -> None:
    """Given PUT /api/data/%20lead with the body `{not json`, when it is sent, then the key's
    form decides first: INVALID_KEY (SPEC.md's check order), not INVALID_REQUEST."""
    response = http.put(
        data_url(api_url, " lead"),
        data="{not json",
        headers={**auth_headers(user.token), "Content-Type": "application/json"},
    )

    assert_error(response, 400, "INVALID_KEY")


# --- KEY_EXISTS and KEY_NOT_FOUND ----------------------------------------------------------


def test_second_store_of_a_key_is_key_exists(
    http: requests.Session, api_url: str, user: User, stored: str
) -> None:
    """Given a stored key, when it is stored again with another value, then the answer
    is 409 KEY_EXISTS."""
    response = store(http, api_url, user.token, stored, "second")

    assert_error(response, 409, "KEY_EXISTS")


def test_key_exists_does_not_overwrite(
    http: requests.Session, api_url: str, user: User, stored: str
) -> None:
    """Given a refused second store, when the key is read, then it still has its first
    value."""
    store(http, api_url, user.token, stored, "second")

    response = fetch(http, api_url, user.token, stored)

    assert response.json()["data"]["value"] == "first"


MISSING_KEY_CALLS: dict[str, Callable[[requests.Session, str, str, str], requests.Response]] = {
    "GET": fetch,
    "PUT": lambda http, api_url, token, key: update(http, api_url, token, key, "v"),
    "DELETE": delete,
}


@pytest.mark.parametrize("call", list(MISSING_KEY_CALLS.values()), ids=list(MISSING_KEY_CALLS))
def test_missing_key_is_key_not_found(
    http: requests.Session,
    api_url: str,
    user: User,
    key: str,
    call: Callable[[requests.Session, str, str, str], requests.Response],
) -> None:
    """Given a key that was never stored, when it is read, updated or deleted, then the
    answer is 404 KEY_NOT_FOUND."""
    response = call(http, api_url, user.token, key)

    assert_error(response, 404, "KEY_NOT_FOUND")


def test_update_does_not_create_a_key(
    http: requests.Session, api_url: str, user: User, key: str
) -> None:
    """Given a key that was never stored, when an update is refused, then a read is
    still KEY_NOT_FOUND."""
    update(http, api_url, user.token, key, "v")

    response = fetch(http, api_url, user.token, key)

    assert_error(response, 404, "KEY_NOT_FOUND")


# --- bodies that are not JSON objects (with a valid token) -------------------------------


@pytest.mark.parametrize(
    "raw", list(NOT_JSON_OBJECT_BODIES.values()), ids=list(NOT_JSON_OBJECT_BODIES)
)
def test_store_refuses_bodies_that_are_not_json_objects(
    http: requests.Session, api_url: str, user: User, raw: bytes
) -> None:
    """Given a valid token and a body that is malformed JSON or not an object, when
    POST /api/data is called, then the answer is INVALID_REQUEST."""
    response = post_raw(http, f"{api_url}/api/data", raw, auth_headers(user.token))

    assert_error(response, 400, "INVALID_REQUEST")


@pytest.mark.parametrize(
    "raw", list(NOT_JSON_OBJECT_BODIES.values()), ids=list(NOT_JSON_OBJECT_BODIES)
)
def test_update_refuses_bodies_that_are_not_json_objects(
    http: requests.Session, api_url: str, user: User, stored: str, raw: bytes
) -> None:
    """Given a valid token, a stored key and a body that is malformed JSON or not an
    object, when PUT is called, then the answer is INVALID_REQUEST and the value stays."""
    response = http.put(
        data_url(api_url, stored),
        data=raw,
        headers={"Content-Type": "application/json", **auth_headers(user.token)},
    )

    assert_error(response, 400, "INVALID_REQUEST")
    assert fetch(http, api_url, user.token, stored).json()["data"]["value"] == "first"


def test_store_refuses_nan_which_is_not_json(
    http: requests.Session, api_url: str, user: User, key: str
) -> None:
    """Given a body whose value is the bare token NaN (not JSON), when stored, then the
    answer is INVALID_REQUEST and nothing is stored."""
    raw = json.dumps({"key": key, "value": "__nan__"}).replace('"__nan__"', "NaN").encode()

    response = post_raw(http, f"{api_url}/api/data", raw, auth_headers(user.token))

    assert_error(response, 400, "INVALID_REQUEST")
    assert_error(fetch(http, api_url, user.token, key), 404, "KEY_NOT_FOUND")


TIMEOUT_SECONDS = 60.0


def list_keys(http: requests.Session, api_url: str, token: str, **query: str) -> requests.Response:
    """GET /api/data with each parameter percent-encoded (a space as %20: API Gateway
    hands a '+' in a query string over as a plus sign)."""
    pairs = "&".join(f"{name}={quote(value, safe='')}" for name, value in query.items())
    return http.get(f"{api_url}/api/data?{pairs}", headers=auth_headers(token))


def store_with_ttl(
    http: requests.Session, api_url: str, token: str, key: str, value: Any, ttl: Any
) -> requests.Response:
    return http.post(
        f"{api_url}/api/data",
        json={"key": key, "value": value, "ttl": ttl},
        headers=auth_headers(token),
    )


def put(
    session: requests.Session,
    api_url: str,
    token: str,
    key: str,
    body: dict[str, Any],
    if_match: str | None = None,
) -> requests.Response:
    headers = auth_headers(token)
    if if_match is not None:
        headers["If-Match"] = if_match
    return session.put(data_url(api_url, key), json=body, headers=headers, timeout=TIMEOUT_SECONDS)


def delete_if_match(
    http: requests.Session, api_url: str, token: str, key: str, if_match: str
) -> requests.Response:
    headers = {**auth_headers(token), "If-Match": if_match}
    return http.delete(data_url(api_url, key), headers=headers)


def walk(http: requests.Session, api_url: str, token: str, **query: str) -> list[dict[str, Any]]:
    """Every entry of every page, following cursors until null."""
    entries: list[dict[str, Any]] = []
    for _ in range(1000):
        body = assert_success(list_keys(http, api_url, token, **query))
        assert set(body) == {"status", "data"}, body
        entries += body["data"]["keys"]
        if body["data"]["cursor"] is None:
            return entries
        query["cursor"] = body["data"]["cursor"]
    raise AssertionError("the walk did not end")


def is_strong_etag(tag: str | None) -> bool:
    return bool(tag) and len(tag or "") > 2 and tag[0] == tag[-1] == '"'  # type: ignore[index]


# --- ETags and If-Match ---------------------------------------------------------------------


def test_get_post_and_put_answer_an_etag_that_changes_with_every_write(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = f"etag-{unique_suffix()}"
    cleanup.append(key)

    stored = store(http, api_url, user.token, key, "v1")
    assert_success(stored, STORED)
    read = fetch(http, api_url, user.token, key)
    updated = update(http, api_url, user.token, key, "v2")
    assert_success(updated, UPDATED)
    read_again = fetch(http, api_url, user.token, key)

    assert is_strong_etag(stored.headers.get("ETag"))
    assert read.headers["ETag"] == stored.headers["ETag"]
    assert updated.headers["ETag"] != stored.headers["ETag"]
    assert read_again.headers["ETag"] == updated.headers["ETag"]


def test_parallel_puts_with_one_etag_have_exactly_one_winner(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    """Acceptance: 8 parallel PUTs holding one ETag give one 200 and seven 412."""
    key = f"race-put-{unique_suffix()}"
    cleanup.append(key)
    tag = store(http, api_url, user.token, key, "start").headers["ETag"]
    workers = 8
    barrier = threading.Barrier(workers)

    def one(index: int) -> requests.Response:
        with requests.Session() as session:
            barrier.wait(timeout=TIMEOUT_SECONDS)
            return put(session, api_url, user.token, key, {"value": index}, tag)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        responses = list(pool.map(one, range(workers)))

    assert Counter(r.status_code for r in responses) == Counter({200: 1, 412: 7}), [
        r.text for r in responses
    ]
    winner = next(r for r in responses if r.status_code == 200)
    for response in responses:
        if response.status_code == 412:
            assert_error(response, 412, "PRECONDITION_FAILED")
    current = fetch(http, api_url, user.token, key)
    assert current.headers["ETag"] == winner.headers["ETag"]
    assert current.json()["data"]["value"] in range(workers)


def test_stale_if_match_changes_nothing_and_missing_key_stays_not_found(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = f"stale-{unique_suffix()}"
    cleanup.append(key)
    first = store(http, api_url, user.token, key, "v1").headers["ETag"]
    assert_success(update(http, api_url, user.token, key, "v2"), UPDATED)

    assert_error(
        put(http, api_url, user.token, key, {"value": "v3"}, first), 412, "PRECONDITION_FAILED"
    )
    assert_error(delete_if_match(http, api_url, user.token, key, first), 412, "PRECONDITION_FAILED")
    assert fetch(http, api_url, user.token, key).json()["data"]["value"] == "v2"

    assert_success(delete_if_match(http, api_url, user.token, key, "*"), DELETED)
    assert_error(put(http, api_url, user.token, key, {"value": "x"}, first), 404, "KEY_NOT_FOUND")
    assert_error(delete_if_match(http, api_url, user.token, key, "*"), 404, "KEY_NOT_FOUND")


def test_current_if_match_wins_on_put_and_delete(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = f"current-{unique_suffix()}"
    cleanup.append(key)
    tag = store(http, api_url, user.token, key, "v1").headers["ETag"]

    updated = put(http, api_url, user.token, key, {"value": "v2"}, tag)
    assert_success(updated, UPDATED)
    assert_success(
        delete_if_match(http, api_url, user.token, key, updated.headers["ETag"]), DELETED
    )


# --- expiry -------------------------------------------------------------------------------


def test_key_with_ttl_expires_everywhere_and_can_be_created_again(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    """Acceptance: ttl 2 is readable at once and absent 3 seconds later for GET, PUT,
    DELETE and listing; POST creates it again."""
    prefix = f"ttl-{unique_suffix()}"
    key = f"{prefix}-session"
    cleanup.append(key)
    sent = time.time()
    assert_success(store_with_ttl(http, api_url, user.token, key, "s1", 2), STORED)
    answered = time.time()  # the write happened between `sent` and now
    assert fetch(http, api_url, user.token, key).json()["data"]["value"] == "s1"
    entries = walk(http, api_url, user.token, prefix=prefix)
    if time.time() < sent + 2:  # on a loaded machine the two seconds may already be over
        [entry] = entries
        assert entry["key"] == key
        assert isinstance(entry["expires_at"], int)
        assert sent + 2 <= entry["expires_at"] <= answered + 3  # rounded up to a second

    time.sleep(max(0.0, answered + 3.05 - time.time()))  # 3 seconds after the write

    assert_error(fetch(http, api_url, user.token, key), 404, "KEY_NOT_FOUND")
    assert_error(update(http, api_url, user.token, key, "s2"), 404, "KEY_NOT_FOUND")
    assert_error(delete(http, api_url, user.token, key), 404, "KEY_NOT_FOUND")
    assert walk(http, api_url, user.token, prefix=prefix) == []
    assert_success(store(http, api_url, user.token, key, "s3"), STORED)
    assert fetch(http, api_url, user.token, key).json()["data"]["value"] == "s3"
    assert walk(http, api_url, user.token, prefix=prefix)[0]["expires_at"] is None


def test_put_without_ttl_makes_the_key_permanent(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    key = f"permanent-{unique_suffix()}"
    cleanup.append(key)
    assert_success(store_with_ttl(http, api_url, user.token, key, "v", 600), STORED)
    assert walk(http, api_url, user.token, prefix=key)[0]["expires_at"] is not None

    assert_success(update(http, api_url, user.token, key, "w"), UPDATED)
    assert walk(http, api_url, user.token, prefix=key)[0]["expires_at"] is None

    assert_success(put(http, api_url, user.token, key, {"value": "x", "ttl": 60}), UPDATED)
    expires_at = walk(http, api_url, user.token, prefix=key)[0]["expires_at"]
    assert abs(expires_at - (time.time() + 60)) < 30


BAD_TTLS = [True, False, 2.0, 1.5, "60", 0, -5, 31_536_001, None, [1], {"s": 1}]


@pytest.mark.parametrize("ttl", BAD_TTLS, ids=repr)
def test_every_bad_ttl_is_invalid_ttl(
    http: requests.Session, api_url: str, user: User, ttl: Any
) -> None:
    key = f"bad-ttl-{unique_suffix()}"
    body = assert_error(
        store_with_ttl(http, api_url, user.token, key, "v", ttl), 400, "INVALID_TTL"
    )
    assert detail_fields(body) == {"ttl"}
    body = assert_error(
        put(http, api_url, user.token, key, {"value": "v", "ttl": ttl}), 400, "INVALID_TTL"
    )
    assert detail_fields(body) == {"ttl"}


def test_ttl_is_checked_after_the_value(http: requests.Session, api_url: str, user: User) -> None:
    body = assert_error(
        store_with_ttl(http, api_url, user.token, "k", None, 0), 400, "INVALID_VALUE"
    )
    assert detail_fields(body) == {"value", "ttl"}


def test_ttl_bounds_are_accepted(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    for ttl in (1, 31_536_000):
        key = f"ttl-bound-{unique_suffix()}"
        cleanup.append(key)
        assert_success(store_with_ttl(http, api_url, user.token, key, "v", ttl), STORED)


# --- listing --------------------------------------------------------------------------------


def test_prefix_walk_returns_every_key_once_in_utf8_byte_order(
    http: requests.Session, api_url: str, user: User, other: User, cleanup: list[str]
) -> None:
    """Acceptance: a walk over more keys than one page, every key once, in byte order."""
    prefix = f"walk-{unique_suffix()} "
    names = [f"{i:02d}" for i in range(20)] + ["a", "Z", "é", "ä x", "😀", "\uffff", "z"]
    keys = [prefix + name for name in names]
    cleanup.extend(keys)
    for key in keys:
        assert_success(store(http, api_url, user.token, key, 1), STORED)
    assert_success(store(http, api_url, other.token, prefix + "b", 1), STORED)
    assert_success(store(http, api_url, user.token, prefix.rstrip() + "!", 1), STORED)
    cleanup.append(prefix.rstrip() + "!")

    entries = walk(http, api_url, user.token, prefix=prefix.rstrip(), limit="4")
    seen = [entry["key"] for entry in entries]

    expected = sorted([*keys, prefix.rstrip() + "!"], key=lambda key: key.encode("utf-8"))
    assert seen == expected
    for entry in entries:
        assert set(entry) == {"key", "etag", "expires_at", "metadata"}
        assert is_strong_etag(entry["etag"])
        assert entry["expires_at"] is None
    delete_quietly(http, api_url, other.token, prefix + "b")


def test_default_page_and_etags_match_get(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    prefix = f"list-{unique_suffix()}"
    key = prefix + "-one"
    cleanup.append(key)
    tag = store(http, api_url, user.token, key, "v").headers["ETag"]

    body = assert_success(list_keys(http, api_url, user.token, prefix=prefix))

    assert body["data"] == {
        "keys": [{"key": key, "etag": tag, "expires_at": None, "metadata": None}],
        "cursor": None,
    }


def page_cursor(http: requests.Session, api_url: str, user: User, prefix: str) -> str:
    for name in ("1", "2", "3"):
        assert_success(store(http, api_url, user.token, prefix + name, 1), STORED)
    body = assert_success(list_keys(http, api_url, user.token, prefix=prefix, limit="1"))
    cursor: str = body["data"]["cursor"]
    assert cursor
    return cursor


def test_tampered_and_truncated_cursors_are_refused(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    """Acceptance: a changed or truncated cursor is INVALID_PARAMETER naming cursor."""
    prefix = f"cur-{unique_suffix()}-"
    cleanup.extend(prefix + name for name in ("1", "2", "3"))
    cursor = page_cursor(http, api_url, user, prefix)
    flipped = cursor[0] + ("A" if cursor[1] != "A" else "B") + cursor[2:]

    for bad in (cursor[:-2], cursor[: len(cursor) // 2], flipped, cursor + "A", "x", "é"):
        response = list_keys(http, api_url, user.token, prefix=prefix, cursor=bad)
        assert detail_fields(assert_error(response, 400, "INVALID_PARAMETER")) == {"cursor"}, bad
    response = list_keys(http, api_url, user.token, prefix=prefix + "1", cursor=cursor)
    assert_error(response, 400, "INVALID_PARAMETER")


def test_another_users_cursor_is_refused(
    http: requests.Session, api_url: str, user: User, other: User, cleanup: list[str]
) -> None:
    """Acceptance: a cursor given to one user is INVALID_PARAMETER for another, never a
    page of the first user's keys."""
    prefix = f"foreign-{unique_suffix()}-"
    cleanup.extend(prefix + name for name in ("1", "2", "3"))
    cursor = page_cursor(http, api_url, user, prefix)

    response = list_keys(http, api_url, other.token, prefix=prefix, cursor=cursor)

    assert detail_fields(assert_error(response, 400, "INVALID_PARAMETER")) == {"cursor"}


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "abc", "", "1.5", "+3", "007"])
def test_every_bad_limit_is_invalid_parameter(
    http: requests.Session, api_url: str, user: User, limit: str
) -> None:
    body = assert_error(list_keys(http, api_url, user.token, limit=limit), 400, "INVALID_PARAMETER")
    assert detail_fields(body) == {"limit"}


@pytest.mark.parametrize("prefix", ["a/b", " lead", "trail ", "tab\there"])
def test_bad_prefix_is_invalid_key(
    http: requests.Session, api_url: str, user: User, prefix: str
) -> None:
    body = assert_error(list_keys(http, api_url, user.token, prefix=prefix), 400, "INVALID_KEY")
    assert detail_fields(body) == {"prefix"}


def test_limit_bounds_are_accepted(http: requests.Session, api_url: str, user: User) -> None:
    for limit in ("1", "1000"):
        assert_success(
            list_keys(http, api_url, user.token, prefix="none-" + unique_suffix(), limit=limit)
        )


def test_listing_needs_a_token(http: requests.Session, api_url: str) -> None:
    assert_error(http.get(f"{api_url}/api/data"), 401, "INVALID_TOKEN")


ALICE_VALUE = {"secret": "alice's diary", "pin": 1234}


@pytest.fixture(scope="module")
def alice(http: requests.Session, api_url: str) -> User:
    return new_user(http, api_url)


@pytest.fixture(scope="module")
def bob(http: requests.Session, api_url: str) -> User:
    return new_user(http, api_url)


@pytest.fixture
def alices_key(http: requests.Session, api_url: str, alice: User) -> Iterator[str]:
    """A key Alice stored with ALICE_VALUE (deleted after the test)."""
    key = unique_key("shared-name")
    assert_success(store(http, api_url, alice.token, key, ALICE_VALUE), STORED)
    yield key
    delete_quietly(http, api_url, alice.token, key)


def alice_still_has_her_value(http: requests.Session, api_url: str, alice: User, key: str) -> None:
    response = fetch(http, api_url, alice.token, key)
    assert assert_success(response)["data"] == {"key": key, "value": ALICE_VALUE, "metadata": None}


def test_other_user_cannot_read_the_key(
    http: requests.Session, api_url: str, bob: User, alices_key: str
) -> None:
    """Given a key Alice stored, when Bob reads it, then Bob gets 404 KEY_NOT_FOUND."""
    response = fetch(http, api_url, bob.token, alices_key)

    assert_error(response, 404, "KEY_NOT_FOUND")


def test_other_user_cannot_tell_the_key_exists(
    http: requests.Session, api_url: str, bob: User, alices_key: str
) -> None:
    """Given a key Alice stored, when Bob reads it and a key nobody stored, then both
    answers are byte-for-byte the same."""
    for_alices = fetch(http, api_url, bob.token, alices_key)
    for_nobodys = fetch(http, api_url, bob.token, unique_key("nobody"))

    assert for_alices.status_code == for_nobodys.status_code == 404
    assert for_alices.content == for_nobodys.content


def test_other_user_cannot_update_the_key(
    http: requests.Session, api_url: str, alice: User, bob: User, alices_key: str
) -> None:
    """Given a key Alice stored, when Bob updates it, then Bob gets KEY_NOT_FOUND and
    Alice's value is unchanged."""
    response = update(http, api_url, bob.token, alices_key, "overwritten by bob")

    assert_error(response, 404, "KEY_NOT_FOUND")
    alice_still_has_her_value(http, api_url, alice, alices_key)


def test_other_user_cannot_delete_the_key(
    http: requests.Session, api_url: str, alice: User, bob: User, alices_key: str
) -> None:
    """Given a key Alice stored, when Bob deletes it, then Bob gets KEY_NOT_FOUND and
    Alice still has her value."""
    response = delete(http, api_url, bob.token, alices_key)

    assert_error(response, 404, "KEY_NOT_FOUND")
    alice_still_has_her_value(http, api_url, alice, alices_key)


def test_other_user_can_store_the_same_key_name(
    http: requests.Session, api_url: str, alice: User, bob: User, alices_key: str
) -> None:
    """Given a key Alice stored, when Bob stores the same key name, then it succeeds and
    each reads back their own value."""
    try:
        response = store(http, api_url, bob.token, alices_key, "bob's own value")

        assert_success(response, STORED)
        assert fetch(http, api_url, bob.token, alices_key).json()["data"]["value"] == (
            "bob's own value"
        )
        alice_still_has_her_value(http, api_url, alice, alices_key)
    finally:
        delete_quietly(http, api_url, bob.token, alices_key)


def test_deleting_own_copy_leaves_the_other_users_key(
    http: requests.Session, api_url: str, alice: User, bob: User, alices_key: str
) -> None:
    """Given Alice and Bob each storing the same key name, when Bob deletes his, then
    Alice's value remains."""
    assert_success(store(http, api_url, bob.token, alices_key, "bob's own value"), STORED)
    try:
        response = delete(http, api_url, bob.token, alices_key)

        assert_success(response, DELETED)
        alice_still_has_her_value(http, api_url, alice, alices_key)
    finally:
        delete_quietly(http, api_url, bob.token, alices_key)


def test_user_id_in_the_body_is_ignored(
    http: requests.Session, api_url: str, alice: User, bob: User
) -> None:
    """Given Bob posting a key with Alice's user_id in the body, when the store
    succeeds, then the key is in Bob's namespace, not Alice's."""
    key = unique_key("spoof")
    body = {"key": key, "value": "planted", "user_id": alice.user_id, "sub": alice.user_id}
    try:
        response = http.post(f"{api_url}/api/data", json=body, headers=auth_headers(bob.token))

        assert_success(response, STORED)
        assert_error(fetch(http, api_url, alice.token, key), 404, "KEY_NOT_FOUND")
        assert fetch(http, api_url, bob.token, key).json()["data"]["value"] == "planted"
    finally:
        delete_quietly(http, api_url, bob.token, key)
        delete_quietly(http, api_url, alice.token, key)


# --- metadata ---------------------------------------------------------------------------


def test_metadata_is_answered_by_get_and_listing_and_cleared_by_a_put_without_it(
    http: requests.Session, api_url: str, user: User, cleanup: list[str]
) -> None:
    """Given a key stored with metadata, GET and the listing answer it exactly (numbers as
    written); a PUT with new metadata replaces it, a PUT without it clears it to null."""
    key = unique_key("meta")
    cleanup.append(key)
    body = '{"key": "' + key + '", "value": 1, "metadata": {"type": "image/png", "w": 1.50}}'
    headers = {**auth_headers(user.token), "Content-Type": "application/json"}
    assert_success(http.post(f"{api_url}/api/data", data=body, headers=headers), STORED)

    read = fetch(http, api_url, user.token, key)
    listed = walk(http, api_url, user.token, prefix=key)
    replaced = http.put(
        data_url(api_url, key), json={"value": 2, "metadata": {"v": 2}}, headers=headers
    )
    after_replace = assert_success(fetch(http, api_url, user.token, key))["data"]["metadata"]
    assert_success(update(http, api_url, user.token, key, 3), UPDATED)

    assert read.text.endswith('"metadata":{"type":"image/png","w":1.50}}}')
    assert [entry["metadata"] for entry in listed] == [{"type": "image/png", "w": 1.5}]
    assert_success(replaced, UPDATED)
    assert after_replace == {"v": 2}
    assert assert_success(fetch(http, api_url, user.token, key))["data"]["metadata"] is None


@pytest.mark.parametrize(
    "metadata",
    [["a"], "a", 7, {"k": "x" * 1017}],
    ids=["array", "string", "number", "1025-bytes"],
)
def test_metadata_that_is_no_object_or_too_big_is_invalid_metadata(
    http: requests.Session, api_url: str, user: User, metadata: Any
) -> None:
    key = unique_key("meta")

    response = http.post(
        f"{api_url}/api/data",
        json={"key": key, "value": 1, "metadata": metadata},
        headers=auth_headers(user.token),
    )

    assert detail_fields(assert_error(response, 400, "INVALID_METADATA")) == {"metadata"}
    assert_error(fetch(http, api_url, user.token, key), 404, "KEY_NOT_FOUND")


def test_metadata_is_checked_after_the_ttl(
    http: requests.Session, api_url: str, user: User
) -> None:
    response = http.post(
        f"{api_url}/api/data",
        json={"key": unique_key("meta"), "value": 1, "ttl": 0, "metadata": []},
        headers=auth_headers(user.token),
    )

    assert detail_fields(assert_error(response, 400, "INVALID_TTL")) == {"ttl", "metadata"}
