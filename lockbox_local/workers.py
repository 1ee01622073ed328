"""Lambda functions run in worker processes: a small pool per function.

A process per worker keeps each function's modules and environment variables apart
(as separate Lambda functions are), lets several requests run at once, and lets a
worker that exceeds the function's Timeout be killed and replaced, as Lambda does.
Workers start on first use (a cold start) and are reused while they stay healthy.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import IO, Any, Protocol

from lockbox_local import worker as worker_script
from lockbox_local.intrinsics import ACCOUNT_ID, REGION
from lockbox_local.lambdas import FunctionSpec

logger = logging.getLogger(__name__)

# Longer than Lambda's 10 s init limit: a laptop's first import also compiles bytecode.
INIT_TIMEOUT_SECONDS = 30.0
# API Gateway's integration timeout: a request waiting longer for a free worker fails.
QUEUE_TIMEOUT_SECONDS = 29.0
_STOP_GRACE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Completed:
    payload: Any


@dataclass(frozen=True, slots=True)
class Raised:
    """The handler raised (Lambda's function error): errorType and errorMessage."""

    error_type: str
    error_message: str


@dataclass(frozen=True, slots=True)
class Unavailable:
    """No answer: the function timed out, crashed, failed to start, or every worker was busy."""

    reason: str
    busy: bool = False  # no worker became free in time (API Gateway: integration timeout)


Outcome = Completed | Raised | Unavailable


class Invoker(Protocol):
    def invoke(self, function_id: str, event: dict[str, Any], request_id: str) -> Outcome: ...


class WorkerProcess:
    """One started worker and the two pipes to it."""

    def __init__(
        self, spec: FunctionSpec, environment: Mapping[str, str], output: IO[bytes] | None = None
    ) -> None:
        self.spec = spec
        child_requests, self._requests_fd = os.pipe()
        self._answers_fd, child_answers = os.pipe()
        config = {
            "read_fd": child_requests,
            "write_fd": child_answers,
            "code_dir": str(spec.code_dir),
            "layer_dirs": [str(path) for path in spec.layer_dirs],
            "handler": spec.handler,
            "function_name": spec.logical_id,
            "function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{spec.logical_id}",
            "memory_mb": spec.memory_mb,
        }
        try:
            self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
                [sys.executable, "-I", "-u", str(worker_script.__file__), json.dumps(config)],
                env=dict(environment),
                stdin=subprocess.DEVNULL,
                stdout=output,  # None: this process's own
                stderr=output,
                pass_fds=(child_requests, child_answers),
                # Its own session: a Ctrl-C in the terminal reaches the runner only, which
                # then stops the workers; they also exit when the runner's pipe closes.
                start_new_session=True,
            )
        finally:
            os.close(child_requests)
            os.close(child_answers)
        self._requests = Connection(self._requests_fd, readable=False)
        self._answers = Connection(self._answers_fd, writable=False)

    @property
    def pid(self) -> int:
        return self._process.pid

    def wait_ready(self) -> Unavailable | None:
        answer = self._receive(INIT_TIMEOUT_SECONDS)
        if isinstance(answer, Unavailable):
            return answer
        if "initError" in answer:
            error = answer["initError"]
            return Unavailable(f"init failed: {error['errorType']}: {error['errorMessage']}")
        return None

    def call(self, event: dict[str, Any], request_id: str) -> Outcome:
        timeout = self.spec.timeout_seconds
        message = {
            "event": event,
            "requestId": request_id,
            "deadlineMs": (time.time() + timeout) * 1000,
        }
        try:
            self._requests.send_bytes(json.dumps(message).encode())
        except OSError:
            return Unavailable("the worker is gone")
        answer = self._receive(timeout)
        if isinstance(answer, Unavailable):
            return answer
        if "error" in answer:
            return Raised(str(answer["error"]["errorType"]), str(answer["error"]["errorMessage"]))
        return Completed(answer["result"])

    def _receive(self, timeout: float) -> dict[str, Any] | Unavailable:
        try:
            if not self._answers.poll(timeout):
                return Unavailable(f"timed out after {timeout:g} s")
            answer: dict[str, Any] = json.loads(self._answers.recv_bytes())
        except (EOFError, OSError):
            return Unavailable(f"the worker exited (code {self._process.poll()})")
        return answer

    def kill(self) -> None:
        """Kill the process; the thread using this worker sees EOF and stops it."""
        self._process.kill()

    def stop(self) -> None:
        """Close the pipes (the worker exits on EOF); kill it if it does not.

        Only the thread that owns the worker (or the pool, for an idle one) calls this.
        """
        self.close_pipes()
        self.wait_stopped()

    def close_pipes(self) -> None:
        for connection in (self._requests, self._answers):
            connection.close()

    def wait_stopped(self) -> None:
        try:
            self._process.wait(_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class WorkerPool:
    """Up to `size` workers of one function, started on demand."""

    def __init__(
        self,
        spec: FunctionSpec,
        environment: Mapping[str, str],
        size: int,
        output: IO[bytes] | None = None,
    ) -> None:
        self._spec = spec
        self._environment = dict(environment)
        self._output = output
        self._size = size
        self._condition = threading.Condition()
        self._idle: list[WorkerProcess] = []
        self._all: set[WorkerProcess] = set()
        self._starting = 0
        self._closed = False

    def invoke(self, event: dict[str, Any], request_id: str) -> Outcome:
        worker = self._acquire()
        if isinstance(worker, Unavailable):
            return worker
        outcome = worker.call(event, request_id)
        healthy = not isinstance(outcome, Unavailable)
        if isinstance(outcome, Unavailable):
            logger.warning("%s: %s; the worker is replaced", self._spec.logical_id, outcome.reason)
        self._release(worker, healthy)
        return outcome

    def _acquire(self) -> WorkerProcess | Unavailable:
        deadline = time.monotonic() + QUEUE_TIMEOUT_SECONDS
        with self._condition:
            while not self._idle and len(self._all) + self._starting >= self._size:
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    return Unavailable("every worker stayed busy", busy=True)
                self._condition.wait(remaining)
            if self._closed:
                return Unavailable("the local stack is stopping")
            if self._idle:
                return self._idle.pop()
            self._starting += 1
        return self._start()

    def _start(self) -> WorkerProcess | Unavailable:
        started = time.monotonic()
        worker: WorkerProcess | None = None
        failure: Unavailable | None
        try:
            worker = WorkerProcess(self._spec, self._environment, self._output)
            failure = worker.wait_ready()
        except OSError as error:
            failure = Unavailable(f"cannot start a worker: {error}")
        with self._condition:
            self._starting -= 1
            if failure is None and worker is not None and not self._closed:
                self._all.add(worker)
                logger.info(
                    "%s: cold start in %.0f ms (worker pid %d)",
                    self._spec.logical_id,
                    (time.monotonic() - started) * 1000,
                    worker.pid,
                )
                return worker
            self._condition.notify()
        if worker is not None:
            worker.stop()
        if failure is None:
            failure = Unavailable("the local stack is stopping")
        logger.error("%s: %s", self._spec.logical_id, failure.reason)
        return failure

    def _release(self, worker: WorkerProcess, healthy: bool) -> None:
        with self._condition:
            if healthy and not self._closed:
                self._idle.append(worker)
                self._condition.notify()
                return
            self._all.discard(worker)
            self._condition.notify()
        if not healthy:
            worker.kill()  # hung or dead: nothing to wait for
        worker.stop()

    def close(self) -> list[WorkerProcess]:
        """Stop taking requests; tell idle workers to exit and kill busy ones.

        Returns the idle workers, for the caller to wait for (all pools at once).
        """
        with self._condition:
            self._closed = True
            idle = list(self._idle)
            busy = self._all.difference(idle)
            self._all.clear()
            self._idle.clear()
            self._condition.notify_all()
        for worker in idle:
            worker.close_pipes()
        for worker in busy:
            worker.kill()
        return idle


class Workers:
    """The pools of every function; the gateway's Invoker."""

    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        environments: Mapping[str, Mapping[str, str]],
        pool_size: int,
        output: IO[bytes] | None = None,
    ) -> None:
        """`output`: where the workers' stdout and stderr go (None: this process's)."""
        self._pools = {
            function_id: WorkerPool(spec, environments[function_id], pool_size, output)
            for function_id, spec in functions.items()
        }

    def invoke(self, function_id: str, event: dict[str, Any], request_id: str) -> Outcome:
        return self._pools[function_id].invoke(event, request_id)

    def close(self) -> None:
        stopping = [worker for pool in self._pools.values() for worker in pool.close()]
        for worker in stopping:
            worker.wait_stopped()
