"""The end-to-end suite's target: API_URL when set (a deployed stack), else a local stack
this session starts itself (`python -m lockbox_local`, in memory, on free ports).

Fixtures: `api_url` (base URL, no trailing slash) and `http` (a requests.Session with a
default timeout). Every test here is marked `e2e`; the run ends with how many ran
(tests/conftest.py, which pytest-xdist's controller loads too).

Every response the suite receives from the API is checked against docs/openapi.yaml
(lockbox_local.openapi.response_problems): a status the document does not list for the
route, a body outside its schema, or a body that is not JSON fails the test that received
it. That holds for `http` and for any requests.Session a test opens itself (the parallel
tests open one per thread): during each test, requests.Session is the checking kind.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from lockbox_local.openapi import response_problems
from tests.e2e.helpers import User, delete_quietly, new_user
from tests.local_stack import LocalStackProcess

E2E_DIR = Path(__file__).resolve().parent
REQUEST_TIMEOUT_SECONDS = 60.0  # bcrypt at cost 12 under 20 parallel requests queues a while

# --- marking --------------------------------------------------------------------------


def _exact_int(digits: str) -> int | Decimal:
    """An int where Python converts it (its digit limit guards against slow parsing)."""
    return int(digits) if len(digits) <= 4000 else Decimal(digits)


def _is_e2e(item: pytest.Item) -> bool:
    return E2E_DIR in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _is_e2e(item):
            item.add_marker(pytest.mark.e2e)


def _deployed_url() -> str:
    return os.environ.get("API_URL", "").strip()


# --- the target ------------------------------------------------------------------------


_local_stacks: list[LocalStackProcess] = []  # the one this session started, if any


@pytest.fixture(scope="session")
def api_url() -> Iterator[str]:
    """Base URL of the API under test: $API_URL, or a local stack started for this session."""
    deployed = _deployed_url()
    if deployed:
        yield deployed.rstrip("/")
        return
    with tempfile.TemporaryDirectory(prefix="lockbox-e2e-") as work_dir:
        stack = LocalStackProcess(Path(work_dir))
        stack.wait_until_serving()
        _local_stacks.append(stack)
        try:
            yield stack.url
        finally:
            _local_stacks.remove(stack)
            stack.stop()


@pytest.fixture(scope="session")
def mailbox_url(api_url: str) -> str:
    """The local stack's SES stand-in (its GET /store lists the mails sent); tests that
    read mail are skipped against API_URL, whose mail goes out through SES."""
    if not _local_stacks:
        pytest.skip("reads the local SES stand-in's mailbox; API_URL is a deployed stack")
    return _local_stacks[0].mailbox_url


@pytest.fixture(scope="session")
def local_dynamodb(api_url: str) -> Any:
    """A DynamoDB client of the local stack's DynamoDB Local, for the few checks that look
    behind the API (the background purge); such tests are skipped against API_URL."""
    if not _local_stacks:
        pytest.skip("looks at the local stack's DynamoDB; API_URL is a deployed stack")
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{_local_stacks[0].dynamodb_port}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


# --- every response checked against docs/openapi.yaml ---------------------------------

_checked_base: dict[str, str] = {}  # "host": api_url's scheme://host, "prefix": its path (/dev)
_contract_problems: list[str] = []  # found since the last check point (threads append)
_contract_lock = threading.Lock()


def _contract_problems_of(response: requests.Response) -> list[str]:
    """Why this response of the API is not one docs/openapi.yaml allows (empty if it is)."""
    request = response.request
    method = str(request.method)
    path = urlsplit(request.path_url).path
    prefix = _checked_base["prefix"]
    if prefix and (path == prefix or path.startswith(f"{prefix}/")):
        path = path[len(prefix) :] or "/"
    what = f"{method} {path} -> {response.status_code}"
    if not _deployed_url() and method == "GET" and path == "/openapi.json":
        return []  # the local runner's own route, not part of the API
    content_type = response.headers.get("Content-Type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        return [f"{what}: Content-Type {content_type!r}, not application/json"]
    try:
        # Stored values keep any number of digits (SPEC.md, "Data"): read them exactly.
        body = json.loads(response.content, parse_int=_exact_int, parse_float=Decimal)
    except ValueError:
        return [f"{what}: the body is not JSON: {response.content[:200]!r}"]
    try:
        return response_problems(method, path, response.status_code, body)
    except Exception as error:  # a document the checker cannot read is a problem too
        return [f"{what}: could not be checked: {error!r}"]


def _check_against_contract(response: requests.Response, *_: Any, **__: Any) -> None:
    """A requests response hook: record what the document does not allow."""
    url = urlsplit(str(response.request.url))
    if (
        "host" not in _checked_base
        or f"{url.scheme}://{url.netloc}".lower() != _checked_base["host"]
    ):
        return  # not the API under test
    problems = _contract_problems_of(response)
    if problems:
        with _contract_lock:
            _contract_problems.extend(problems)


def _fail_on_contract_problems(when: str) -> None:
    with _contract_lock:
        problems = list(_contract_problems)
        _contract_problems.clear()
    if problems:
        listed = "\n  ".join(problems)
        pytest.fail(
            f"{len(problems)} response(s) {when} do not match docs/openapi.yaml:\n  {listed}",
            pytrace=False,
        )


class CheckedSession(requests.Session):
    """A requests.Session with a default timeout whose every response from the API under
    test is checked against docs/openapi.yaml."""

    def __init__(self) -> None:
        super().__init__()
        self.hooks["response"].append(_check_against_contract)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", REQUEST_TIMEOUT_SECONDS)
        return super().request(method, url, *args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def contract_checked_sessions(api_url: str) -> Iterator[None]:
    """Responses from the API under test are checked from here on; what session
    fixtures received in their clean-up is checked when the session ends."""
    base = urlsplit(api_url)
    _checked_base["host"] = f"{base.scheme}://{base.netloc}".lower()
    _checked_base["prefix"] = base.path.rstrip("/")
    yield
    _fail_on_contract_problems("received outside any test (fixture clean-up)")


@pytest.fixture(scope="module", autouse=True)
def _contract_checked_module() -> Iterator[None]:
    yield
    _fail_on_contract_problems("received by this module's fixtures")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """A test that passed fails if it received a response outside the document (its
    fixtures' set-up included). If it failed anyway, its teardown reports them."""
    result = yield
    _fail_on_contract_problems("received by this test")
    return result


@pytest.fixture(autouse=True)
def _contract_checked_test(
    contract_checked_sessions: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """During each test every new requests.Session is a CheckedSession (the parallel
    tests open one per thread). At teardown: what the test's fixtures received in their
    clean-up, or what a test that failed anyway received."""
    monkeypatch.setattr(requests, "Session", CheckedSession)
    yield
    _fail_on_contract_problems("received by this test or its fixtures")


@pytest.fixture(scope="session")
def http(api_url: str, contract_checked_sessions: None) -> Iterator[requests.Session]:
    """A requests.Session with a default timeout whose responses are checked against
    docs/openapi.yaml (one per session: not thread-safe)."""
    with CheckedSession() as session:
        if api_url.startswith("http://127.0.0.1"):
            session.trust_env = False  # no proxy or .netrc credentials for the local stack
        yield session


# --- users ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def user(http: requests.Session, api_url: str) -> User:
    """A registered, logged-in user a module's tests share (each test uses its own keys)."""
    return new_user(http, api_url)


@pytest.fixture(scope="module")
def other(http: requests.Session, api_url: str) -> User:
    """A second registered user of the module, whose keys are a namespace of their own."""
    return new_user(http, api_url)


@pytest.fixture
def cleanup(http: requests.Session, api_url: str, user: User) -> Iterator[list[str]]:
    """Keys of `user` appended here are deleted after the test, whatever its outcome."""
    keys: list[str] = []
    yield keys
    for key in keys:
        delete_quietly(http, api_url, user.token, key)
