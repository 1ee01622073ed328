"""Data access for the users table.

One table holds three kinds of item, each keyed by `pk`:
- `USER#<user_id>`: the profile;
- `USERNAME#<username, lower-cased>` and `EMAIL#<canonical email>`: markers that make
  usernames (case-insensitively) and mailboxes (lockbox.emails.canonical_email) unique, and
  serve as the login records, so a login is a single GetItem.
A registration writes the profile and its markers in one transaction, so either all
of them exist or none does.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lockbox.aws import dynamodb
from lockbox.emails import canonical_email
from lockbox.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_CONFLICT_RETRIES = 8
_CONFLICT_BACKOFF_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class NewUser:
    user_id: str
    email: str
    password_hash: str
    created_at: str
    profile: dict[str, str | int]  # everything else the client may read back
    username: str | None = None  # accounts from /users/register have none


@dataclass(frozen=True, slots=True)
class LoginRecord:
    user_id: str
    password_hash: str


class UsernameTakenError(Exception):
    pass


class EmailTakenError(Exception):
    pass


class RegistrationContendedError(Exception):
    """The transaction kept conflicting with concurrent ones; nothing was written."""


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def username_pk(username: str) -> str:
    return f"USERNAME#{username.lower()}"


def email_pk(email: str) -> str:
    return f"EMAIL#{canonical_email(email)}"


def login_pk(login: str) -> str:
    """The marker to read for a login name: an email address, or else a username."""
    return email_pk(login) if "@" in login else username_pk(login)


def create_user(user: NewUser) -> None:
    """Write the profile and its markers atomically; raise if the username or email is taken."""
    table = get_settings().users_table
    profile: dict[str, Any] = {
        "pk": {"S": user_pk(user.user_id)},
        "user_id": {"S": user.user_id},
        "email": {"S": user.email},
        "created_at": {"S": user.created_at},
        **{name: _attribute(value) for name, value in user.profile.items()},
    }
    if user.username is not None:
        profile["username"] = {"S": user.username}
    login = {
        "user_id": {"S": user.user_id},
        "password_hash": {"S": user.password_hash},
        "created_at": {"S": user.created_at},
    }
    markers = [email_pk(user.email)]
    if user.username is not None:
        markers.insert(0, username_pk(user.username))
    items: list[TransactWriteItemTypeDef] = [_put_if_absent(table, profile)]
    items += [_put_if_absent(table, {"pk": {"S": pk}, **login}) for pk in markers]
    _transact_with_retries(items, markers)


def find_login(login: str) -> LoginRecord | None:
    """The login record for a username or email (case-insensitive), or None."""
    response = dynamodb().get_item(
        TableName=get_settings().users_table,
        Key={"pk": {"S": login_pk(login)}},
        ProjectionExpression="user_id, password_hash",
        ConsistentRead=True,  # a token right after registration must find the account
    )
    item = response.get("Item")
    if item is None:
        return None
    return LoginRecord(user_id=item["user_id"]["S"], password_hash=item["password_hash"]["S"])


def _attribute(value: str | int) -> dict[str, str]:
    return {"N": str(value)} if isinstance(value, int) else {"S": value}


def _put_if_absent(table: str, item: dict[str, Any]) -> TransactWriteItemTypeDef:
    return {
        "Put": {
            "TableName": table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def _transact_with_retries(items: list[TransactWriteItemTypeDef], markers: list[str]) -> None:
    client = dynamodb()
    for attempt in range(_CONFLICT_RETRIES + 1):
        try:
            # The token makes botocore's own retry of a committed transaction (its answer
            # lost) succeed again instead of failing on the markers it wrote itself.
            client.transact_write_items(TransactItems=items, ClientRequestToken=uuid.uuid4().hex)
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
            _raise_if_taken(reasons, markers)
            if "TransactionConflict" not in reasons or attempt == _CONFLICT_RETRIES:
                raise RegistrationContendedError(",".join(reasons)) from None
        # Another registration holds one of our markers; it will commit or fail shortly.
        time.sleep(_CONFLICT_BACKOFF_SECONDS * (attempt + 1) * random.uniform(0.5, 1.5))  # noqa: S311 (jitter, not crypto)


def _raise_if_taken(reasons: list[str], markers: list[str]) -> None:
    # Reasons come in the order of the items: the profile first, then the markers.
    for pk, reason in zip(markers, reasons[1:], strict=False):
        if reason == "ConditionalCheckFailed":
            raise (UsernameTakenError if pk.startswith("USERNAME#") else EmailTakenError)()
