"""Listing: 10,000 keys of one user, walked in pages of 1,000 against DynamoDB Local.

The keys are written straight to the items table (BatchWriteItem, not counted); then the
list function's handler walks them, page after page, following each page's cursor. Each
page is one Query that starts at the cursor's key (ExclusiveStartKey), so its time should
not grow with the page's position. The walk is repeated and the median per position is
reported, with the spread between the first and the last pages.
"""

from __future__ import annotations

import importlib
import json
import statistics
import time
from typing import Any

from bench.common import bench_context
from lockbox_local.events import load_event
from lockbox_local.worker import LambdaContext

KEYS = 10_000
PAGE = 1_000
WALKS = 15
_LISTING_USER = "11111111-2222-4333-8444-555555555555"  # owns only the benchmark's keys


def _seed(table: str) -> None:
    import boto3

    client = boto3.client("dynamodb")
    items = [
        {
            "PutRequest": {
                "Item": {
                    "user_id": {"S": _LISTING_USER},
                    "key": {"S": f"item {index:05d}"},
                    "value": {"S": f'{{"n":{index}}}'},
                    "etag": {"S": f"{index:032x}"},
                }
            }
        }
        for index in range(KEYS)
    ]
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {table: items[start : start + 25]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _walk(handler: Any, context: LambdaContext) -> list[float]:
    """Milliseconds per page of one walk, asserting it returns every key once."""
    cursor: str | None = None
    timings: list[float] = []
    seen = 0
    while True:
        event = load_event("list_items_success")
        event["requestContext"]["authorizer"] = {
            "user_id": _LISTING_USER,
            "principalId": _LISTING_USER,
        }
        query = {"limit": str(PAGE), **({"cursor": cursor} if cursor else {})}
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
        started = time.perf_counter()
        answer = handler(event, context)
        elapsed = (time.perf_counter() - started) * 1000
        if answer["statusCode"] != 200:
            raise RuntimeError(f"listing answered {answer['statusCode']}: {answer['body']}")
        data = json.loads(answer["body"])["data"]
        seen += len(data["keys"])
        if data["keys"]:
            timings.append(elapsed)
        cursor = data["cursor"]
        if cursor is None:
            break
    if seen != KEYS:
        raise RuntimeError(f"the walk listed {seen} keys, not {KEYS}")
    return timings


def measure(items_table: str) -> dict[str, Any]:
    """Median milliseconds per page position over several walks of 10,000 keys."""
    _seed(items_table)
    handler = importlib.import_module("functions.list_items.app").lambda_handler
    context = bench_context()
    _walk(handler, context)  # warm-up: imports, the client, the signing key
    walks = [_walk(handler, context) for _ in range(WALKS)]
    pages = min(len(walk) for walk in walks)
    per_page = [
        round(statistics.median([walk[index] for walk in walks]), 1) for index in range(pages)
    ]
    first, last = statistics.median(per_page[:3]), statistics.median(per_page[-3:])
    return {
        "keys": KEYS,
        "page_size": PAGE,
        "walks": WALKS,
        "ms_per_page": per_page,
        "last_over_first": round(last / first, 2),
    }
