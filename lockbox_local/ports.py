"""Free TCP ports on 127.0.0.1: the one helper the local stack, the benchmarks and the
tests use to pick ports nobody else listens on."""

from __future__ import annotations

import contextlib
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
