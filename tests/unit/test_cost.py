"""The cost model (bench/cost.py): a known configuration gives a known bill, the prices file
cites a pricing page for every service, and `make cost` prints its one line."""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from bench import cost
from bench.cost import Assumptions, Bill, Configuration, Measured, Route

PRICES = {
    "lambda": {
        "requests_per_million": 1.0,
        "arm64_per_gb_second": 0.00001,
        "snapstart_cache_per_gb_second": 0.000001,
        "snapstart_restore_per_gb": 0.0001,
    },
    "api_gateway": {"rest_per_million": 3.5, "http_per_million": 1.0},
    "dynamodb": {"read_request_units_per_million": 0.25, "write_request_units_per_million": 1.0},
    "cloudwatch_logs": {
        "standard_ingestion_per_gb": 0.5,
        "infrequent_access_ingestion_per_gb": 0.25,
        "storage_per_gb_month": 0.03,
    },
    "cloudwatch": {"alarm_metric_month": 0.1, "custom_metric_month": 0.3, "dashboard_month": 3.0},
    "xray": {"traces_recorded_per_million": 5.0},
    "waf": {"web_acl_month": 5.0, "rule_month": 1.0, "requests_per_million": 0.6},
    "secrets_manager": {"secret_month": 0.4, "api_calls_per_10k": 0.05},
    "kms": {"requests_per_10k": 0.03},
    "cognito": {"lite_per_mau": 0.0055},
}
CONFIG = Configuration(
    memory_mb={"get_item": 1024, "authorizer": 1024},
    authorizer_ttl_s=300,
    platform_logs=False,
    log_retention_days=30,
    tracing=False,
    sample_rate=0.01,
    reservoir_per_s=0,
    waf=False,
    waf_rules=1,
    access_log_bytes=None,
    access_log_infrequent=True,
    alarm_metrics=10,
    dashboards=0,
    custom_metrics=0,
    secret_functions=(),
)
MEASURED = Measured(
    warm_overhead_us={"get_item": 1000.0, "authorizer": 1000.0},
    cold_start_ms={"get_item": 0.0, "authorizer": 0.0},
    log_bytes={"get_item": 0.0, "authorizer": 0.0},
    dynamodb_requests={"get_item": 1, "authorizer": 1},
    bcrypt_ms=200.0,
)
# Every call a GetItem of 1 RRU behind the authorizer; a user calls every 30 s.
READS_ONLY = Assumptions(mix=(Route("get_item", 1.0, True, read_units=1, write_units=0),))


def test_a_known_configuration_gives_a_known_bill() -> None:
    bill = cost.model(1_000_000, CONFIG, MEASURED, PRICES, READS_ONLY)

    # TTL 300 s, a call every 30 s: one call in ten invokes the authorizer.
    assert bill.services["Lambda requests"] == pytest.approx(1.10)
    # 1 ms of code and one 6 ms DynamoDB request, 1 GB: 7 ms on 1.1 M invocations.
    assert bill.services["Lambda duration (arm64)"] == pytest.approx(0.077)
    assert bill.services["API Gateway (REST)"] == pytest.approx(3.50)
    # 1 M GetItems of 1 RRU, 0.1 M authorizations of 2 RRU.
    assert bill.services["DynamoDB (on-demand)"] == pytest.approx(0.30)
    assert bill.services["CloudWatch Logs"] == 0
    assert bill.services["CloudWatch alarms, metrics, dashboard"] == pytest.approx(1.00)
    assert bill.services["X-Ray"] == 0
    assert "WAF" not in bill.services
    assert bill.services["Secrets Manager and KMS"] == pytest.approx(0.40)
    assert bill.total == pytest.approx(6.377)
    assert bill.per_million == pytest.approx(6.377)


def test_tracing_waf_and_logs_add_what_they_cost() -> None:
    config = replace(
        CONFIG,
        tracing=True,
        waf=True,
        platform_logs=True,
        access_log_bytes=1024**3 / 1_000_000,  # 1 GB of access logs per million calls
    )
    bill = cost.model(1_000_000, config, MEASURED, PRICES, READS_ONLY)

    assert bill.services["X-Ray"] == pytest.approx(0.05)  # 1% of 1 M traces at $5 a million
    assert bill.services["WAF"] == pytest.approx(5 + 1 + 0.6)
    platform_gb = 1_100_000 * READS_ONLY.platform_log_bytes / 1024**3
    stored_gb = (platform_gb + 1) * READS_ONLY.log_compression * 30 * 24 / 730
    assert bill.services["CloudWatch Logs"] == pytest.approx(
        platform_gb * 0.5 + 1 * 0.25 + stored_gb * 0.03
    )


def test_snapstart_bills_restores_and_the_cached_snapshot_instead_of_the_init() -> None:
    """Given cold starts of 1 s at 1 GB, when SnapStart is on, then their INIT leaves the
    duration line and a restore per cold start plus a month of cached snapshot is billed."""
    measured = replace(MEASURED, cold_start_ms={"get_item": 1000.0, "authorizer": 1000.0})
    off = cost.model(1_000_000, CONFIG, measured, PRICES, READS_ONLY)
    on = cost.model(1_000_000, replace(CONFIG, snapstart=True), measured, PRICES, READS_ONLY)

    # One environment each, replaced every 2 h: 365 cold starts a month per function.
    cold_starts = 2 * 730 / READS_ONLY.environment_lifetime_hours
    assert off.services["Lambda duration (arm64)"] - on.services["Lambda duration (arm64)"] == (
        pytest.approx(cold_starts * 1.0 * 0.00001)
    )
    assert on.services["Lambda SnapStart"] == pytest.approx(
        cold_starts * 0.0001 + 2 * cost.SECONDS_PER_MONTH * 0.000001
    )
    assert "Lambda SnapStart" not in off.services


def test_the_contract_floor_is_the_gateway_functions_and_dynamodb_per_million() -> None:
    bill = cost.model(
        1_000_000, replace(CONFIG, waf=True, tracing=True), MEASURED, PRICES, READS_ONLY
    )

    # 3.50 API Gateway + 1.10 Lambda requests + 0.077 duration + 0.30 DynamoDB: not WAF,
    # X-Ray, alarms nor the secret.
    assert cost.contract_floor(bill) == pytest.approx(4.977)


@pytest.mark.parametrize(("ttl", "miss"), [(0, 1.0), (15, 1.0), (300, 0.1), (3600, 30 / 3600)])
def test_the_authorizer_cache_saves_all_but_one_call_per_ttl(ttl: int, miss: float) -> None:
    assert cost.authorizer_miss_rate(ttl, READS_ONLY) == pytest.approx(miss)


def test_the_line_names_the_volume_and_the_price_per_million() -> None:
    assert cost.per_million_line(Bill(100_000_000, {"x": 450.0})) == (
        "per million calls at 100M/month: $4.50"
    )


def test_every_price_table_cites_its_aws_pricing_page() -> None:
    text = cost.PRICES_PATH.read_text()
    tables = tomllib.loads(text)
    blocks = re.split(r"^\[(\w+)\]$", text, flags=re.MULTILINE)[1:]
    cited = {
        name: re.search(r"https://aws\.amazon\.com/[\w-]+/pricing/", body)
        for name, body in zip(blocks[::2], blocks[1::2], strict=True)
    }

    assert set(cited) == set(tables)
    assert all(cited.values()), [name for name, found in cited.items() if not found]


def test_make_cost_writes_the_document_and_prints_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "cost.md"
    monkeypatch.setattr(sys, "argv", ["bench.cost", "--output", str(output)])

    cost.main()

    (line,) = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"per million calls at 100M/month: \$\d+\.\d\d", line)
    document = output.read_text()
    assert line in document
    assert "| API Gateway (REST) |" in document
    assert "HTTP API" in document
    assert "Cognito" in document
