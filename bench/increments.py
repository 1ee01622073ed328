"""Counters: 100 parallel increments by 1 of one fresh key, over HTTP against a local stack
of its own (the gateway, the functions' workers, DynamoDB Local), as `make load` runs.

100 client threads released together each send one POST /api/data/{key}/increment. Each
call reads the counter and writes over exactly the version it read, reading again after a
conflict, so every answer must be a different count: exactly 1..100, and the stored value
100 at the end. The figure is the answers per second of the whole burst, its slowest
answer, and whether they were all exact. The stack runs the function in its default 4
workers (Lambda would run up to 100 instances); in-process threads were tried first and
measured this 2-core machine rather than the design (DynamoDB Local and 100 threads behind
one GIL: reads timed out after 2 s when other work loaded the machine).
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from bench.local_target import (
    REQUEST_TIMEOUT_SECONDS,
    new_session,
    register_account,
    running_stack,
    stack_options,
)

PARALLEL = 100


def figures(
    answers: list[str | None], final: str | None, seconds: float, slowest: float
) -> dict[str, Any]:
    """The burst's figures from each call's answered value (None for a refusal), the value
    stored at the end, the burst's duration and its slowest call (seconds): exact when the
    answers are exactly 1..len(answers), once each, and the final value is their number."""
    counted = len(answers)
    exact = (
        None not in answers
        and sorted(Decimal(str(answer)) for answer in answers) == list(range(1, counted + 1))
        and final is not None
        and Decimal(final) == counted
    )
    return {
        "parallel": counted,
        "seconds": round(seconds, 3),
        "answers_per_second": round(counted / seconds, 1) if seconds else 0.0,
        "slowest_answer_s": round(slowest, 3),  # to set against the function's timeout
        "refused": answers.count(None),
        "final_value": final,
        "exact": exact,
    }


def _value(answer: Any) -> str | None:
    """The answered number's literal text, or None for any answer but a 200."""
    if answer.status_code != 200:
        return None
    return str(answer.json(parse_float=Decimal)["data"]["value"])


def measure() -> dict[str, Any]:
    """One burst of PARALLEL increments of a fresh key, after a warm-up burst on another
    key that starts every worker of the function."""
    with running_stack(stack_options()) as stack:
        account = register_account(new_session(), stack.url, "counter")
        headers = {"Authorization": f"Bearer {account.token}"}
        local = threading.local()

        def increment(key: str, start: threading.Barrier) -> tuple[str | None, float]:
            if not hasattr(local, "session"):
                local.session = new_session()  # requests sessions are not shared
            start.wait()
            began = time.perf_counter()
            answer = local.session.post(
                f"{stack.url}/api/data/{quote(key, safe='')}/increment",
                json={"by": 1},
                headers=headers,
                timeout=REQUEST_TIMEOUT_SECONDS,
            )
            return _value(answer), time.perf_counter() - began

        def burst(key: str) -> tuple[list[tuple[str | None, float]], float]:
            start = threading.Barrier(PARALLEL + 1)
            with ThreadPoolExecutor(PARALLEL) as pool:
                running = [pool.submit(increment, key, start) for _ in range(PARALLEL)]
                start.wait()
                started = time.perf_counter()
                results = [call.result() for call in running]
                return results, time.perf_counter() - started

        burst(f"warm-up {uuid.uuid4().hex}")
        key = f"counter {uuid.uuid4().hex}"
        results, seconds = burst(key)
        stored = new_session().get(
            f"{stack.url}/api/data/{quote(key, safe='')}",
            headers=headers,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        final = _value(stored)
    answers = [answer for answer, _ in results]
    return figures(answers, final, seconds, max(took for _, took in results))
