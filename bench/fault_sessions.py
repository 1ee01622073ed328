"""Logins and refreshes while DynamoDB Local stalls (`make fault`'s sessions phase).

Client threads log in (each login starts a session), refresh their session's token over
and over, and send wrong passwords for names of their own, while DynamoDB Local is frozen
(SIGSTOP) for longer than the functions' 2 s read timeout, so botocore retries the
attempts the freeze caught. Then the users table is read directly and checked:

- no session lost: every login and refresh that answered 200 handed out a token of a
  session that exists, and the refresh token a 200 handed out is the session's current
  one unless the chain rotated it again (a 500 leaves either state; the next refresh says);
- no session duplicated: each login makes at most one session item (a retried login
  transaction is idempotent), so the user's sessions are at most the logins sent, and at
  least the logins that answered 200;
- no lockout count lost: for each name, the stored attempt count is at least the number
  of attempts answered 401 (each was counted before its password check) and at most those
  plus the ones answered 500 (a retried count is recognized by its attempt id);
- every answer is the call's success, its refusal, or the exact 500 envelope, in time;
- reuse detection holds under the stalls: each client also runs refresh chains of
  CHAIN_ROTATIONS rotations, then replays the chain's first token (rotated that many times
  ago) and a made-up token naming a live session. A replay answered 401 must have ended its
  session (and the chain's last token must be refused from then on: never revived); a
  made-up token must end nothing, so every session a client still holds is not ended.

- a second-factor code is accepted once under the stalls: each client also has an account
  with the factor on, and logs in with two mfa_tokens and the same current code; of all
  the answers with one code at most one is a 200. Each such session is then ended from
  itself (DELETE /api/sessions/{id}); an end answered 200 must stay: the session's refresh
  token is refused from then on, and its item is ended (never revived).

Usage: python -m bench.fault_sessions [--threads 6] [--freezes 3] [--freeze 2.4]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.fault import freeze_dynamodb
from bench.local_target import (
    PASSWORD,
    Account,
    new_session,
    register_account,
    running_stack,
    stack_options,
    table_names,
)
from bench.results import record_results
from lockbox_local.template import PROJECT_ROOT

WORK_DIR = PROJECT_ROOT / "bench" / ".work" / "fault_sessions"
CLIENT_TIMEOUT_SECONDS = 30.0
READ_TIMEOUT_SECONDS = 2.0  # the functions' DynamoDB read timeout (lockbox/core/dynamodb.py)
WRONG_PASSWORD = "not-the-password-0"  # noqa: S105
CHAIN_ROTATIONS = 3  # a stale token replayed from this many rotations ago
ATTEMPTS_PER_NAME = 4  # below the lockout: every attempt is counted and checked
INTERNAL_ERROR = {
    "status": "error",
    "code": "INTERNAL_ERROR",
    "message": "An internal server error occurred. Please try again later.",
}


@dataclass
class SessionsReport:
    logins: Counter[int] = field(default_factory=Counter)
    refreshes: Counter[int] = field(default_factory=Counter)
    guesses: Counter[int] = field(default_factory=Counter)
    freezes: int = 0
    stalled: int = 0  # answers that took longer than the read timeout: they met a freeze
    problems: list[str] = field(default_factory=list)
    sessions_checked: int = 0
    names_checked: int = 0
    replays: Counter[int] = field(default_factory=Counter)
    made_up: Counter[int] = field(default_factory=Counter)
    chains_ended: int = 0  # replays answered 401 whose session was then found ended
    mfa_logins: Counter[int] = field(default_factory=Counter)
    session_ends: Counter[int] = field(default_factory=Counter)
    accepted: Counter[tuple[str, int]] = field(default_factory=Counter)  # (user, step) -> 200s
    ended: list[str] = field(default_factory=list)  # sessions whose end answered 200

    @property
    def consistent(self) -> bool:
        return not self.problems

    def figures(self) -> dict[str, Any]:
        return {
            "logins": dict(self.logins),
            "refreshes": dict(self.refreshes),
            "wrong_password_logins": dict(self.guesses),
            "freezes": self.freezes,
            "stalled_answers": self.stalled,
            "sessions_checked": self.sessions_checked,
            "names_checked": self.names_checked,
            "stale_replays": dict(self.replays),
            "made_up_tokens": dict(self.made_up),
            "chains_ended_by_replay": self.chains_ended,
            "mfa_logins": dict(self.mfa_logins),
            "session_ends": dict(self.session_ends),
            "problems": len(self.problems),
        }


@dataclass
class Chain:
    """One client's sessions: what the API answered, for the checks afterwards."""

    account: Account
    logins_sent: int = 0
    logins_ok: list[str] = field(default_factory=list)  # session ids
    current: dict[str, str] = field(default_factory=dict)  # session id -> refresh token
    ended_by_replay: set[str] = field(default_factory=set)  # a stale replay answered 401


class Client:
    def __init__(self, base_url: str, report: SessionsReport, lock: threading.Lock) -> None:
        self.base_url = base_url
        self.report = report
        self.lock = lock
        self.http = new_session()

    def _post(self, path: str, body: dict[str, Any]) -> requests.Response:
        started = time.monotonic()
        response = self.http.post(
            f"{self.base_url}{path}", json=body, timeout=CLIENT_TIMEOUT_SECONDS
        )
        elapsed = time.monotonic() - started
        if elapsed > CLIENT_TIMEOUT_SECONDS:
            self._problem(f"{path} took {elapsed:.1f} s")
        if elapsed > READ_TIMEOUT_SECONDS:
            with self.lock:
                self.report.stalled += 1
        if response.status_code == 500 and response.json() != INTERNAL_ERROR:
            self._problem(f"{path} answered 500 with {response.text[:200]}")
        return response

    def _problem(self, text: str) -> None:
        with self.lock:
            self.report.problems.append(text)

    def login(self, chain: Chain) -> None:
        chain.logins_sent += 1
        response = self._post(
            "/api/token", {"username": chain.account.username, "password": PASSWORD}
        )
        with self.lock:
            self.report.logins[response.status_code] += 1
        if response.status_code == 200:
            data = response.json()["data"]
            session_id = data["refresh_token"].split(".")[2]
            chain.logins_ok.append(session_id)
            chain.current[session_id] = data["refresh_token"]
        elif response.status_code != 500:
            self._problem(f"login answered {response.status_code}: {response.text[:200]}")

    def refresh(self, chain: Chain, session_id: str) -> None:
        response = self._post("/api/token/refresh", {"refresh_token": chain.current[session_id]})
        with self.lock:
            self.report.refreshes[response.status_code] += 1
        if response.status_code == 200:
            chain.current[session_id] = response.json()["data"]["refresh_token"]
        elif response.status_code == 401:
            # Only after a 500 whose rotation landed (the token in hand was rotated): the
            # session lives on, but this client no longer holds its token.
            chain.current.pop(session_id)
        elif response.status_code != 500:
            self._problem(f"refresh answered {response.status_code}: {response.text[:200]}")

    def replay_chain(self, chain: Chain) -> None:
        """A new session rotated CHAIN_ROTATIONS times, then its first token replayed: a 401
        must have ended the session, after which its last token is refused (not revived)."""
        chain.logins_sent += 1
        response = self._post(
            "/api/token", {"username": chain.account.username, "password": PASSWORD}
        )
        if response.status_code != 200:
            return
        tokens = [response.json()["data"]["refresh_token"]]
        session_id = tokens[0].split(".")[2]
        chain.logins_ok.append(session_id)
        for _ in range(CHAIN_ROTATIONS):
            response = self._post("/api/token/refresh", {"refresh_token": tokens[-1]})
            if response.status_code != 200:
                return  # a 500 leaves the chain's state unknown: start another one
            tokens.append(response.json()["data"]["refresh_token"])
        replay = self._post("/api/token/refresh", {"refresh_token": tokens[0]})
        with self.lock:
            self.report.replays[replay.status_code] += 1
        if replay.status_code == 401:
            chain.ended_by_replay.add(session_id)
            after = self._post("/api/token/refresh", {"refresh_token": tokens[-1]})
            if after.status_code == 200:
                self._problem(f"session {session_id} refreshed after its reuse ended it")
        elif replay.status_code != 500:
            self._problem(f"a stale replay answered {replay.status_code}")

    def made_up(self, chain: Chain) -> None:
        """A token naming a live session of the client, with a chain secret never issued."""
        if not chain.current:
            return
        session_id, token = next(iter(chain.current.items()))
        parts = token.split(".")
        forged = ".".join([*parts[:3], "0", uuid.uuid4().hex + "A" * 11, parts[-1]])
        response = self._post("/api/token/refresh", {"refresh_token": forged})
        with self.lock:
            self.report.made_up[response.status_code] += 1
        if response.status_code not in (401, 500):
            self._problem(f"a made-up token for {session_id} answered {response.status_code}")

    def guess(self, name: str, seen: Counter[int]) -> None:
        response = self._post("/api/token", {"username": name, "password": WRONG_PASSWORD})
        seen[response.status_code] += 1
        with self.lock:
            self.report.guesses[response.status_code] += 1
        if response.status_code not in (401, 500):
            self._problem(f"a guess on {name} answered {response.status_code}")


@dataclass
class Factor:
    """A client's account with the second factor on: its authenticator."""

    account: Account
    authenticator: Any  # pyotp.TOTP


def enrol_factor(http: requests.Session, base_url: str, account: Account) -> Factor:
    """The factor turned on for the account (before the stalls), confirmed with the
    previous step's code."""
    import pyotp

    headers = {"Authorization": f"Bearer {account.token}"}
    setup = http.post(
        f"{base_url}/api/mfa/totp/setup", json={"password": PASSWORD}, headers=headers
    )
    authenticator = pyotp.TOTP(setup.json()["data"]["secret"])
    code = authenticator.at(time.time(), counter_offset=-1)
    confirmed = http.post(f"{base_url}/api/mfa/totp/confirm", json={"code": code}, headers=headers)
    if confirmed.status_code != 200:
        raise RuntimeError(f"enrolment failed: {confirmed.status_code} {confirmed.text}")
    return Factor(account, authenticator)


def mfa_round(client: Client, factor: Factor) -> None:
    """Two mfa_tokens, one code: at most one 200 for that code ever; each session so
    started is ended from itself, and an end answered 200 refuses its refresh token."""
    account = factor.account
    tokens = []
    for _ in range(2):
        first = client._post("/api/token", {"username": account.username, "password": PASSWORD})
        if first.status_code == 401 and first.json()["code"] == "MFA_REQUIRED":
            tokens.append(first.json()["data"]["mfa_token"])
        elif first.status_code not in (429, 500):
            client._problem(f"an MFA login answered {first.status_code}: {first.text[:200]}")
    step = int(time.time() // 30)
    code = factor.authenticator.at(step * 30)
    for mfa_token in tokens:
        answer = client._post("/api/token/mfa", {"mfa_token": mfa_token, "code": code})
        with client.lock:
            client.report.mfa_logins[answer.status_code] += 1
            if answer.status_code == 200:
                client.report.accepted[(account.user_id, step)] += 1
        if answer.status_code == 200:
            end_own_session(client, answer.json()["data"])
        elif answer.status_code not in (401, 429, 500):
            client._problem(f"/api/token/mfa answered {answer.status_code}: {answer.text[:200]}")


def end_own_session(client: Client, data: dict[str, Any]) -> None:
    session_id = data["refresh_token"].split(".")[2]
    started = time.monotonic()
    ended = client.http.delete(
        f"{client.base_url}/api/sessions/{session_id}",
        headers={"Authorization": f"Bearer {data['access_token']}"},
        timeout=CLIENT_TIMEOUT_SECONDS,
    )
    if time.monotonic() - started > READ_TIMEOUT_SECONDS:
        with client.lock:
            client.report.stalled += 1
    with client.lock:
        client.report.session_ends[ended.status_code] += 1
    if ended.status_code == 200:
        with client.lock:
            client.report.ended.append(session_id)
        after = client._post("/api/token/refresh", {"refresh_token": data["refresh_token"]})
        if after.status_code == 200:
            client._problem(f"session {session_id} refreshed after its end answered 200")
    elif ended.status_code != 500:
        client._problem(f"a session end answered {ended.status_code}: {ended.text[:200]}")


def run_session_faults(
    threads: int = 6,
    freezes: int = 3,
    freeze_s: float = 2.4,
    log_path: Path | None = None,
) -> SessionsReport:
    report = SessionsReport()
    lock = threading.Lock()
    options = stack_options(function_log=log_path)  # DynamoDB Local in memory
    with running_stack(options) as stack:
        base_url = stack.url
        users_table, _ = table_names(stack)
        with new_session() as http:
            accounts = [register_account(http, base_url, f"fs{n}") for n in range(threads)]
            factors = [
                enrol_factor(http, base_url, register_account(http, base_url, f"ff{n}"))
                for n in range(threads)
            ]
        chains = [Chain(account) for account in accounts]
        guesses: dict[str, Counter[int]] = {}
        stop = threading.Event()

        def work(chain: Chain, factor: Factor) -> None:
            client = Client(base_url, report, lock)
            name, count = f"ghost_{uuid.uuid4().hex[:12]}", 0
            while not stop.is_set():
                if not chain.current or len(chain.current) < 2:
                    client.login(chain)
                for session_id in list(chain.current):
                    client.refresh(chain, session_id)
                client.replay_chain(chain)
                client.made_up(chain)
                mfa_round(client, factor)
                seen = guesses.setdefault(name, Counter())
                client.guess(name, seen)
                count += 1
                if count == ATTEMPTS_PER_NAME:
                    name, count = f"ghost_{uuid.uuid4().hex[:12]}", 0

        with ThreadPoolExecutor(threads) as pool:
            futures = [pool.submit(work, *pair) for pair in zip(chains, factors, strict=True)]
            time.sleep(1.0)
            for _ in range(freezes):
                freeze_dynamodb(stack, freeze_s)
                report.freezes += 1
                time.sleep(1.0)
            stop.set()
            for future in futures:
                future.result()
        assert stack.services is not None
        client = stack.services.dynamodb_client()
        check_sessions(client, users_table, chains, report)
        check_counts(client, users_table, guesses, report)
        check_factor(client, users_table, report)
    return report


def check_factor(client: Any, table: str, report: SessionsReport) -> None:
    """No code accepted twice; no session whose end answered 200 alive again."""
    for (user_id, step), accepted in report.accepted.items():
        if accepted > 1:
            report.problems.append(
                f"{user_id}: the code of step {step} was accepted {accepted} times"
            )
    for session_id in report.ended:
        if "ended" not in (_item(client, table, f"SESSION#{session_id}") or {}):
            report.problems.append(
                f"session {session_id}: its end answered 200 but it is not ended"
            )


def _item(client: Any, table: str, pk: str) -> dict[str, Any] | None:
    answer = client.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True)
    item: dict[str, Any] | None = answer.get("Item")
    return item


def check_sessions(client: Any, table: str, chains: list[Chain], report: SessionsReport) -> None:
    import hashlib

    for chain in chains:
        user_id = chain.account.user_id
        sessions = [
            item
            for page in client.get_paginator("scan").paginate(
                TableName=table,
                FilterExpression="begins_with(pk, :s) AND user_id = :u",
                ExpressionAttributeValues={":s": {"S": "SESSION#"}, ":u": {"S": user_id}},
                ConsistentRead=True,
            )
            for item in page.get("Items", [])
        ]
        report.sessions_checked += len(sessions)
        if not len(chain.logins_ok) <= len(sessions) <= chain.logins_sent + 1:  # +1: /users-free
            report.problems.append(
                f"{chain.account.username}: {len(sessions)} sessions for {chain.logins_sent} "
                f"logins ({len(chain.logins_ok)} answered 200)"
            )
        for session_id in chain.ended_by_replay:
            if "ended" in (_item(client, table, f"SESSION#{session_id}") or {}):
                report.chains_ended += 1
            else:
                report.problems.append(f"session {session_id}: a stale replay did not end it")
        for session_id in chain.current:  # still held: no replay, no made-up token ended it
            if "ended" in (_item(client, table, f"SESSION#{session_id}") or {}):
                report.problems.append(f"session {session_id} was ended wrongly")
        for session_id in chain.logins_ok:
            item = _item(client, table, f"SESSION#{session_id}")
            if item is None:
                report.problems.append(f"session {session_id} answered 200 but is not stored")
                continue
            token = chain.current.get(session_id)
            if token is None:
                continue
            secret = token.rsplit(".", 1)[1]
            digest = hashlib.sha256(secret.encode("ascii")).hexdigest()
            stored = {item.get("current_hash", {}).get("S"), item.get("previous_hash", {}).get("S")}
            if digest not in stored:
                report.problems.append(f"session {session_id}: the token handed out is lost")


def check_counts(
    client: Any, table: str, guesses: dict[str, Counter[int]], report: SessionsReport
) -> None:
    for name, seen in guesses.items():
        item = _item(client, table, f"USERNAME#{name}") or {}
        stored = int(item.get("attempts", {}).get("N", "0"))
        report.names_checked += 1
        if not seen[401] <= stored <= seen[401] + seen[500]:
            report.problems.append(
                f"{name}: {stored} attempts stored for {seen[401]} answered 401 and {seen[500]} 500"
            )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fault_sessions")
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--freezes", type=int, default=3)
    parser.add_argument("--freeze", type=float, default=2.4)
    args = parser.parse_args()
    report = run_session_faults(
        args.threads, args.freezes, args.freeze, log_path=WORK_DIR / "stack.log"
    )
    print(
        f"sessions under {report.freezes} freezes of {args.freeze:.1f} s: logins "
        f"{dict(report.logins)}, refreshes {dict(report.refreshes)}, wrong passwords "
        f"{dict(report.guesses)}; {report.stalled} answers met a freeze; checked {report.sessions_checked} sessions and "
        f"{report.names_checked} counts; stale replays {dict(report.replays)} "
        f"({report.chains_ended} sessions found ended), made-up tokens {dict(report.made_up)}, "
        f"MFA logins {dict(report.mfa_logins)}, session ends {dict(report.session_ends)}: "
        f"{'consistent' if report.consistent else 'PROBLEMS'}"
    )
    for problem in report.problems[:30]:
        print(f"  PROBLEM {problem}")
    record_results("fault_sessions", report.figures())
    return 0 if report.consistent else 1


if __name__ == "__main__":
    sys.exit(main())
