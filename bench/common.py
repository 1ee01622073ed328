"""What the benchmarks share: the functions under test, their event files, and the
Lambda context their direct calls pass (lockbox_local's one LambdaContext)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lockbox_local.worker import LambdaContext

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = PROJECT_ROOT / "bench" / ".work"
TOKEN_PLACEHOLDER = "{{ACCESS_TOKEN}}"  # noqa: S105 (a placeholder in events/)
REFRESH_PLACEHOLDER = "{{REFRESH_TOKEN}}"


@dataclass(frozen=True, slots=True)
class BenchFunction:
    name: str  # the key in results.json
    logical_id: str  # the template's resource
    module: str  # the handler module, importable with the project's PYTHONPATH
    event: str  # events/<event>.json


FUNCTIONS = (
    BenchFunction("register", "RegisterFunction", "functions.register.app", "register_success"),
    BenchFunction("token", "TokenFunction", "functions.token.app", "token_success"),
    BenchFunction(
        "store_item", "StoreItemFunction", "functions.store_item.app", "store_item_success"
    ),
    BenchFunction("get_item", "GetItemFunction", "functions.get_item.app", "get_item_success"),
    BenchFunction(
        "update_item", "UpdateItemFunction", "functions.update_item.app", "update_item_success"
    ),
    BenchFunction(
        "delete_item", "DeleteItemFunction", "functions.delete_item.app", "delete_item_success"
    ),
    BenchFunction(
        "list_items", "ListItemsFunction", "functions.list_items.app", "list_items_prefix"
    ),
    BenchFunction(
        "authorizer", "AuthorizerFunction", "functions.authorizer.app", "authorizer_valid"
    ),
    BenchFunction(
        "users_register",
        "UsersRegisterFunction",
        "functions.users_register.app",
        "users_register_success",
    ),
    BenchFunction(
        "token_refresh",
        "TokenRefreshFunction",
        "functions.token_refresh.app",
        "token_refresh_success",
    ),
    BenchFunction("logout", "LogoutFunction", "functions.logout.app", "logout_success"),
    BenchFunction(
        "users_login", "UsersLoginFunction", "functions.users_login.app", "users_login_success"
    ),
    BenchFunction(
        "users_profile",
        "UsersProfileFunction",
        "functions.users_profile.app",
        "users_profile_success",
    ),
    BenchFunction(
        "users_logout", "UsersLogoutFunction", "functions.users_logout.app", "users_logout_success"
    ),
    BenchFunction(
        "get_account", "GetAccountFunction", "functions.get_account.app", "get_account_success"
    ),
    BenchFunction(
        "change_password",
        "ChangePasswordFunction",
        "functions.change_password.app",
        "change_password_success",
    ),
    BenchFunction(
        "delete_account",
        "DeleteAccountFunction",
        "functions.delete_account.app",
        "delete_account_success",
    ),
    BenchFunction(
        "purge_items", "PurgeItemsFunction", "functions.purge_items.app", "purge_items_deleted_user"
    ),
)


def bench_context() -> LambdaContext:
    """The context a benchmark passes when it calls a handler itself."""
    return LambdaContext.for_function("bench", memory_mb=1024)
