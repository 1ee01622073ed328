"""`make fault`: stop DynamoDB Local in the middle of a burst of registrations and stores,
start it again on the same port and data directory, and check what clients saw and what
the tables hold.

Timeline: client threads send registrations (both flavours) and stores continuously;
after `before_s` seconds DynamoDB Local's java process is sent SIGTERM (the JVM closes
its database and exits within half a second) or, with --signal kill, SIGKILL (a crash);
`outage_s` seconds later it is started again and waited for. A second later it is frozen
(SIGSTOP) for `freeze_s` seconds, longer than the functions' 2 s read timeout: attempts
whose write lands but whose answer times out are retried by the SDK, and a retried
conditional write must not then fail on its own first attempt. The burst goes on for
`after_s` seconds after that.

Then the deletes phase: fresh client threads send DELETEs of keys that never existed,
DELETEs of keys they stored beforehand, and stores of fresh keys, while DynamoDB Local
is frozen `delete_freezes` times for `delete_freeze_s` seconds each (longer than the 2 s
read timeout, so botocore retries the attempts the freeze caught). The contract: a
retry never changes an answer. A DELETE of a key that never existed answers 404
KEY_NOT_FOUND or 500, never 200; a DELETE of an existing key answers 200 or 500, and
after a 200 the key is gone (after a 500 either state is allowed: a GET tells which, and
it is counted); a store answers 200 (then the value reads back) or 500, never 409 for
its own fresh key.

Checks on every response: the status is the success one or 500 with the exact
INTERNAL_ERROR body (the /users/register server-fault body for that route), it is JSON
with Content-Type application/json (never a stack trace or HTML), and it came back within
the function timeout. Requests that overlap neither the outage nor the freeze must have
succeeded. Then the tables are scanned directly: every profile
has its markers, every marker its profile, every item all its attributes; every
registration that answered success exists, and every store that did reads back.

Under SIGKILL, DynamoDB Local itself can lose a TransactWriteItems it acknowledged a few
milliseconds before it died (measured apart from this project: PutItem never, a
transaction now and then). Such a registration, answered within CRASH_WINDOW_SECONDS of
the kill and absent afterwards, is counted as lost in the crash, not as a problem.

Usage: python -m bench.fault [--threads 6] [--before 3] [--outage 5] [--freeze 2.5]
                             [--after 5] [--signal term|kill] [--delete-threads 9]
                             [--delete-freezes 3] [--delete-freeze 2.4]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from bench.local_target import (
    BCRYPT_COST,
    Account,
    new_session,
    register_account,
    registration_body,
    running_stack,
    stack_options,
    table_names,
)
from bench.results import record_results
from lockbox_local.dynamodb_local import DynamoDBLocal
from lockbox_local.stack import LocalStack
from lockbox_local.template import PROJECT_ROOT

WORK_DIR = PROJECT_ROOT / "bench" / ".work" / "fault"
CLIENT_TIMEOUT_SECONDS = 30.0  # well past the function timeout: a hang shows as slow, not lost
CRASH_WINDOW_SECONDS = 0.05
SETTLE_SECONDS = 1.0  # between the restart and the freeze: each fault seen on its own
SIGNALS = {"term": signal.SIGTERM, "kill": signal.SIGKILL}
MEMBER_PASSWORD = "member-password-1"  # noqa: S105 (throwaway local accounts)
# The contract's 500 bodies, exactly.
INTERNAL_ERROR = {
    "status": "error",
    "code": "INTERNAL_ERROR",
    "message": "An internal server error occurred. Please try again later.",
}
SIGNUP_SERVER_ERROR = {"errors": [{"msg": INTERNAL_ERROR["message"], "location": "server"}]}
KEY_NOT_FOUND = {
    "status": "error",
    "code": "KEY_NOT_FOUND",
    "message": "The provided key does not exist in the database.",
}
# Each kind of request: its function (for the timeout) and its success status.
KINDS = {
    "register": ("RegisterFunction", 200),
    "signup": ("UsersRegisterFunction", 201),
    "store": ("StoreItemFunction", 200),
    "delete": ("DeleteItemFunction", 200),  # of a key stored beforehand
    "delete_missing": ("DeleteItemFunction", 404),  # of a key that never existed
}
ROTATION = ("register", "store", "signup", "store")  # stores are the common case
# The deletes phase: each thread sends one kind of request (round robin over threads).
DELETE_ROTATIONS = (("delete_missing",), ("delete",), ("store",))
DELETE_FREEZE_SECONDS = 2.4  # longer than the functions' 2 s read timeout: retries happen
DELETE_LEAD_SECONDS = 0.5  # requests flowing before each freeze, so some are caught by it
DELETE_PACE_SECONDS = 0.02  # between one thread's requests: bounds the keys it needs
KEYS_PER_DELETE_THREAD = 150  # stored before the phase; more than a thread can delete
WORKERS_PER_FUNCTION = 8  # every delete thread gets a worker: in flight, not queued


@dataclass(slots=True)
class Exchange:
    """One request of the burst and what came back."""

    kind: str
    started: float  # monotonic seconds
    ended: float
    status: int  # 0: no answer at all (connection error or client timeout)
    content_type: str
    text: str
    detail: dict[str, Any]  # what to look for afterwards: username/email, or key/value
    account: Account

    @property
    def elapsed(self) -> float:
        return self.ended - self.started

    @property
    def succeeded(self) -> bool:
        return self.status == KINDS[self.kind][1]


@dataclass(frozen=True, slots=True)
class Timeline:
    stopped: float  # the signal was sent
    ready: float  # java started again and answering
    frozen: float  # SIGSTOP
    thawed: float  # SIGCONT
    delete_freezes: tuple[tuple[float, float], ...] = ()  # the deletes phase's (SIGSTOP, SIGCONT)

    def overlaps_fault(self, exchange: Exchange) -> bool:
        windows = ((self.stopped, self.ready), (self.frozen, self.thawed), *self.delete_freezes)
        return any(exchange.started <= end and exchange.ended >= start for start, end in windows)

    def overlaps_delete_freeze(self, exchange: Exchange) -> bool:
        return any(
            exchange.started <= end and exchange.ended >= start
            for start, end in self.delete_freezes
        )


@dataclass(slots=True)
class FaultReport:
    stop_signal: str
    requests: int = 0
    succeeded: int = 0
    outage_errors: int = 0  # 500 INTERNAL_ERROR answers
    max_latency_s: float = 0.0
    outage_s: float = 0.0  # from the stop until DynamoDB Local answered again
    freeze_s: float = 0.0
    users: int = 0
    markers: int = 0
    items: int = 0
    # Stores that answered 500 yet were written: allowed (the write landed, the answer
    # did not), counted for the record.
    written_despite_500: int = 0
    # A store answered 409 KEY_EXISTS for a fresh key that holds the very value it sent:
    # its first attempt was written, the answer timed out, and the SDK's retry met it.
    # The contract wants 200 or 500: a problem, and also counted apart.
    own_write_conflicts: int = 0
    lost_in_crash: int = 0  # see the module's docstring (SIGKILL only)
    # The deletes phase (each "in_freeze" figure counts requests overlapping a freeze).
    delete_freezes: int = 0
    delete_freeze_s: float = 0.0
    missing_key_deletes: int = 0
    missing_key_deletes_in_freeze: int = 0
    missing_key_deletes_answered_200: int = 0  # the contract forbids every one of them
    existing_key_deletes: int = 0
    existing_key_deletes_in_freeze: int = 0
    existing_key_deletes_500_key_kept: int = 0
    existing_key_deletes_500_key_gone: int = 0
    stores_in_delete_freeze: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.problems

    def figures(self) -> dict[str, Any]:
        """What bench/results.json keeps under "fault"."""
        return {
            "requests": self.requests,
            "succeeded": self.succeeded,
            "outage_errors": self.outage_errors,
            "max_latency_s": round(self.max_latency_s, 2),
            "outage_s": round(self.outage_s, 1),
            "freeze_s": round(self.freeze_s, 1),
            "stop_signal": self.stop_signal,
            "users_checked": self.users,
            "markers_checked": self.markers,
            "items_checked": self.items,
            "problems": len(self.problems),
            "consistent": self.consistent,
            "stores_written_despite_500": self.written_despite_500,
            "store_409_for_own_retried_write": self.own_write_conflicts,
            "acknowledged_writes_lost_in_crash": self.lost_in_crash,
            "delete_freezes": self.delete_freezes,
            "delete_freeze_s": round(self.delete_freeze_s, 1),
            "missing_key_deletes": self.missing_key_deletes,
            "missing_key_deletes_in_freeze": self.missing_key_deletes_in_freeze,
            "missing_key_deletes_answered_200": self.missing_key_deletes_answered_200,
            "existing_key_deletes": self.existing_key_deletes,
            "existing_key_deletes_in_freeze": self.existing_key_deletes_in_freeze,
            "existing_key_deletes_500_key_kept": self.existing_key_deletes_500_key_kept,
            "existing_key_deletes_500_key_gone": self.existing_key_deletes_500_key_gone,
            "stores_in_delete_freeze": self.stores_in_delete_freeze,
            "bcrypt_cost": BCRYPT_COST,
        }


class Burst:
    """Client threads sending their rotation of requests until stopped: thread n uses
    accounts[n % len(accounts)] and rotations[n % len(rotations)]. A "delete" takes the
    next of the thread's stored keys (`keys[n]`); without one left the thread stops."""

    def __init__(
        self,
        base_url: str,
        accounts: list[Account],
        *,
        threads: int | None = None,
        rotations: tuple[tuple[str, ...], ...] = (ROTATION,),
        keys: list[list[str]] | None = None,
        pace_s: float = 0.0,
    ) -> None:
        self._base_url = base_url
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pace_s = pace_s
        self._keys = keys or []
        self.exchanges: list[Exchange] = []
        self._threads = [
            threading.Thread(
                target=self._run,
                args=(n, accounts[n % len(accounts)], rotations[n % len(rotations)]),
                name=f"burst-{n}",
                daemon=True,
            )
            for n in range(threads if threads is not None else len(accounts))
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(CLIENT_TIMEOUT_SECONDS + 5)

    def _run(self, number: int, account: Account, rotation: tuple[str, ...]) -> None:
        session = new_session()
        keys = list(reversed(self._keys[number])) if number < len(self._keys) else []
        turn = 0
        while not self._stop.is_set():
            kind = rotation[turn % len(rotation)]
            turn += 1
            if kind == "delete" and not keys:
                return  # every stored key used up
            exchange = self._send(session, account, kind, keys.pop() if kind == "delete" else "")
            with self._lock:
                self.exchanges.append(exchange)
            if self._pace_s:
                self._stop.wait(self._pace_s)

    def _send(
        self, session: requests.Session, account: Account, kind: str, stored_key: str = ""
    ) -> Exchange:
        method, url, body, detail = self._request(kind, stored_key)
        authorized = kind in {"store", "delete", "delete_missing"}
        headers = {"Authorization": f"Bearer {account.token}"} if authorized else {}
        started = time.monotonic()
        try:
            answer = session.request(
                method, url, json=body, headers=headers, timeout=CLIENT_TIMEOUT_SECONDS
            )
            status, text = answer.status_code, answer.text
            content_type = answer.headers.get("Content-Type", "")
        except requests.RequestException as error:
            status, content_type, text = 0, "", f"{type(error).__name__}: {error}"
        ended = time.monotonic()
        return Exchange(kind, started, ended, status, content_type, text, detail, account)

    def _request(
        self, kind: str, stored_key: str = ""
    ) -> tuple[str, str, dict[str, Any] | None, dict[str, Any]]:
        """Method, URL, JSON body and what to check afterwards, for one request."""
        unique = uuid.uuid4().hex[:16]
        if kind in {"delete", "delete_missing"}:
            key = stored_key or f"never stored {unique}"
            return "DELETE", data_url(self._base_url, key), None, {"key": key}
        if kind == "register":
            body = registration_body("fault")
            detail = {"username": body["username"], "email": body["email"]}
            return "POST", f"{self._base_url}/api/register", body, detail
        if kind == "signup":
            email = f"member_{unique}@example.com"
            body = {
                "fullname": {"firstname": "Fault", "lastname": "Tolerant"},
                "email": email,
                "password": MEMBER_PASSWORD,
            }
            return "POST", f"{self._base_url}/users/register", body, {"email": email}
        detail = {"key": f"fault key {unique}", "value": {"written": unique, "list": [1, 2, 3]}}
        return "POST", f"{self._base_url}/api/data", detail, detail


def data_url(base_url: str, key: str) -> str:
    return f"{base_url}/api/data/{quote(key, safe='')}"


def run_fault(
    threads: int = 6,
    before_s: float = 3.0,
    outage_s: float = 5.0,
    freeze_s: float = 2.5,
    after_s: float = 5.0,
    stop_signal: str = "term",
    work_dir: Path = WORK_DIR,
    log_path: Path | None = None,
    delete_threads: int = 9,
    delete_freezes: int = 3,
    delete_freeze_s: float = DELETE_FREEZE_SECONDS,
) -> FaultReport:
    work_dir.mkdir(parents=True, exist_ok=True)
    report = FaultReport(stop_signal=SIGNALS[stop_signal].name)
    # A fresh data dir each run: the checks cover every item, so nothing older may be there.
    with tempfile.TemporaryDirectory(prefix="data-", dir=work_dir) as data_dir:
        options = stack_options(
            data_dir=Path(data_dir),
            function_log=log_path,
            workers_per_function=WORKERS_PER_FUNCTION,
        )
        with running_stack(options) as stack:
            session = new_session()
            accounts = [register_account(session, stack.url, "faulty") for _ in range(threads)]
            burst = Burst(stack.url, accounts)
            burst.start()
            try:
                time.sleep(before_s)
                stopped, ready = restart_dynamodb(stack, SIGNALS[stop_signal], outage_s)
                time.sleep(SETTLE_SECONDS)
                frozen, thawed = freeze_dynamodb(stack, freeze_s)
                time.sleep(after_s)
            finally:
                burst.stop()
            deletes, windows = run_deletes_phase(
                stack.url, accounts, delete_threads, delete_freezes, delete_freeze_s, stack
            )
            exchanges = burst.exchanges + deletes.exchanges
            timeline = Timeline(stopped, ready, frozen, thawed, delete_freezes=tuple(windows))
            report.outage_s, report.freeze_s = ready - stopped, thawed - frozen
            report.delete_freezes = len(windows)
            report.delete_freeze_s = max((end - start for start, end in windows), default=0.0)
            crash = stop_signal == "kill"
            check_answers(report, exchanges, timeline, stack)
            check_tables(report, stack, exchanges, timeline, crash)
            check_reads(report, exchanges, stack.url, timeline, crash)
            check_deletes(report, deletes.exchanges, stack.url, timeline)
    return report


def run_deletes_phase(
    base_url: str,
    accounts: list[Account],
    threads: int,
    freezes: int,
    freeze_s: float,
    stack: LocalStack,
) -> tuple[Burst, list[tuple[float, float]]]:
    """DELETEs of missing and of stored keys, and stores, through `freezes` freezes."""
    if threads <= 0 or freezes <= 0:
        return Burst(base_url, accounts, threads=0), []
    rotations = DELETE_ROTATIONS
    with ThreadPoolExecutor(threads) as pool:
        keys = list(
            pool.map(
                lambda n: (
                    store_keys(base_url, accounts[n % len(accounts)], KEYS_PER_DELETE_THREAD)
                    if rotations[n % len(rotations)] == ("delete",)
                    else []
                ),
                range(threads),
            )
        )
    burst = Burst(
        base_url,
        accounts,
        threads=threads,
        rotations=rotations,
        keys=keys,
        pace_s=DELETE_PACE_SECONDS,
    )
    windows: list[tuple[float, float]] = []
    burst.start()
    try:
        for _ in range(freezes):
            time.sleep(DELETE_LEAD_SECONDS)
            windows.append(freeze_dynamodb(stack, freeze_s))
        time.sleep(SETTLE_SECONDS)
    finally:
        burst.stop()
    return burst, windows


def store_keys(base_url: str, account: Account, count: int) -> list[str]:
    """Store `count` fresh keys for the account (before any freeze); their names."""
    session = new_session()
    keys = [f"to delete {uuid.uuid4().hex[:16]}" for _ in range(count)]
    for key in keys:
        answer = session.post(
            f"{base_url}/api/data",
            json={"key": key, "value": {"to": "delete"}},
            headers={"Authorization": f"Bearer {account.token}"},
            timeout=CLIENT_TIMEOUT_SECONDS,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"could not store {key!r}: {answer.status_code} {answer.text}")
    return keys


def _dynamodb(stack: LocalStack) -> DynamoDBLocal:
    if stack.services is None:
        raise RuntimeError("the local stack is not running")
    return stack.services.dynamodb


def _java_pid(stack: LocalStack) -> int:
    pid = _dynamodb(stack).pid
    if pid is None:
        raise RuntimeError("DynamoDB Local is not running")
    return pid


def restart_dynamodb(
    stack: LocalStack, stop_signal: signal.Signals, outage_s: float
) -> tuple[float, float]:
    """Signal DynamoDB Local's java, wait, start it again on the same port and data dir.

    Returns when it was signalled and when it answered again (monotonic seconds).
    """
    pid = _java_pid(stack)
    dynamodb = _dynamodb(stack)
    stopped = time.monotonic()
    os.kill(pid, stop_signal)
    dynamodb.stop()  # waits for the exit (and reaps the process)
    time.sleep(outage_s)
    dynamodb.start()  # the same port and -dbPath: the object keeps both
    dynamodb.wait_ready()
    return stopped, time.monotonic()


def freeze_dynamodb(stack: LocalStack, freeze_s: float) -> tuple[float, float]:
    """SIGSTOP DynamoDB Local's java for freeze_s seconds: requests reach it, answers don't."""
    pid = _java_pid(stack)
    frozen = time.monotonic()
    if freeze_s > 0:
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(freeze_s)
        finally:
            os.kill(pid, signal.SIGCONT)
    return frozen, time.monotonic()


def _when(exchange: Exchange, timeline: Timeline) -> str:
    started, ended = exchange.started - timeline.stopped, exchange.ended - timeline.stopped
    return f"{exchange.kind} sent at {started:+.3f} s, answered at {ended:+.3f} s from the stop"


def check_answers(
    report: FaultReport, exchanges: list[Exchange], timeline: Timeline, stack: LocalStack
) -> None:
    """Each answer: success or the exact 500 envelope, JSON, within the function timeout."""
    assert stack.app is not None
    report.requests = len(exchanges)
    for exchange in exchanges:
        timeout = stack.app.functions[KINDS[exchange.kind][0]].timeout_seconds
        report.max_latency_s = max(report.max_latency_s, exchange.elapsed)
        where = _when(exchange, timeline)
        if exchange.elapsed >= timeout:
            report.problems.append(f"{where}: took {exchange.elapsed:.1f} s (timeout {timeout:g})")
        if exchange.kind == "delete_missing" and exchange.status == 200:
            report.missing_key_deletes_answered_200 += 1
            report.problems.append(
                f"{where}: DELETE of {exchange.detail['key']!r}, a key that never existed, "
                f"answered 200 {exchange.text[:200]} (a retry changed the answer: "
                "KEY_NOT_FOUND or 500 only)"
            )
            continue
        if exchange.succeeded:
            report.succeeded += 1
        elif exchange.status == 500:
            report.outage_errors += 1
            if not timeline.overlaps_fault(exchange):
                report.problems.append(f"{where}: 500 while DynamoDB Local was up")
        elif exchange.kind == "store" and exchange.status == 409:
            pass  # a fresh key: check_reads tells a retried own write from a real clash
        else:
            report.problems.append(f"{where}: {exchange.status} {exchange.text[:300]}")
            continue
        problem = _body_problem(exchange)
        if problem:
            report.problems.append(f"{where}: {problem}")


def _body_problem(exchange: Exchange) -> str | None:
    if exchange.content_type.split(";")[0].strip() != "application/json":
        return f"Content-Type {exchange.content_type!r}: {exchange.text[:300]}"
    try:
        body = json.loads(exchange.text)
    except ValueError:
        return f"not JSON: {exchange.text[:300]}"
    if exchange.kind == "delete_missing" and exchange.status == 404:
        return None if body == KEY_NOT_FOUND else f"404 body {exchange.text[:300]}"
    if exchange.status != 500:
        return None
    expected = SIGNUP_SERVER_ERROR if exchange.kind == "signup" else INTERNAL_ERROR
    return None if body == expected else f"500 body {exchange.text[:300]}"


def _lost_in_crash(exchange: Exchange, timeline: Timeline, crash: bool) -> bool:
    return crash and exchange.ended >= timeline.stopped - CRASH_WINDOW_SECONDS


def _scan(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return items


def check_tables(
    report: FaultReport,
    stack: LocalStack,
    exchanges: list[Exchange],
    timeline: Timeline,
    crash: bool,
) -> None:
    """Every profile has its markers, every marker its profile, no item is half-written,
    and every registration that answered success is there."""
    assert stack.services is not None
    client = stack.services.dynamodb_client()
    users_table, items_table = table_names(stack)
    by_pk = {item["pk"]["S"]: item for item in _scan(client, users_table)}
    profiles = {pk: item for pk, item in by_pk.items() if pk.startswith("USER#")}
    sessions = {pk: item for pk, item in by_pk.items() if pk.startswith("SESSION#")}
    events = {pk: item for pk, item in by_pk.items() if pk.startswith("EVENT#")}
    # Mail requests: a registration's verification mail, written in its transaction.
    mails = {pk: item for pk, item in by_pk.items() if pk.startswith("MAIL#")}
    markers = {
        pk: item
        for pk, item in by_pk.items()
        if not any(pk in kind for kind in (profiles, sessions, events, mails))
    }
    report.users, report.markers = len(profiles), len(markers)
    for pk, profile in profiles.items():
        report.problems.extend(_profile_problems(pk, profile, markers))
    for pk, marker in markers.items():
        report.problems.extend(_marker_problems(pk, marker, profiles))
    report.problems.extend(_session_and_event_problems(sessions, events, profiles))
    report.problems.extend(_mail_request_problems(mails, profiles))
    items = _scan(client, items_table)
    report.items = len(items)
    for item in items:
        if not {"value", "created_at", "updated_at"} <= item.keys():
            report.problems.append(f"item {item['key']['S']!r}: half-written: {sorted(item)}")
    for exchange in exchanges:
        if exchange.kind not in {"register", "signup"} or not exchange.succeeded:
            continue
        data = json.loads(exchange.text)
        user_id = data["data"]["user_id"] if exchange.kind == "register" else data["user"]["_id"]
        if f"USER#{user_id}" in profiles:
            continue
        what = f"{_when(exchange, timeline)}: answered success, yet {user_id} is absent"
        if _lost_in_crash(exchange, timeline, crash):
            report.lost_in_crash += 1
            report.notes.append(f"lost in DynamoDB Local's crash: {what}")
        else:
            report.problems.append(what)


def _session_and_event_problems(
    sessions: dict[str, dict[str, Any]],
    events: dict[str, dict[str, Any]],
    profiles: dict[str, dict[str, Any]],
) -> list[str]:
    """Sessions are written with their login or registration, whole, for an account;
    activity events with the change they record, whole (an event outlives its account)."""
    problems = []
    for pk, session in sessions.items():
        if not {"user_id", "created_at", "expires_at"} <= session.keys():
            problems.append(f"{pk}: session lacks attributes: {sorted(session)}")
        elif f"USER#{session['user_id']['S']}" not in profiles:
            problems.append(f"{pk}: a session of no account")
    for pk, event in events.items():
        if not {"owner", "ordered_at", "event", "expires_at"} <= event.keys():
            problems.append(f"{pk}: event lacks attributes: {sorted(event)}")
    return problems


def _mail_request_problems(
    mails: dict[str, dict[str, Any]], profiles: dict[str, dict[str, Any]]
) -> list[str]:
    """A verification request is whole and its account's, as its registration wrote both."""
    problems = []
    for pk, mail in mails.items():
        if not {"user_id", "request_id", "requested_at", "expires_at"} <= mail.keys():
            problems.append(f"{pk}: mail request lacks attributes: {sorted(mail)}")
        elif f"USER#{mail['user_id']['S']}" not in profiles:
            problems.append(f"{pk}: a verification request of no account")
    return problems


def _profile_problems(
    pk: str, profile: dict[str, Any], markers: dict[str, dict[str, Any]]
) -> list[str]:
    if not {"user_id", "email", "created_at"} <= profile.keys():
        return [f"{pk}: profile lacks attributes: {sorted(profile)}"]
    wanted = [f"EMAIL#{profile['email']['S'].lower()}"]
    if "username" in profile:
        wanted.append(f"USERNAME#{profile['username']['S'].lower()}")
    user_id = pk.removeprefix("USER#")
    return [
        f"{pk}: marker {marker_pk} missing or not its own"
        for marker_pk in wanted
        if markers.get(marker_pk, {}).get("user_id", {}).get("S") != user_id
    ]


def _marker_problems(
    pk: str, marker: dict[str, Any], profiles: dict[str, dict[str, Any]]
) -> list[str]:
    if not {"user_id", "password_hash", "created_at"} <= marker.keys():
        return [f"{pk}: marker lacks attributes: {sorted(marker)}"]
    kind, _, name = pk.partition("#")
    attribute = {"EMAIL": "email", "USERNAME": "username"}.get(kind)
    if attribute is None:
        return [f"{pk}: an item of no known kind"]
    profile = profiles.get(f"USER#{marker['user_id']['S']}")
    if profile is None or profile.get(attribute, {}).get("S", "").lower() != name:
        return [f"{pk}: its profile is missing or has another {attribute}"]
    return []


def check_reads(
    report: FaultReport,
    exchanges: list[Exchange],
    base_url: str,
    timeline: Timeline,
    crash: bool,
) -> None:
    """Every store that answered success reads back with the value it sent; so does each
    one that answered 409 (else that 409 is a problem); one that answered 500 may or may
    not have been written (its first attempt can land before the answer is lost)."""
    session = new_session()
    for exchange in exchanges:
        if exchange.kind != "store" or exchange.status not in (200, 409, 500):
            continue
        key, value = exchange.detail["key"], exchange.detail["value"]
        answer = session.get(
            f"{base_url}/api/data/{quote(key, safe='')}",
            headers={"Authorization": f"Bearer {exchange.account.token}"},
            timeout=CLIENT_TIMEOUT_SECONDS,
        )
        written = answer.status_code == 200 and answer.json()["data"]["value"] == value
        missing = answer.status_code == 404
        where = _when(exchange, timeline)
        if exchange.status == 200 and missing and _lost_in_crash(exchange, timeline, crash):
            report.lost_in_crash += 1
            report.notes.append(f"lost in DynamoDB Local's crash: {where}: {key!r}")
        elif exchange.status == 200 and not written:
            report.problems.append(f"{where}: {key!r} later {answer.status_code} {answer.text}")
        elif exchange.status == 500 and written:
            report.written_despite_500 += 1
        elif exchange.status == 500 and not missing:
            report.problems.append(f"{where}: {key!r} later {answer.status_code} {answer.text}")
        elif exchange.status == 409 and written:
            report.own_write_conflicts += 1
            report.problems.append(
                f"{where}: POST /api/data {json.dumps(exchange.detail)} -> 409 "
                f"{exchange.text}, yet the key holds exactly the value sent (a retried "
                "attempt met its own first write)"
            )
        elif exchange.status == 409:
            report.problems.append(f"{where}: 409, yet {key!r} later {answer.status_code}")


def check_deletes(
    report: FaultReport, exchanges: list[Exchange], base_url: str, timeline: Timeline
) -> None:
    """After each DELETE of a stored key: a 200 left it gone; a 500 may have either way
    (counted). Also counts what the freezes caught (check_answers judged each status)."""
    session = new_session()
    for exchange in exchanges:
        in_freeze = timeline.overlaps_delete_freeze(exchange)
        if exchange.kind == "store":
            report.stores_in_delete_freeze += in_freeze
        elif exchange.kind == "delete_missing":
            report.missing_key_deletes += 1
            report.missing_key_deletes_in_freeze += in_freeze
        elif exchange.kind == "delete":
            report.existing_key_deletes += 1
            report.existing_key_deletes_in_freeze += in_freeze
            if exchange.status not in (200, 500):
                continue  # already a problem (check_answers)
            key = exchange.detail["key"]
            answer = session.get(
                data_url(base_url, key),
                headers={"Authorization": f"Bearer {exchange.account.token}"},
                timeout=CLIENT_TIMEOUT_SECONDS,
            )
            gone = answer.status_code == 404
            if not gone and answer.status_code != 200:
                report.problems.append(
                    f"{_when(exchange, timeline)}: GET {key!r} after its DELETE answered "
                    f"{answer.status_code} {answer.text[:200]}"
                )
            elif exchange.status == 200 and not gone:
                report.problems.append(
                    f"{_when(exchange, timeline)}: DELETE {key!r} answered 200, yet the key "
                    "is still there"
                )
            elif exchange.status == 500 and gone:
                report.existing_key_deletes_500_key_gone += 1
            elif exchange.status == 500:
                report.existing_key_deletes_500_key_kept += 1


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fault",
        description="Stop DynamoDB Local mid-burst, start it again, check answers and data.",
    )
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--before", type=float, default=3.0, help="seconds before the stop")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds DynamoDB is down")
    parser.add_argument("--freeze", type=float, default=2.5, help="seconds it is frozen")
    parser.add_argument("--after", type=float, default=5.0, help="seconds after the freeze")
    parser.add_argument("--signal", choices=sorted(SIGNALS), default="term")
    parser.add_argument(
        "--delete-threads", type=int, default=9, help="client threads of the deletes phase"
    )
    parser.add_argument(
        "--delete-freezes", type=int, default=3, help="freezes during the deletes phase"
    )
    parser.add_argument(
        "--delete-freeze",
        type=float,
        default=DELETE_FREEZE_SECONDS,
        help="seconds each of those freezes lasts",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    report = run_fault(
        args.threads,
        args.before,
        args.outage,
        args.freeze,
        args.after,
        stop_signal=args.signal,
        log_path=WORK_DIR / "stack.log",
        delete_threads=args.delete_threads,
        delete_freezes=args.delete_freezes,
        delete_freeze_s=args.delete_freeze,
    )
    print(
        f"\nfault ({report.stop_signal}): {report.requests} requests, {report.succeeded} "
        f"succeeded, {report.outage_errors} answered 500 INTERNAL_ERROR during the outage "
        f"(down {report.outage_s:.1f} s, frozen {report.freeze_s:.1f} s), slowest "
        f"{report.max_latency_s:.2f} s; checked "
        f"{report.users} users, {report.markers} markers, {report.items} items: "
        f"{'consistent' if report.consistent else 'PROBLEMS'} "
        f"({time.perf_counter() - started:.0f} s in all)"
    )
    print(
        f"deletes phase: {report.delete_freezes} freezes of {report.delete_freeze_s:.1f} s; "
        f"{report.missing_key_deletes} DELETEs of missing keys ({report.missing_key_deletes_in_freeze} "
        f"in a freeze, {report.missing_key_deletes_answered_200} answered 200), "
        f"{report.existing_key_deletes} of stored keys ({report.existing_key_deletes_in_freeze} "
        f"in a freeze; after a 500: {report.existing_key_deletes_500_key_gone} gone, "
        f"{report.existing_key_deletes_500_key_kept} kept), "
        f"{report.stores_in_delete_freeze} stores in a freeze"
    )
    for line in [*(f"PROBLEM {p}" for p in report.problems[:30]), *report.notes]:
        print(f"  {line}")
    record_results("fault", report.figures())
    if report.outage_errors == 0:
        print("FAILED: no request met the outage; lengthen --outage", file=sys.stderr)
        return 1
    return 0 if report.consistent else 1


if __name__ == "__main__":
    sys.exit(main())
