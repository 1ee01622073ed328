"""Ports on 127.0.0.1: the one place the local stack, `make invoke`, the benchmarks and the
tests pick ports nobody else listens on, read them from the environment, and probe them."""

from __future__ import annotations

import contextlib
import os
import socket

LOCALHOST = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free right now: every probe stays bound until all are
    chosen, so the system cannot hand the same port out twice."""
    with contextlib.ExitStack() as probes:
        ports: list[int] = []
        for _ in range(count):
            probe = probes.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            probe.bind((LOCALHOST, 0))
            ports.append(int(probe.getsockname()[1]))
        return ports


def free_port() -> int:
    """One port free right now."""
    return free_ports(1)[0]


def env_port(name: str, default: int) -> int:
    """A port from the environment variable `name` (PORT, DYNAMODB_PORT...), else `default`."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def port_answers(port: int) -> bool:
    """Something accepts connections on the port right now."""
    with contextlib.suppress(OSError), socket.create_connection((LOCALHOST, port), timeout=1):
        return True
    return False
