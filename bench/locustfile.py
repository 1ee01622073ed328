"""The `make load` workload, run by locust (headless) against the local stack bench.load starts.

Each simulated user registers once, logs in, then runs CYCLES cycles on fresh keys:
store, get, update, get, delete, then an increment of the user's counter; every
KEEP_EVERY-th key is kept instead of deleted, every REWRITE_EVERY-th cycle rewrites one kept
key again, every BATCH_EVERY-th cycle stores two keys in one batch write, reads them in one
batch get and merge-patches one, every EXPORT_EVERY-th cycle walks the user's export, and
every TOKEN_EVERY-th cycle gets a new token. Every response is checked (status, and for
reads the exact value last written; an increment answers exactly the count so far; the
export holds exactly the keys kept, with their last values), so "errors" means any answer
other than the one the contract promises.

When every user has finished, locust quits and this file writes the ledger (what each user
expects to find: its kept keys with their last values, its deleted keys) and every
request's latency to LOCKBOX_LOAD_LEDGER, for bench.load to verify and summarise.

Settings come from the environment (bench.load sets them): LOCKBOX_LOAD_LEDGER,
LOCKBOX_LOAD_CYCLES.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gevent  # type: ignore[import-untyped]
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser

CYCLES = int(os.environ.get("LOCKBOX_LOAD_CYCLES", "55"))
LEDGER_PATH = Path(os.environ.get("LOCKBOX_LOAD_LEDGER", "load-ledger.json"))
KEEP_EVERY = 5
REWRITE_EVERY = 7
TOKEN_EVERY = 10
BATCH_EVERY = 4
EXPORT_EVERY = 11
COUNTER_KEY = "load counter"
COUNTER_PATH = f"/api/data/{quote(COUNTER_KEY, safe='')}/increment"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
_encode = json.dumps  # for where a parameter named json hides the module
PASSWORD = "correct-horse-battery-staple-42"  # noqa: S105 (throwaway local accounts)
DATA_KEY = "/api/data/[key]"  # one stats row for every key

_lock = threading.Lock()  # users are greenlets; the lock only guards the shared tallies
_ledger: dict[str, dict[str, Any]] = {}
_latencies_ms: list[float] = []
_failures: list[str] = []
_finished_users = 0
_clock = {"started": 0.0, "finished": 0.0}  # monotonic seconds: the run's own duration


def _on_test_start(**_: Any) -> None:
    _clock["started"] = time.monotonic()


def _on_request(response_time: float, exception: BaseException | None, name: str, **_: Any) -> None:
    with _lock:
        _latencies_ms.append(response_time)
        if exception is not None and len(_failures) < 50:
            _failures.append(f"{name}: {exception}")


def _write_ledger(environment: Environment, **_: Any) -> None:
    LEDGER_PATH.write_text(
        json.dumps(
            {
                "users": _ledger,
                "latencies_ms": _latencies_ms,
                "failure_samples": _failures,
                "failures": int(environment.stats.total.num_failures),
                "finished_users": _finished_users,
                "duration_s": (_clock["finished"] or time.monotonic()) - _clock["started"],
            }
        )
    )


# locust's add_listener has no annotations; the listeners above do.
events.test_start.add_listener(_on_test_start)  # type: ignore[no-untyped-call]
events.request.add_listener(_on_request)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_write_ledger)  # type: ignore[no-untyped-call]


def value_for(user: str, key_number: int, revision: int) -> Any:
    """A distinct value of a varying JSON type: a lost or stale write cannot look right."""
    tag = f"{user}:{key_number}:{revision}"
    kinds: list[Any] = [
        {"tag": tag, "n": key_number, "nested": {"list": [1, 2.5, True], "text": "ünïcödé"}},
        [tag, key_number, revision, {"ok": True}],
        f"value {tag} <script>",
        key_number * 1000 + revision,
        {"tag": tag, "flag": revision % 2 == 0},
    ]
    return kinds[(key_number + revision) % len(kinds)]


class LockboxUser(FastHttpUser):
    # No think time: the figure wanted is what the stack sustains under 20 busy clients.
    def wait_time(self) -> float:
        return 0

    def on_start(self) -> None:
        self.name = f"load_{uuid.uuid4().hex[:16]}"
        self.cycle = 0
        self.kept: dict[str, Any] = {}  # key -> the value last written
        self.deleted: list[str] = []
        self.token = ""
        body = {
            "username": self.name,
            "email": f"{self.name}@example.com",
            "password": PASSWORD,
            "full_name": "Load Test",
            "age": 30,
            "gender": "non-binary",
        }
        if self._expect("POST", "/api/register", 200, json=body) is None:
            raise StopUser
        self._login()
        with _lock:
            _ledger[self.name] = {"token": self.token, "kept": self.kept, "deleted": self.deleted}

    def _login(self) -> None:
        body = {"username": self.name, "password": PASSWORD}
        answer = self._expect("POST", "/api/token", 200, json=body)
        if answer is None:
            raise StopUser
        self.token = answer["data"]["access_token"]
        if self.name in _ledger:
            _ledger[self.name]["token"] = self.token

    def _expect(
        self,
        method: str,
        path: str,
        status: int,
        *,
        json: Any = None,
        name: str | None = None,
        value: Any = None,
        patch: Any = None,
        check: Callable[[dict[str, Any]], str | None] | None = None,
    ) -> dict[str, Any] | None:
        """One request; a failure unless it answers `status` (for reads of a key, `value`;
        and whatever `check` finds wrong in the body). `patch` is sent as a merge patch."""
        public = path in {"/api/register", "/api/token"}
        headers = {} if public else {"Authorization": f"Bearer {self.token}"}
        data = None
        if patch is not None:
            headers |= MERGE_PATCH
            data = _encode(patch)
        with self.client.request(
            method,
            path,
            json=json,
            data=data,
            headers=headers,
            name=name or path,
            catch_response=True,
        ) as response:
            if response.status_code != status:
                response.failure(f"{method} {path}: {response.status_code} {response.text}")
                return None
            try:
                body: dict[str, Any] = response.json()
            except ValueError:
                response.failure(f"{method} {path}: not JSON: {response.text[:200]}")
                return None
            if method == "GET" and body.get("data", {}).get("value") != value:
                response.failure(f"GET {path}: read {body.get('data')!r}, wrote {value!r}")
                return None
            problem = check(body) if check is not None else None
            if problem is not None:
                response.failure(f"{method} {path}: {problem}")
                return None
            response.success()
            return body

    @task
    def run_cycle(self) -> None:
        self.cycle += 1
        try:
            self._cycle(self.cycle)
        finally:
            if self.cycle >= CYCLES:
                self._finish()

    def _cycle(self, number: int) -> None:
        key = f"load key {number} ✓ {uuid.uuid4().hex[:8]}"
        path = f"/api/data/{quote(key, safe='')}"
        first, second = value_for(self.name, number, 1), value_for(self.name, number, 2)
        stored = self._expect("POST", "/api/data", 200, json={"key": key, "value": first})
        self._expect("GET", path, 200, name=DATA_KEY, value=first)
        updated = self._expect("PUT", path, 200, json={"value": second}, name=DATA_KEY)
        self._expect("GET", path, 200, name=DATA_KEY, value=second)
        if stored is None or updated is None:
            return  # already an error; the key's state is unknown, so the ledger skips it
        if number % KEEP_EVERY == 0:
            self.kept[key] = second
        elif self._expect("DELETE", path, 200, name=DATA_KEY) is not None:
            self.deleted.append(key)
        self._increment()
        if number % REWRITE_EVERY == 0 and self._rewritable():
            self._rewrite_kept_key(number)
        if number % BATCH_EVERY == 0:
            self._batch(number)
        if number % EXPORT_EVERY == 0:
            self._export()
        if number % TOKEN_EVERY == 0:
            self._login()

    def _rewritable(self) -> list[str]:
        """The kept keys a PUT may rewrite: every one but the counter, which stays a number."""
        return [key for key in self.kept if key != COUNTER_KEY]

    def _increment(self) -> None:
        """Add 1 to the user's counter: the answer is exactly the count so far."""
        expected = self.kept.get(COUNTER_KEY, 0) + 1

        def exact(body: dict[str, Any]) -> str | None:
            got = body["data"]["value"]
            return None if got == expected else f"counted {got!r}, expected {expected}"

        answer = self._expect(
            "POST", COUNTER_PATH, 200, json={"by": 1}, name=f"{DATA_KEY}/increment", check=exact
        )
        if answer is None:
            self.kept.pop(COUNTER_KEY, None)  # already an error; the count is now unknown
            return
        self.kept[COUNTER_KEY] = expected

    def _batch(self, number: int) -> None:
        """Store two keys in one batch write, read both back in one batch get, then merge a
        member into the first with a patch (and drop another): all three are kept."""
        suffix = uuid.uuid4().hex[:8]
        keys = [f"load batch {number}.{index} ✓ {suffix}" for index in (1, 2)]
        values = [{"tag": f"{self.name}:{number}:b{index}", "n": index} for index in (1, 2)]
        operations = [
            {"op": "store", "key": key, "value": value}
            for key, value in zip(keys, values, strict=True)
        ]
        body = {"operations": operations}
        if self._expect("POST", "/api/batch/write", 200, json=body) is None:
            return  # already an error; the keys' state is unknown, so the ledger skips them
        self.kept.update(zip(keys, values, strict=True))
        expected = list(zip(keys, values, strict=True))

        def both(body: dict[str, Any]) -> str | None:
            items = [(item["key"], item["value"]) for item in body["data"]["items"]]
            return None if items == expected else f"read {items!r}, wrote {expected!r}"

        self._expect("POST", "/api/batch/get", 200, json={"keys": keys}, check=both)
        path = f"/api/data/{quote(keys[0], safe='')}"
        merged = {"tag": values[0]["tag"], "patched": number}
        patch = {"patched": number, "n": None}
        if self._expect("PATCH", path, 200, patch=patch, name=DATA_KEY) is None:
            del self.kept[keys[0]]  # already an error; its value is now unknown
            return
        self.kept[keys[0]] = merged
        self._expect("GET", path, 200, name=DATA_KEY, value=merged)

    def _export(self) -> None:
        """Walk the user's export: it holds exactly the keys kept, with their last values."""
        found: dict[str, Any] = {}

        def page(body: dict[str, Any]) -> str | None:
            found.update((item["key"], item["value"]) for item in body["data"]["items"])
            if body["data"]["cursor"] is not None or found == self.kept:
                return None
            return f"exported {sorted(found)!r}, kept {sorted(self.kept)!r}"

        path = "/api/export"
        while True:
            body = self._expect("GET", path, 200, name="/api/export", check=page)
            if body is None or body["data"]["cursor"] is None:
                return
            path = f"/api/export?cursor={quote(body['data']['cursor'], safe='')}"

    def _rewrite_kept_key(self, number: int) -> None:
        """Rewrite the oldest kept key: the ledger must end with the latest of its values."""
        key = self._rewritable()[0]
        path = f"/api/data/{quote(key, safe='')}"
        value = value_for(self.name, number, 3)
        if self._expect("PUT", path, 200, json={"value": value}, name=DATA_KEY) is None:
            del self.kept[key]  # already an error; its value is now unknown
            return
        del self.kept[key]
        self.kept[key] = value  # re-inserted last: the next rewrite picks another key
        self._expect("GET", path, 200, name=DATA_KEY, value=value)

    def _finish(self) -> None:
        global _finished_users
        with _lock:
            _finished_users += 1
            everyone = _finished_users >= self.environment.parsed_options.num_users
        if everyone:
            _clock["finished"] = time.monotonic()
            # From another greenlet: quitting stops every user, this one included.
            runner = self.environment.runner
            assert runner is not None
            gevent.spawn_later(0.1, runner.quit)
        raise StopUser
