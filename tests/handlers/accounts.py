"""The account calls of the handler suite: the sample account of events/register_success.json,
registered through the register function."""

from __future__ import annotations

from typing import Any

from tests.handlers.calls import Answer, call, handler, with_body

# The account of events/register_success.json.
USER: dict[str, Any] = {
    "username": "johndoe",
    "email": "john.doe@example.com",
    "password": "secure_password123",
    "full_name": "John Doe",
    "age": 30,
    "gender": "male",
}


def register(context: Any, **changes: Any) -> Answer:
    return call(handler("register"), with_body("register_success", {**USER, **changes}), context)


def set_on_profile(client: Any, user_id: str, name: str, value: dict[str, Any]) -> None:
    """Set one attribute of the user's profile in moto (a link's expiry, a flag)."""
    client.update_item(
        TableName="UsersTable",
        Key={"pk": {"S": f"USER#{user_id}"}},
        UpdateExpression="SET #name = :value",
        ExpressionAttributeNames={"#name": name},
        ExpressionAttributeValues={":value": value},
    )
