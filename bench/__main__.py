"""`make bench`: cold start, warm overhead, log bytes and DynamoDB requests per call, listing
pages, 100 parallel increments of one key and bcrypt cost, merged with the latest load and
fuzz figures into bench/results.json.

Usage: python -m bench [--deps DIR] [--log-bytes-only | --increments-only]   (the Makefile
installs DIR with the layer's requirements for this machine, the way `sam build` does for
Lambda)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from bench import bcrypt_cost, cold, increments, listing, requests_per_call, warm
from bench.common import FUNCTIONS, WORK_DIR, BenchFunction, bench_context
from bench.results import RESULTS_PATH, measured_at, update_results
from lockbox_local.api import read_app
from lockbox_local.ports import free_port
from lockbox_local.services import LocalServices
from lockbox_local.template import load_template

BENCH_USER_ID = "3f9c2b1e-8d4a-4c6b-9e2f-7a1d5c3b8e60"  # the caller in the data events
BENCH_SESSION_ID = "events-session-0000001"  # the caller's session in the bearer events
BENCH_PASSWORD = "secure_password123"  # noqa: S105 (the password of the events' accounts)
STORED_KEY = "notes"


def lambda_like(environment: dict[str, str]) -> dict[str, str]:
    """The local stack turns tracing and metrics off; in Lambda both are on."""
    return {
        name: value
        for name, value in environment.items()
        if name not in {"POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED"}
    }


# The calls that create something get fresh names in each run's body.
FRESH_NAMES: dict[str, Callable[[str], dict[str, str]]] = {
    "register": lambda unique: {
        "username": f"bench_{unique}",
        "email": f"bench_{unique}@example.com",
    },
    "users_register": lambda unique: {"email": f"member_{unique}@example.com"},
    "store_item": lambda unique: {"key": f"note {unique}"},
}


# The calls that use a mailed link get a live one of an account of their own; forgot gets a
# fresh address, which its rate limit never holds back.
LINK_BODIES: dict[str, Callable[[str], dict[str, str]]] = {
    "verify_email": lambda unique: {"token": bench_link(unique, "verify")},
    "reset_password": lambda unique: {
        "token": bench_link(unique, "reset"),
        "new_password": BENCH_PASSWORD,
    },
    "forgot_password": lambda unique: {"email": f"forgot_{unique}@example.com"},
}
# Calls whose body is made whole for each run.
BODIES: dict[str, Callable[[str], dict[str, str]]] = {
    **LINK_BODIES,
    # The account of register_success.json.
    "users_login": lambda _: {"email": "john.doe@example.com", "password": BENCH_PASSWORD},
    "change_password": lambda _: {
        "current_password": BENCH_PASSWORD,
        "new_password": BENCH_PASSWORD,
    },
    "change_email": lambda unique: {
        "password": BENCH_PASSWORD,
        "new_email": f"moved_{unique}@example.com",
    },
}


class Preparer:
    """Readies each run's event: fresh names where a call creates, stored keys where it needs one."""

    def __init__(self, access_token: str) -> None:
        self.access_token = access_token

    def __call__(self, function: BenchFunction, event: dict[str, Any]) -> dict[str, Any]:
        from lockbox.items import item_records

        unique = uuid.uuid4().hex[:12]
        if function.name in FRESH_NAMES:
            body = json.loads(event["body"])
            body.update(FRESH_NAMES[function.name](unique))
            event["body"] = json.dumps(body)
        elif function.name in {
            "get_item",
            "update_item",
            "patch_item",
            "delete_item",
            "list_items",
            "export_items",
        }:
            item_records.put_new_item(BENCH_USER_ID, STORED_KEY, '{"text":"buy milk"}', None)
        elif function.name == "batch_write":
            event["body"] = fresh_batch(event["body"], unique)
        elif function.name == "token_refresh":
            body = {"refresh_token": start_bench_session(BENCH_USER_ID).refresh_token}
            event["body"] = json.dumps(body)
        elif function.name == "delete_session":
            # A caller of its own, who never ended sessions wholesale, ends another session.
            user_id = str(uuid.uuid4())
            create_bench_account(user_id, f"devices_{unique}")
            caller, other = (start_bench_session(user_id) for _ in range(2))
            event["requestContext"]["authorizer"].update(
                user_id=user_id, principalId=user_id, sid=caller.record.session_id
            )
            event["pathParameters"] = {"session_id": other.record.session_id}
        elif function.name in {"logout", "users_logout"}:
            # Each run ends a session of its own, never the one the other events use.
            session = start_bench_session(BENCH_USER_ID)
            event["requestContext"]["authorizer"]["sid"] = session.record.session_id
        elif function.name in MFA_CALLS:
            event = prepare_mfa_call(function.name, event, unique)
        elif function.name in BODIES:
            event["body"] = json.dumps(BODIES[function.name](unique))
        elif function.name in {"delete_account", "purge_items"}:
            user_id = str(uuid.uuid4())
            if function.name == "delete_account":
                create_bench_account(user_id, f"gone_{unique}")
                # The caller's own live session: a deletion checks it with the profile.
                session_id = start_bench_session(user_id).record.session_id
                event["requestContext"]["authorizer"].update(
                    user_id=user_id, principalId=user_id, sid=session_id
                )
            else:  # one key to purge: a page, its delete, the empty page after it
                item_records.put_new_item(user_id, STORED_KEY, '{"text":"buy milk"}', None)
                event["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] = f"USER#{user_id}"
        return cold.authorizer_event(event, self.access_token)


# The second factor's calls: each run gets an account of its own in the state the call needs.
MFA_CALLS = {"mfa_setup", "mfa_confirm", "mfa_disable", "recovery_codes", "token_mfa"}


def prepare_mfa_call(name: str, event: dict[str, Any], unique: str) -> dict[str, Any]:
    """A fresh account for one run of a second-factor call: without the factor (setup),
    with a setup to confirm (confirm), or with the factor on; the body holds the current
    code (and, for the login's second step, the mfa_token of its password step)."""
    import pyotp

    from lockbox.signing.tokens import issue_mfa_token

    user_id = str(uuid.uuid4())
    username = f"factor_{unique}"
    create_bench_account(user_id, username)
    secret = None if name == "mfa_setup" else enrol_bench_account(user_id, name != "mfa_confirm")
    code = pyotp.TOTP(secret).now() if secret else None
    if name == "token_mfa":
        event["body"] = json.dumps({"mfa_token": issue_mfa_token(user_id, username), "code": code})
        return event
    session_id = start_bench_session(user_id).record.session_id
    event["requestContext"]["authorizer"].update(
        user_id=user_id, principalId=user_id, sid=session_id
    )
    body = {"password": BENCH_PASSWORD} if name != "mfa_confirm" else {}
    event["body"] = json.dumps(body | ({"code": code} if code and name != "mfa_setup" else {}))
    return event


def enrol_bench_account(user_id: str, confirmed: bool) -> str:
    """A setup (and its confirmation, unless `confirmed` is False) written as the calls write
    them (not counted); the secret, for the run's code."""
    from lockbox.accounts.account_records import account_markers, read_account
    from lockbox.mfa import mfa_records, recovery_codes, totp

    secret = totp.new_secret()
    sealed = totp.seal_secret(secret, user_id)
    mfa_records.transact(user_id, mfa_records.put_pending(user_id, sealed), [])
    if confirmed:
        hashes = recovery_codes.code_hashes(recovery_codes.new_codes())
        account = read_account(user_id)
        assert account is not None
        markers = [
            mfa_records.enable_marker(user_id, sealed, hashes).item(pk)
            for pk in account_markers(account)
        ]
        # Step 0 as the last accepted one: the run's current code is unused.
        mfa_records.transact(user_id, mfa_records.enable(sealed, 0, hashes), markers)
    return secret


def fresh_batch(body_text: str, unique: str) -> str:
    """The batch with fresh keys, those its updates and deletes find stored (not counted)."""
    from lockbox.items import item_records

    body = json.loads(body_text)
    for operation in body["operations"]:
        operation["key"] = f"{operation['key']} {unique}"
        if operation["op"] != "store":
            item_records.put_new_item(BENCH_USER_ID, operation["key"], "1", None)
    return json.dumps(body)


def start_bench_session(user_id: str) -> Any:
    """A session of the user, written as a login writes it (not counted)."""
    from lockbox.core import dynamodb
    from lockbox.sessions import session_records
    from lockbox.sessions.session_calls import start_session

    session = start_session(user_id)
    put = session_records.put_session(session.record)
    dynamodb.client().transact_write_items(TransactItems=[put])
    return session


def create_bench_account(user_id: str, username: str) -> None:
    """An account as /api/register writes it, with the events' password."""
    from lockbox.accounts import account_records
    from lockbox.accounts.passwords import hash_password

    account_records.put_user(
        account_records.NewUser(
            user_id=user_id,
            username=username,
            email=f"{username}@example.com",
            password_hash=hash_password(BENCH_PASSWORD),
            created_at="2026-11-27T06:00:00.000+00:00",
            profile={"full_name": "Bench Caller", "age": 30, "gender": "female"},
        )
    )


def bench_link(unique: str, kind: str) -> str:
    """A live link of the kind, of an account of its own, minted as the mail sender mints it."""
    from lockbox.mail import mail_records
    from lockbox.mail.links import LinkKind, new_link

    user_id = str(uuid.uuid4())
    create_bench_account(user_id, f"{kind}_{unique}")
    link = new_link(user_id)
    mail_records.open_link(user_id, LinkKind(kind), link.token_hash, int(time.time()) + 3600)
    return link.token


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--deps", type=Path, default=WORK_DIR / "deps")
    parser.add_argument(
        "--log-bytes-only",
        action="store_true",
        help="measure only the log bytes per call (the cost model's input), keep the rest",
    )
    parser.add_argument(
        "--warm-only",
        action="store_true",
        help="measure only the warm overhead and the log bytes per call, keep the rest",
    )
    parser.add_argument(
        "--increments-only",
        action="store_true",
        help="measure only the 100 parallel increments of one key, keep the rest",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    if args.increments_only:
        update_results({"increments": increments.measure()})
        return

    # DynamoDB Local (in memory, with the template's tables) and the Secrets Manager
    # emulator: the local stack's services, without its gateway and workers.
    services = LocalServices(free_port())
    try:
        services.start_dynamodb()  # Java boots while the template is read
        template = load_template()
        app = read_app(template)
        services.start(template, app.resolver)
        environments = {
            function_id: lambda_like(environment)
            for function_id, environment in services.function_environments(app.functions).items()
        }
        # This process runs the handlers too (requests count, warm overhead): same settings.
        os.environ.update(environments["RegisterFunction"])
        os.environ.update({"POWERTOOLS_TRACE_DISABLED": "true", "BCRYPT_COST": "4"})
        access_token = seed_caller()
        if args.log_bytes_only:
            update_results({"log_bytes_per_call": warm.log_bytes_per_call(access_token)})
            return
        if args.warm_only:
            update_results(
                {
                    "warm_overhead_us": warm.measure(access_token),
                    "log_bytes_per_call": warm.log_bytes_per_call(access_token),
                }
            )
            return
        prepare = Preparer(access_token)

        print("DynamoDB requests per call ...", file=sys.stderr)
        requests = requests_per_call.measure(prepare)
        print("cold starts ...", file=sys.stderr)
        cold_start = cold.measure(
            environments,
            {fid: spec.code_dir for fid, spec in app.functions.items()},
            args.deps,
            environments["RegisterFunction"],
            prepare,
            environments["GetItemFunction"]["ITEMS_TABLE"],
        )
        print("listing pages ...", file=sys.stderr)
        listing_pages = listing.measure(environments["ListItemsFunction"]["ITEMS_TABLE"])
        print("warm overhead ...", file=sys.stderr)
        warm_overhead = warm.measure(access_token)
        print("log bytes per call ...", file=sys.stderr)
        log_bytes = warm.log_bytes_per_call(access_token)
    finally:
        services.stop()

    print("parallel increments ...", file=sys.stderr)
    counter_burst = increments.measure()  # a local stack of its own, after these services
    configured_cost = int(app.resolver.resolve_text({"Ref": "BcryptCost"}))
    print("bcrypt ...", file=sys.stderr)
    # Merged with the figures the load, fuzz and fault targets keep there.
    update_results(
        {
            "cold_start": cold_start,
            "warm_overhead_us": warm_overhead,
            "log_bytes_per_call": log_bytes,
            "dynamodb_requests_per_call": requests,
            "listing": listing_pages,
            "increments": counter_burst,
            "bcrypt_ms": bcrypt_cost.measure(configured_cost),
            "machine": machine(),
            "measured_at": measured_at(),
        }
    )
    print(f"wrote {RESULTS_PATH} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def seed_caller() -> str:
    """Register the account the login events log in with; the bearer events' caller with
    its session; a token of that session."""
    from functions.register.app import lambda_handler as register
    from lockbox.core import dynamodb
    from lockbox.sessions import session_records
    from lockbox.sessions.session_records import NewSession
    from lockbox.signing.tokens import issue_access_token
    from lockbox_local.events import load_event

    context = cast(LambdaContext, bench_context())
    answer = register(load_event("register_success"), context)
    if answer["statusCode"] not in (200, 409):
        raise RuntimeError(f"could not register the benchmark account: {answer['body']}")
    create_bench_account(BENCH_USER_ID, "bench_caller")
    record = NewSession(BENCH_SESSION_ID, BENCH_USER_ID, session_records.now_microseconds(), None)
    dynamodb.client().transact_write_items(TransactItems=[session_records.put_session(record)])
    return issue_access_token(BENCH_USER_ID, BENCH_SESSION_ID)


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.machine(),
        "functions": [function.name for function in FUNCTIONS],
    }


if __name__ == "__main__":
    main()
