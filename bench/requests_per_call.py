"""DynamoDB requests per call, counted through botocore's event hooks.

Each handler runs in this process against DynamoDB Local; a `before-send` hook on the
functions' own client counts every HTTP request it sends (retries included). The
authorizer makes one per decision (its session and the profile in one BatchGetItem).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from bench.common import FUNCTIONS, BenchFunction, bench_context
from lockbox_local.events import load_event


def measure(prepare: Callable[[BenchFunction, dict[str, Any]], dict[str, Any]]) -> dict[str, int]:
    from lockbox.core import dynamodb

    sent: list[str] = []

    def count(request: Any, **_: Any) -> None:
        sent.append(request.headers.get("X-Amz-Target", b"").decode())

    hooked = False

    def hook_client() -> None:
        nonlocal hooked
        if not hooked and dynamodb.client.cache_info().currsize:
            dynamodb.client().meta.events.register("before-send.dynamodb", count)
            hooked = True

    results: dict[str, int] = {}
    for function in FUNCTIONS:
        handler = importlib.import_module(function.module).lambda_handler
        event = prepare(function, load_event(function.event))  # may write: not counted
        hook_client()
        was_hooked = hooked
        sent.clear()
        answer = handler(event, bench_context())
        if answer.get("statusCode", 200) not in (200, 201):
            raise RuntimeError(f"{function.name} answered {answer['statusCode']} while counted")
        hook_client()
        if hooked and not was_hooked:
            # The client was created during this call, before the hook: count another call.
            event = prepare(function, load_event(function.event))
            sent.clear()
            handler(event, bench_context())
        results[function.name] = len(sent)
    return results
