"""bcrypt: milliseconds to hash and to check one password at the configured cost."""

from __future__ import annotations

import statistics
import time

import bcrypt

ROUNDS = 5
PASSWORD = b"correct horse battery staple"


def measure(cost: int) -> dict[str, float]:
    hashes, checks = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        hashed = bcrypt.hashpw(PASSWORD, bcrypt.gensalt(rounds=cost))
        hashes.append(time.perf_counter() - started)
        started = time.perf_counter()
        if not bcrypt.checkpw(PASSWORD, hashed):
            raise AssertionError("bcrypt did not verify its own hash")
        checks.append(time.perf_counter() - started)
    return {
        "cost": cost,
        "hash": round(statistics.median(hashes) * 1000, 1),
        "check": round(statistics.median(checks) * 1000, 1),
    }
