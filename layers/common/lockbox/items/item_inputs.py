"""The data calls' inputs: their rules, and one parser per call that checks the whole
input in the contract's order.

The order (SPEC.md, "Data"): the caller (INVALID_TOKEN), the key's form when it is in the
path (INVALID_KEY), the body is a JSON object (INVALID_REQUEST), the key's form when it is
in the body (INVALID_KEY), the value (INVALID_VALUE), the ttl (INVALID_TTL), the metadata
(INVALID_METADATA). Each parser
below walks exactly that order, so a handler cannot get it wrong: it hands over the event
and gets the input. If-Match is read as it is; it never refuses a request by itself (a tag
that matches no version is a 412 once the key is found to exist).

The listing's parser checks the caller, then its query parameters: the prefix
(INVALID_KEY), the limit and the cursor (INVALID_PARAMETER), each named in `details`.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from lockbox.core import json_text
from lockbox.core.errors import ApiError, Detail, ErrorCode
from lockbox.core.proxy import (
    ApiEvent,
    caller_id,
    has_body,
    header,
    header_values,
    json_body,
    path_parameter,
    query_parameters,
)
from lockbox.core.settings import get_settings
from lockbox.core.validation import (
    ABSENT,
    FieldRule,
    PlainInput,
    RuleViolation,
    has_control_character,
    is_valid_unicode,
    refusal,
    refuse_if,
)
from lockbox.items.cursors import make_cursor, read_cursor
from lockbox.items.item_records import BatchWrite, IfMatch

MAX_KEY_BYTES = 256
MAX_TTL_SECONDS = 31_536_000  # one year
MAX_METADATA_BYTES = 1024
MERGE_PATCH = "application/merge-patch+json"
MAX_BATCH_KEYS = 100  # BatchGetItem's limit
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
REPLACEMENT_CHARACTER = "\ufffd"
MAX_IF_MATCH_TAGS = 100  # DynamoDB's IN takes at most 100 operands
_LIMIT_TEXT = re.compile(r"[1-9][0-9]{0,3}")
_STRONG_TAG = re.compile(r'"([\x21\x23-\x7e]*)"')


def key_reason(value: object) -> str | None:
    """Why this is not a valid item key, or None."""
    if not isinstance(value, str) or value == "":
        return "Key is required and must be a non-empty string."
    if not is_valid_unicode(value) or REPLACEMENT_CHARACTER in value:
        # U+FFFD: what a gateway may have put in place of bytes that are not UTF-8.
        return "Key must be valid Unicode text."
    if len(value.encode("utf-8")) > MAX_KEY_BYTES:
        return f"Key must be at most {MAX_KEY_BYTES} bytes in UTF-8."
    if "/" in value:
        return "Key must not contain '/'."
    if has_control_character(value):
        return "Key must not contain control characters."
    if value != value.strip():
        return "Key must not start or end with whitespace."
    return None


def check_key(value: object) -> str:
    refuse_if(key_reason(value), ErrorCode.INVALID_KEY)
    assert isinstance(value, str)
    return value


def encode_value(value: object) -> str:
    """The value's compact JSON text, numbers as written: what is stored and returned."""
    if value is None or value == "":
        raise RuleViolation(
            ErrorCode.INVALID_VALUE, "Value is required and must not be null or empty."
        )
    try:
        encoded = json_text.encode(value)
        size = len(encoded.encode("utf-8"))
    except (json_text.UnstorableJsonError, UnicodeEncodeError, RecursionError):
        raise RuleViolation(
            ErrorCode.INVALID_VALUE,
            "Value must be storable exactly: each object member named once, valid Unicode text.",
        ) from None
    limit = get_settings().max_value_bytes
    if size > limit:
        raise RuleViolation(
            ErrorCode.INVALID_VALUE, f"Value must be at most {limit} bytes as JSON."
        )
    return encoded


def check_ttl(value: object) -> int | None:
    """Seconds until the key expires: a JSON integer 1..31536000, or None when not sent."""
    if value is ABSENT:
        return None
    if type(value) is not int or not 1 <= value <= MAX_TTL_SECONDS:  # bool is not int here
        raise RuleViolation(
            ErrorCode.INVALID_TTL,
            f"ttl must be a JSON integer of seconds from 1 to {MAX_TTL_SECONDS}.",
        )
    return value


def check_metadata(value: object) -> str | None:
    """The metadata's compact JSON text, or None when not sent (null is the same)."""
    if value is ABSENT or value is None:
        return None
    reason = f"metadata must be a JSON object of at most {MAX_METADATA_BYTES} bytes as JSON."
    if not isinstance(value, dict):
        raise RuleViolation(ErrorCode.INVALID_METADATA, reason)
    try:
        encoded = json_text.encode(value)
        size = len(encoded.encode("utf-8"))
    except (json_text.UnstorableJsonError, UnicodeEncodeError, RecursionError):
        raise RuleViolation(ErrorCode.INVALID_METADATA, reason) from None
    if size > MAX_METADATA_BYTES:
        raise RuleViolation(ErrorCode.INVALID_METADATA, reason)
    return encoded


def if_match(event: ApiEvent) -> IfMatch:
    """The If-Match header (see parse_if_match)."""
    # Sent over several header lines, it is one list (RFC 9110, 5.3): API Gateway hands
    # the lines over in multiValueHeaders.
    return parse_if_match(header_values(event, "If-Match"))


def parse_if_match(lines: list[str]) -> IfMatch:
    """If-Match's lines: None when absent, "*", or the strong tags it lists (unquoted).

    Weak tags (W/"...") never match under If-Match's strong comparison (RFC 9110, 13.1.1),
    so they are dropped; a header with no usable tag matches no version.
    """
    if not lines:
        return None
    raw = ", ".join(lines)
    if raw.strip() == "*":
        return "*"
    tags = []
    for part in raw.split(","):
        found = _STRONG_TAG.fullmatch(part.strip())
        if found:
            tags.append(found.group(1))
    return tuple(tags[:MAX_IF_MATCH_TAGS])


class KeyInput(NamedTuple):
    """GET and DELETE /api/data/{key}: the caller and the key."""

    user_id: str
    key: str


class DeleteInput(NamedTuple):
    """DELETE /api/data/{key}: the caller, the key and If-Match."""

    user_id: str
    key: str
    if_match: IfMatch


class StoreInput(NamedTuple):
    """POST /api/data."""

    user_id: str
    key: str
    value_json: str  # the value's compact JSON text, which is what is stored
    ttl: int | None = None
    metadata_json: str | None = None  # the metadata's compact JSON text, when sent


class UpdateInput(NamedTuple):
    """PUT /api/data/{key}."""

    user_id: str
    key: str
    value_json: str
    ttl: int | None = None
    if_match: IfMatch = None
    metadata_json: str | None = None


class IncrementInput(NamedTuple):
    """POST /api/data/{key}/increment: the caller, the key and the number to add (its text)."""

    user_id: str
    key: str
    by: str


class PatchInput(NamedTuple):
    """PATCH /api/data/{key}: the caller, the key, the merge patch and If-Match."""

    user_id: str
    key: str
    patch: dict[str, object]
    if_match: IfMatch


class BatchGetInput(NamedTuple):
    """POST /api/batch/get: the caller and the keys, distinct, in the order asked."""

    user_id: str
    keys: list[str]


class ListInput(NamedTuple):
    """GET /api/data: the caller, the prefix, the page size and where the page starts."""

    user_id: str
    prefix: str
    limit: int
    start_key: str | None  # the last key of the previous page, from a verified cursor


_TTL_RULE = FieldRule("ttl", "ttl", check_ttl, absent=ABSENT)
_METADATA_RULE = FieldRule("metadata", "metadata_json", check_metadata, absent=ABSENT)


class StoreFields(NamedTuple):
    """POST /api/data's body."""

    key: str
    value_json: str
    ttl: int | None
    metadata_json: str | None


STORE_BODY = PlainInput(
    StoreFields,
    rules=(
        FieldRule("key", "key", check_key),
        FieldRule("value", "value_json", encode_value),
        _TTL_RULE,
        _METADATA_RULE,
    ),
    check_order=(
        ErrorCode.INVALID_KEY,
        ErrorCode.INVALID_VALUE,
        ErrorCode.INVALID_TTL,
        ErrorCode.INVALID_METADATA,
    ),
)


class UpdateFields(NamedTuple):
    """PUT /api/data/{key}'s body."""

    value_json: str
    ttl: int | None
    metadata_json: str | None


UPDATE_BODY = PlainInput(
    UpdateFields,
    rules=(FieldRule("value", "value_json", encode_value), _TTL_RULE, _METADATA_RULE),
    check_order=(ErrorCode.INVALID_VALUE, ErrorCode.INVALID_TTL, ErrorCode.INVALID_METADATA),
)


def check_by(value: object) -> str:
    """The increment's literal number text: 1 when not sent."""
    if value is ABSENT:
        return "1"
    text = json_text.number_text(value)
    if text is None:
        raise RuleViolation(ErrorCode.INVALID_VALUE, "by must be a JSON number.")
    return text


class IncrementFields(NamedTuple):
    """POST /api/data/{key}/increment's body."""

    by: str


INCREMENT_BODY = PlainInput(
    IncrementFields,
    rules=(FieldRule("by", "by", check_by, absent=ABSENT),),
    check_order=(ErrorCode.INVALID_VALUE,),
)


def path_key(event: ApiEvent) -> str:
    """The {key} path parameter (as API Gateway decoded it, once), or INVALID_KEY."""
    key = path_parameter(event, "key")
    reason = key_reason(key)
    if reason:
        raise ApiError(ErrorCode.INVALID_KEY, [Detail(field="key", message=reason)])
    assert isinstance(key, str)
    return key


def _object_body(event: ApiEvent) -> dict[str, object]:
    # Only a value can be nested deeper than the parser goes: that is INVALID_VALUE here.
    return json_body(event, too_deep=ErrorCode.INVALID_VALUE)


def key_input(event: ApiEvent) -> KeyInput:
    user_id = caller_id(event)
    return KeyInput(user_id, path_key(event))


def delete_input(event: ApiEvent) -> DeleteInput:
    user_id = caller_id(event)
    return DeleteInput(user_id, path_key(event), if_match(event))


def store_input(event: ApiEvent) -> StoreInput:
    user_id = caller_id(event)
    fields = STORE_BODY.from_body(_object_body(event))
    return StoreInput(user_id, fields.key, fields.value_json, fields.ttl, fields.metadata_json)


def update_input(event: ApiEvent) -> UpdateInput:
    user_id = caller_id(event)
    key = path_key(event)
    fields = UPDATE_BODY.from_body(_object_body(event))
    return UpdateInput(
        user_id, key, fields.value_json, fields.ttl, if_match(event), fields.metadata_json
    )


def increment_input(event: ApiEvent) -> IncrementInput:
    """An empty body is {}: add 1."""
    user_id = caller_id(event)
    key = path_key(event)
    body = _object_body(event) if has_body(event) else {}
    return IncrementInput(user_id, key, INCREMENT_BODY.from_body(body).by)


def patch_input(event: ApiEvent) -> PatchInput:
    """The content type is a merge patch's (a charset parameter is fine), then the body is a
    JSON object; a patch that cannot be kept exactly (a member named twice) is INVALID_VALUE."""
    user_id = caller_id(event)
    key = path_key(event)
    media_type = (header(event, "Content-Type") or "").split(";")[0].strip().lower()
    if media_type != MERGE_PATCH:
        reason = f"Content-Type must be {MERGE_PATCH}."
        raise ApiError(ErrorCode.INVALID_REQUEST, [Detail("Content-Type", reason)])
    patch = _object_body(event)
    try:
        encode_value(patch)
    except RuleViolation as violation:
        raise ApiError(violation.code, [Detail("value", violation.reason)]) from None
    return PatchInput(user_id, key, patch, if_match(event))


def batch_get_input(event: ApiEvent) -> BatchGetInput:
    """The list as a whole first (INVALID_REQUEST), then each key (INVALID_KEY, `keys[i]`)."""
    user_id = caller_id(event)
    keys = json_body(event).get("keys")
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_BATCH_KEYS:
        reason = f"keys must be a list of 1 to {MAX_BATCH_KEYS} keys."
        raise ApiError(ErrorCode.INVALID_REQUEST, [Detail("keys", reason)])
    names = [key for key in keys if isinstance(key, str)]
    if len(set(names)) != len(names):
        raise ApiError(ErrorCode.INVALID_REQUEST, [Detail("keys", "keys must be distinct.")])
    violations = [
        (ErrorCode.INVALID_KEY, Detail(f"keys[{index}]", why))
        for index, key in enumerate(keys)
        if (why := key_reason(key))
    ]
    if violations:
        raise refusal((ErrorCode.INVALID_KEY,), violations)
    return BatchGetInput(user_id, keys)


class BatchWriteInput(NamedTuple):
    """POST /api/batch/write: the caller and the operations, in the order sent."""

    user_id: str
    writes: list[BatchWrite]


class DeleteFields(NamedTuple):
    """A batch's delete operation."""

    key: str


BATCH_DELETE_BODY = PlainInput(
    DeleteFields,
    rules=(FieldRule("key", "key", check_key),),
    check_order=(ErrorCode.INVALID_KEY,),
)


_BATCH_OPS = ("store", "update", "delete")


def _malformed_operations(operations: object) -> list[Detail]:
    """What makes the batch malformed as a whole (INVALID_REQUEST), every problem."""
    if not isinstance(operations, list) or not 1 <= len(operations) <= MAX_BATCH_KEYS:
        return [Detail("operations", f"operations must be a list of 1 to {MAX_BATCH_KEYS}.")]
    problems = []
    keys = []
    for index, operation in enumerate(operations):
        field = f"operations[{index}]"
        if not isinstance(operation, dict):
            problems.append(Detail(field, "Each operation must be a JSON object."))
        elif operation.get("op") not in _BATCH_OPS:
            problems.append(Detail(field, "op must be one of store, update, delete."))
        elif "if_match" in operation and not isinstance(operation["if_match"], str):
            problems.append(Detail(field, 'if_match must be a string: "<etag>" or *.'))
        elif isinstance(operation.get("key"), str):
            keys.append(operation["key"])
    if len(set(keys)) != len(keys):
        problems.append(Detail("operations", "Each key may appear in one operation only."))
    return problems


def _batch_write(operation: dict[str, Any]) -> BatchWrite:
    """One operation under the single call's rules (ApiError with its code)."""
    tag = parse_if_match([operation["if_match"]]) if "if_match" in operation else None
    if operation["op"] == "delete":
        return BatchWrite("delete", BATCH_DELETE_BODY.from_body(operation).key, if_match=tag)
    fields = STORE_BODY.from_body(operation)
    return BatchWrite(
        operation["op"], fields.key, fields.value_json, fields.ttl, fields.metadata_json, tag
    )


def batch_write_input(event: ApiEvent) -> BatchWriteInput:
    """The batch as a whole first (INVALID_REQUEST), then each operation in list order with
    the single call's codes; the first failing operation's code decides, `details` names
    every failing one as operations[i]."""
    user_id = caller_id(event)
    operations = _object_body(event).get("operations")
    malformed = _malformed_operations(operations)
    if malformed:
        raise ApiError(ErrorCode.INVALID_REQUEST, malformed)
    assert isinstance(operations, list)
    writes: list[BatchWrite] = []
    first: ErrorCode | None = None
    details: list[Detail] = []
    for index, operation in enumerate(operations):
        try:
            writes.append(_batch_write(operation))
        except ApiError as refused:
            first = first or refused.code
            details += [
                Detail(f"operations[{index}]", f"{detail.field}: {detail.message}")
                for detail in refused.details
            ]
    if first is not None:
        raise ApiError(first, details)
    return BatchWriteInput(user_id, writes)


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not _LIMIT_TEXT.fullmatch(raw) or int(raw) > MAX_LIMIT:
        raise RuleViolation(
            ErrorCode.INVALID_PARAMETER, f"limit must be an integer from 1 to {MAX_LIMIT}."
        )
    return int(raw)


def list_input(event: ApiEvent) -> ListInput:
    """GET /api/data's query: every parameter checked, the first failing one decides."""
    user_id = caller_id(event)
    query = query_parameters(event)
    violations: list[tuple[ErrorCode, Detail]] = []
    prefix = query.get("prefix", "")
    prefix_reason = key_reason(prefix) if prefix else None
    if prefix_reason:
        violations.append((ErrorCode.INVALID_KEY, Detail("prefix", prefix_reason)))
    limit = DEFAULT_LIMIT
    try:
        limit = _limit(query.get("limit"))
    except RuleViolation as violation:
        violations.append((violation.code, Detail("limit", violation.reason)))
    start_key = None
    cursor = query.get("cursor")
    if cursor is not None and not prefix_reason:  # a cursor is bound to a valid prefix
        start_key = read_cursor(cursor, user_id, prefix)
        if start_key is None:
            reason = "cursor must be one this API returned for the same user and prefix."
            violations.append((ErrorCode.INVALID_PARAMETER, Detail("cursor", reason)))
    if violations:
        raise refusal((ErrorCode.INVALID_KEY, ErrorCode.INVALID_PARAMETER), violations)
    return ListInput(user_id, prefix, limit, start_key)


# The export's cursors are signed for this "prefix", which no key listing can have (a key
# prefix has no control characters): a listing's cursor is refused here, and the other way.
EXPORT_CURSOR_SCOPE = "\x1fexport:"


class ExportInput(NamedTuple):
    """GET /api/export: the caller and where the page starts (None: the first page)."""

    user_id: str
    start_key: str | None  # the last key of the previous page, from a verified cursor


def export_cursor(user_id: str, last_key: str) -> str:
    """The cursor of the export's page after `last_key`."""
    return make_cursor(user_id, EXPORT_CURSOR_SCOPE, EXPORT_CURSOR_SCOPE + last_key)


def export_input(event: ApiEvent) -> ExportInput:
    """GET /api/export: the caller, then the cursor if any (INVALID_PARAMETER unless this
    API gave it to this caller for the export)."""
    user_id = caller_id(event)
    cursor = query_parameters(event).get("cursor")
    if cursor is None:
        return ExportInput(user_id, None)
    last = read_cursor(cursor, user_id, EXPORT_CURSOR_SCOPE)
    if last is None:
        reason = "cursor must be one this API returned for the same user's export."
        raise ApiError(ErrorCode.INVALID_PARAMETER, [Detail("cursor", reason)])
    return ExportInput(user_id, last.removeprefix(EXPORT_CURSOR_SCOPE))
